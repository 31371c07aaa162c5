// FP8 E4M3 (OCP "OFP8" spec, 2023; torch.float8_e4m3fn): 1 sign, 4 exponent bits (bias 7), 3 mantissa
// bits; subnormals k·2^-9 (k = 1..7), largest normal 448 (0x7E), no infinities, 0x7F / 0xFF are NaN.
//
// The conversions are bit manipulation only — integer ops and one exact float add / subtract — so they
// are branch-free, vectorize, and give the same bits under any compiler flags (nothing to contract).
// Encoding saturates: |x| > 448 (and ±inf) gives ±448, as torch's x.clamp(-448, 448).to(float8_e4m3fn).
// Rounding is to nearest, ties to even. A NaN input encodes to +0 (0x00): the hot path cannot afford a
// throw, and its callers check their inputs; fp8_e4m3_try_encode() reports NaN instead.
#pragma once
#include <bit>
#include <cstdint>

namespace lmp {

namespace fp8_detail {
constexpr uint32_t kAbsMask = 0x7FFFFFFFu;
constexpr uint32_t kF32Inf = 0x7F800000u;
constexpr uint32_t kF32Max448 = 0x43E00000u;     // 448.0f
constexpr uint32_t kF32MinNormal = 0x3C800000u;  // 2^-6, the smallest normal E4M3 value
constexpr float kSubMagic = 16384.0f;            // 2^14: floats in [2^14, 2^15) step by 2^-9
constexpr uint32_t kSubMagicBits = 0x46800000u;

// c ? a : b as a bit mask, so that loops stay free of control flow and vectorize.
constexpr uint32_t select(bool c, uint32_t a, uint32_t b) {
  const uint32_t m = 0u - uint32_t(c);
  return (a & m) | (b & ~m);
}

// |x| (as f32 bits, already ≤ 448) rounded to nearest-even on the E4M3 grid, as f32 bits.
constexpr uint32_t round_abs_bits(uint32_t a) {
  // Normal range: drop 20 of the 23 mantissa bits, ties to even (a carry may bump the exponent).
  const uint32_t normal = (a + 0x7FFFFu + ((a >> 20) & 1u)) & 0xFFF00000u;
  // Subnormal range: adding 2^14 rounds to a multiple of 2^-9 (the default FP rounding is RNE);
  // subtracting it again is exact.
  const float sub = (std::bit_cast<float>(a) + kSubMagic) - kSubMagic;
  return select(a < kF32MinNormal, std::bit_cast<uint32_t>(sub), normal);
}
}  // namespace fp8_detail

// The E4M3 byte nearest to x (RNE, saturating at ±448; −0 and negative values that round to zero give
// 0x80; NaN gives 0x00). Never returns 0x7F or 0xFF.
constexpr uint8_t fp8_e4m3_encode(float x) {
  using namespace fp8_detail;
  const uint32_t b = std::bit_cast<uint32_t>(x);
  const uint32_t sign = (b >> 24) & 0x80u;
  uint32_t a = b & kAbsMask;
  const bool nan = a > kF32Inf;
  a = a < kF32Max448 ? a : kF32Max448;
  // Normal: rebias the exponent (127 → 7) on the value rounded to 3 mantissa bits.
  const uint32_t normal = (((a + 0x7FFFFu + ((a >> 20) & 1u)) >> 20) - (120u << 3)) & 0x7Fu;
  // Subnormal: the code is k = round(|x|·2^9) (k = 8 is 2^-6 = code 0x08, the smallest normal).
  const uint32_t sub = std::bit_cast<uint32_t>(std::bit_cast<float>(a) + kSubMagic) - kSubMagicBits;
  const uint32_t code = select(a < kF32MinNormal, sub, normal) | sign;
  return uint8_t(select(nan, 0u, code));
}

// x rounded onto the E4M3 grid, as a float: exactly fp8_e4m3_decode(fp8_e4m3_encode(x)) (−0 for
// negative values that round to zero, +0 for NaN), without going through the byte.
constexpr float fp8_e4m3_round(float x) {
  using namespace fp8_detail;
  const uint32_t b = std::bit_cast<uint32_t>(x);
  const uint32_t sign = b & 0x80000000u;
  uint32_t a = b & kAbsMask;
  const bool nan = a > kF32Inf;
  a = a < kF32Max448 ? a : kF32Max448;
  const uint32_t r = round_abs_bits(a) | sign;
  return std::bit_cast<float>(select(nan, 0u, r));
}

// The value of E4M3 byte c (exact; NaN for 0x7F and 0xFF).
constexpr float fp8_e4m3_decode_bits(uint8_t c) {
  const uint32_t sign = uint32_t(c & 0x80u) << 24;
  const uint32_t e = (c >> 3) & 0xFu, m = c & 7u;
  if (e == 15 && m == 7) return std::bit_cast<float>(sign | 0x7FC00000u);
  if (e == 0) return std::bit_cast<float>(sign | std::bit_cast<uint32_t>(float(m) * (1.0f / 512.0f)));
  return std::bit_cast<float>(sign | ((e + 120u) << 23) | (m << 20));
}

// The 256 values of the E4M3 bytes, indexed by the byte.
const float* fp8_e4m3_table();

inline float fp8_e4m3_decode(uint8_t c) { return fp8_e4m3_table()[c]; }

// fp8_e4m3_encode(x) into `code`, or false (code untouched) when x is NaN.
bool fp8_e4m3_try_encode(float x, uint8_t& code);

}  // namespace lmp
