#include "io/gguf_quant.h"

#include <cstring>

#include "core/dtype.h"

namespace lmp {

void dequantize_q8_0(const void* src, float* dst, size_t n) {
  const auto* p = static_cast<const uint8_t*>(src);
  for (size_t b = 0; b < n / kQuantBlock; ++b) {
    BlockQ8_0 blk;
    std::memcpy(&blk, p + b * sizeof(BlockQ8_0), sizeof blk);
    const float d = f16_to_f32(blk.d);
    float* out = dst + b * kQuantBlock;
    for (size_t j = 0; j < kQuantBlock; ++j) out[j] = d * float(blk.qs[j]);
  }
}

void dequantize_q4_0(const void* src, float* dst, size_t n) {
  const auto* p = static_cast<const uint8_t*>(src);
  for (size_t b = 0; b < n / kQuantBlock; ++b) {
    BlockQ4_0 blk;
    std::memcpy(&blk, p + b * sizeof(BlockQ4_0), sizeof blk);
    const float d = f16_to_f32(blk.d);
    float* out = dst + b * kQuantBlock;
    for (size_t j = 0; j < kQuantBlock / 2; ++j) {
      out[j] = d * float(int(blk.qs[j] & 0x0f) - 8);
      out[j + kQuantBlock / 2] = d * float(int(blk.qs[j] >> 4) - 8);
    }
  }
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
  const auto* p = static_cast<const uint8_t*>(src);
  for (size_t b = 0; b < n / kSuperBlock; ++b) {
    BlockQ4_K blk;
    std::memcpy(&blk, p + b * sizeof(BlockQ4_K), sizeof blk);
    const float d = f16_to_f32(blk.d), dmin = f16_to_f32(blk.dmin);
    float* out = dst + b * kSuperBlock;
    for (size_t j = 0; j < kSubBlocks; ++j) {
      uint8_t sc, m;
      q4_k_scale_min(blk.scales, j, sc, m);
      const float dl = d * float(sc), ml = dmin * float(m);
      const uint8_t* q = blk.qs + (j / 2) * kQuantBlock;
      const int shift = j % 2 ? 4 : 0;
      for (size_t l = 0; l < kQuantBlock; ++l) out[j * kQuantBlock + l] = dl * float((q[l] >> shift) & 0x0f) - ml;
    }
  }
}

}  // namespace lmp
