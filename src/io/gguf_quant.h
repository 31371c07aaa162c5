// Scalar reference dequantization of ggml's Q8_0 and Q4_0 blocks (public GGUF block layout: 32 weights
// per block, one f16 scale d). Q8_0: x[j] = d * qs[j]. Q4_0: x[j] = d * ((qs[j] & 15) - 8) and
// x[j + 16] = d * ((qs[j] >> 4) - 8), j < 16.
#pragma once
#include <cstddef>
#include <cstdint>

namespace lmp {

constexpr size_t kQuantBlock = 32;

struct BlockQ8_0 {
  uint16_t d;               // f16 scale
  int8_t qs[kQuantBlock];
};
static_assert(sizeof(BlockQ8_0) == 34, "Q8_0 block must be 34 bytes");

struct BlockQ4_0 {
  uint16_t d;                   // f16 scale
  uint8_t qs[kQuantBlock / 2];  // low nibbles: weights 0..15, high nibbles: 16..31
};
static_assert(sizeof(BlockQ4_0) == 18, "Q4_0 block must be 18 bytes");

// Dequantizes `n` weights (a multiple of 32) from packed blocks at `src` (no alignment required).
void dequantize_q8_0(const void* src, float* dst, size_t n);
void dequantize_q4_0(const void* src, float* dst, size_t n);

}  // namespace lmp
