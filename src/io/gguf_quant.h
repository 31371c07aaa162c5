// Scalar reference dequantization of ggml's Q8_0, Q4_0, Q4_K and Q6_K blocks (public GGUF block
// layouts, ggml-common.h; dequantize_row_* of ggml-quants.c). Q8_0 / Q4_0: 32 weights per block, one
// f16 scale d; Q8_0: x[j] = d * qs[j]; Q4_0: x[j] = d * ((qs[j] & 15) - 8) and
// x[j + 16] = d * ((qs[j] >> 4) - 8), j < 16.
// Q4_K (k-quants, llama.cpp PR #1684): a super-block of 256 weights = 8 sub-blocks of 32, each with a
// 6-bit scale sc_j and a 6-bit min m_j (packed in scales[12], see q4_k_scale_min), f16 d and dmin:
// x = d * sc_j * q - dmin * m_j, q the 4-bit code. qs: 32-byte chunk i holds sub-block 2i in its low
// nibbles and sub-block 2i+1 in its high nibbles (byte l: weight l of each).
// Q6_K: a super-block of 256 weights = 16 sub-blocks of 16, each with an int8 scale sc_j, and an f16 d:
// x = d * sc_j * (q - 32), q the 6-bit code (0..63) split into a low nibble (ql) and two high bits (qh),
// see q6_k_code.
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

constexpr size_t kSuperBlock = 256;  // QK_K: weights per k-quant super-block
constexpr size_t kSubBlocks = 8;     // Q4_K sub-blocks of 32 weights per super-block

struct BlockQ4_K {
  uint16_t d;                    // f16 super-block scale of the 6-bit sub-block scales
  uint16_t dmin;                 // f16 super-block scale of the 6-bit sub-block mins
  uint8_t scales[12];            // 8 scales and 8 mins, 6 bits each (q4_k_scale_min)
  uint8_t qs[kSuperBlock / 2];   // 4-bit codes, two sub-blocks per 32 bytes
};
static_assert(sizeof(BlockQ4_K) == 144, "Q4_K block must be 144 bytes");

constexpr size_t kQ6SubBlock = 16;  // Q6_K weights per sub-block (one int8 scale each)

struct BlockQ6_K {
  uint8_t ql[kSuperBlock / 2];              // low 4 bits of the codes
  uint8_t qh[kSuperBlock / 4];              // high 2 bits of the codes
  int8_t scales[kSuperBlock / kQ6SubBlock]; // 8-bit sub-block scales
  uint16_t d;                               // f16 super-block scale
};
static_assert(sizeof(BlockQ6_K) == 210, "Q6_K block must be 210 bytes");

// The 6-bit scale and min of sub-block j (0..7): j < 4: the low 6 bits of scales[j] and scales[j + 4];
// j >= 4: low nibbles from scales[j + 4] (scale) and its high nibble (min), the top two bits from bits
// 6-7 of scales[j - 4] (scale) and of scales[j] (min).
void q4_k_scale_min(const uint8_t* scales, size_t j, uint8_t& sc, uint8_t& m);
// The inverse: stores 6-bit `sc` and `m` (< 64) of sub-block j into scales[12] (zeroed beforehand).
void q4_k_set_scale_min(uint8_t* scales, size_t j, uint8_t sc, uint8_t m);

// The 6-bit code of weight i (0..255) of a Q6_K block. In each half h of 128 weights, weight
// 128h + 32k + l (k < 4, l < 32) keeps its low nibble in ql[64h + 32(k % 2) + l] (the low nibble for
// k < 2, the high one for k >= 2) and its top two bits in bits 2k, 2k+1 of qh[32h + l].
uint8_t q6_k_code(const BlockQ6_K& b, size_t i);
// The inverse: ORs code `q` (< 64) of weight i into ql and qh (zeroed beforehand).
void q6_k_set_code(BlockQ6_K& b, size_t i, uint8_t q);

// Dequantizes `n` weights (a multiple of 32; of 256 for Q4_K and Q6_K) from packed blocks at `src` (no
// alignment required).
void dequantize_q8_0(const void* src, float* dst, size_t n);
void dequantize_q4_0(const void* src, float* dst, size_t n);
void dequantize_q4_k(const void* src, float* dst, size_t n);
void dequantize_q6_k(const void* src, float* dst, size_t n);

}  // namespace lmp
