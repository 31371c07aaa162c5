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

}  // namespace lmp
