#include "io/gguf_quant.h"

#include <cstring>

#include "core/dtype.h"

namespace lmp {

namespace {

// Calls f(block, out) for each of the n / elems blocks at `src` (copied out: no alignment required),
// `out` the block's `elems` weights in `dst`.
template <typename Block, typename F>
void for_each_block(const void* src, float* dst, size_t n, size_t elems, F f) {
  const auto* p = static_cast<const uint8_t*>(src);
  for (size_t b = 0; b < n / elems; ++b) {
    Block blk;
    std::memcpy(&blk, p + b * sizeof(Block), sizeof blk);
    f(blk, dst + b * elems);
  }
}

// Where weight i of a Q6_K block keeps its code: ql byte and shift, qh byte and shift.
struct Q6Place {
  size_t lo, lo_shift, hi, hi_shift;
};

Q6Place q6_place(size_t i) {
  const size_t h = i / 128, k = i % 128 / 32, l = i % 32;
  return {64 * h + 32 * (k % 2) + l, 4 * (k / 2), 32 * h + l, 2 * k};
}

}  // namespace

void dequantize_q8_0(const void* src, float* dst, size_t n) {
  for_each_block<BlockQ8_0>(src, dst, n, kQuantBlock, [](const BlockQ8_0& blk, float* out) {
    const float d = f16_to_f32(blk.d);
    for (size_t j = 0; j < kQuantBlock; ++j) out[j] = d * float(blk.qs[j]);
  });
}

void dequantize_q4_0(const void* src, float* dst, size_t n) {
  for_each_block<BlockQ4_0>(src, dst, n, kQuantBlock, [](const BlockQ4_0& blk, float* out) {
    const float d = f16_to_f32(blk.d);
    for (size_t j = 0; j < kQuantBlock / 2; ++j) {
      out[j] = d * float(int(blk.qs[j] & 0x0f) - 8);
      out[j + kQuantBlock / 2] = d * float(int(blk.qs[j] >> 4) - 8);
    }
  });
}

void q4_k_scale_min(const uint8_t* q, size_t j, uint8_t& sc, uint8_t& m) {
  if (j < 4) {
    sc = q[j] & 63;
    m = q[j + 4] & 63;
  } else {
    sc = uint8_t((q[j + 4] & 0x0f) | ((q[j - 4] >> 6) << 4));
    m = uint8_t((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
  }
}

void q4_k_set_scale_min(uint8_t* q, size_t j, uint8_t sc, uint8_t m) {
  if (j < 4) {
    q[j] = uint8_t((q[j] & 0xc0) | sc);
    q[j + 4] = uint8_t((q[j + 4] & 0xc0) | m);
  } else {
    q[j + 4] = uint8_t((sc & 0x0f) | ((m & 0x0f) << 4));
    q[j - 4] = uint8_t(q[j - 4] | ((sc >> 4) << 6));
    q[j] = uint8_t(q[j] | ((m >> 4) << 6));
  }
}

void dequantize_q4_k(const void* src, float* dst, size_t n) {
  for_each_block<BlockQ4_K>(src, dst, n, kSuperBlock, [](const BlockQ4_K& blk, float* out) {
    const float d = f16_to_f32(blk.d), dmin = f16_to_f32(blk.dmin);
    for (size_t j = 0; j < kSubBlocks; ++j) {
      uint8_t sc, m;
      q4_k_scale_min(blk.scales, j, sc, m);
      const float dl = d * float(sc), ml = dmin * float(m);
      const uint8_t* q = blk.qs + (j / 2) * kQuantBlock;
      const int shift = j % 2 ? 4 : 0;
      for (size_t l = 0; l < kQuantBlock; ++l) out[j * kQuantBlock + l] = dl * float((q[l] >> shift) & 0x0f) - ml;
    }
  });
}

uint8_t q6_k_code(const BlockQ6_K& b, size_t i) {
  const Q6Place p = q6_place(i);
  return uint8_t(((b.ql[p.lo] >> p.lo_shift) & 0x0f) | (((b.qh[p.hi] >> p.hi_shift) & 3) << 4));
}

void q6_k_set_code(BlockQ6_K& b, size_t i, uint8_t q) {
  const Q6Place p = q6_place(i);
  b.ql[p.lo] = uint8_t(b.ql[p.lo] | ((q & 0x0f) << p.lo_shift));
  b.qh[p.hi] = uint8_t(b.qh[p.hi] | ((q >> 4) << p.hi_shift));
}

void dequantize_q6_k(const void* src, float* dst, size_t n) {
  for_each_block<BlockQ6_K>(src, dst, n, kSuperBlock, [](const BlockQ6_K& blk, float* out) {
    const float d = f16_to_f32(blk.d);
    for (size_t i = 0; i < kSuperBlock; ++i)  // (d * sc) * q, in ggml's order
      out[i] = d * float(blk.scales[i / kQ6SubBlock]) * float(int(q6_k_code(blk, i)) - 32);
  });
}

}  // namespace lmp
