// GPTQ's Quantizer.find_params (IST-DASLab/gptq, quant.py), weight mode, no MSE grid search.
// Deviation: with `scales_f16` the scale is rounded to f16 first (the GPTQ checkpoint stores f16 scales).
#include "compress/quant/quantizer.h"

#include <algorithm>
#include <cmath>

#include "core/dtype.h"

namespace lmp {

namespace {

float round_scale_f16(float s) {
  float r = f16_to_f32(f32_to_f16(s));
  if (r == 0.0f) r = f16_to_f32(1);  // the smallest f16 subnormal, 2^-24
  return r;
}

}  // namespace

QuantParams find_params(const float* x, int64_t n, int64_t stride, const QuantConfig& cfg) {
  float xmin = 0.0f, xmax = 0.0f;  // the range always includes 0
  for (int64_t i = 0; i < n; ++i) {
    const float v = x[i * stride];
    xmin = std::min(xmin, v);
    xmax = std::max(xmax, v);
  }
  if (cfg.sym) {
    xmax = std::max(std::fabs(xmin), xmax);
    if (xmin < 0) xmin = -xmax;
  }
  if (xmin == 0.0f && xmax == 0.0f) {
    xmin = -1.0f;
    xmax = 1.0f;
  }
  const float maxq = float(cfg.maxq());
  QuantParams p;
  p.scale = (xmax - xmin) / maxq;
  if (cfg.scales_f16) p.scale = round_scale_f16(p.scale);
  if (cfg.sym) {
    p.zero = (maxq + 1.0f) / 2.0f;
  } else {
    p.zero = std::fmin(std::fmax(std::nearbyint(-xmin / p.scale), 0.0f), maxq);
  }
  return p;
}

void find_params_rows(const float* w, int64_t rows, int64_t ld, int64_t c0, int64_t c1,
                      const QuantConfig& cfg, std::vector<QuantParams>& out) {
  out.resize(size_t(rows));
  for (int64_t r = 0; r < rows; ++r) out[size_t(r)] = find_params(w + r * ld + c0, c1 - c0, 1, cfg);
}

}  // namespace lmp
