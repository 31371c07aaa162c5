// Scalar reference Q8_0 / Q4_0 quantization (see gguf_quantize.h for the formulas).
#include "io/gguf_quantize.h"

#include <algorithm>
#include <cmath>

#include "core/dtype.h"
#include "core/error.h"

namespace lmp {

void quantize_q8_0(const float* src, BlockQ8_0* dst, size_t n) {
  LMP_CHECK(n % kQuantBlock == 0, "quantize_q8_0: size must be a multiple of 32, found ", n);
  for (size_t b = 0; b < n / kQuantBlock; ++b) {
    const float* x = src + b * kQuantBlock;
    float amax = 0.0f;
    for (size_t j = 0; j < kQuantBlock; ++j) amax = std::max(amax, std::fabs(x[j]));
    const float d = amax / 127.0f, id = d != 0.0f ? 1.0f / d : 0.0f;
    dst[b].d = f32_to_f16(d);
    for (size_t j = 0; j < kQuantBlock; ++j) dst[b].qs[j] = int8_t(std::round(x[j] * id));
  }
}

void quantize_q4_0(const float* src, BlockQ4_0* dst, size_t n) {
  LMP_CHECK(n % kQuantBlock == 0, "quantize_q4_0: size must be a multiple of 32, found ", n);
  constexpr size_t half = kQuantBlock / 2;
  for (size_t b = 0; b < n / kQuantBlock; ++b) {
    const float* x = src + b * kQuantBlock;
    float amax = 0.0f, max = 0.0f;
    for (size_t j = 0; j < kQuantBlock; ++j)
      if (std::fabs(x[j]) > amax) amax = std::fabs(x[j]), max = x[j];
    const float d = max / -8.0f, id = d != 0.0f ? 1.0f / d : 0.0f;
    dst[b].d = f32_to_f16(d);
    auto code = [&](float v) { return uint8_t(std::min<int8_t>(15, int8_t(v * id + 8.5f))); };
    for (size_t j = 0; j < half; ++j) dst[b].qs[j] = uint8_t(code(x[j]) | (code(x[j + half]) << 4));
  }
}

}  // namespace lmp
