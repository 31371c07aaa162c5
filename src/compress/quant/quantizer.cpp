// GPTQ's Quantizer.find_params (IST-DASLab/gptq, quant.py), weight mode, with its optional MSE search.
// Deviations: with `scales_f16` the scale is rounded to f16 first (the GPTQ checkpoint stores f16 scales);
// the MSE search sums its f32 error terms in f64 (the reference in f32) and takes |d|^2.4 from libmvec's
// powf (the reference from torch.pow); either can only matter on near-ties.
#include "compress/quant/quantizer.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "core/dtype.h"
#include "linalg/vector_math.h"

namespace lmp {

namespace {

float round_scale_f16(float s) {
  float r = round_to_f16(s);
  if (r == 0.0f) r = f16_to_f32(1);  // the smallest f16 subnormal, 2^-24
  return r;
}

// The grid of the range [xmin, xmax] (which includes 0).
QuantParams range_params(float xmin, float xmax, const QuantConfig& cfg) {
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

constexpr int64_t kMseChunk = 128;  // values per partial sum of the search's error

// Σ |x − q(x)|^norm over the n contiguous values, summed per chunk of kMseChunk. Returns early, with a
// value ≥ bound, once the partial sum reaches `bound`: the terms are non-negative and only a strictly
// smaller total can win, so the search's choice is the same as with full sums. `resid` is scratch of
// kMseChunk floats.
double grid_error(const float* x, int64_t n, QuantParams p, int maxq, double bound, float* resid) {
  double err = 0.0;
  for (int64_t c0 = 0; c0 < n && err < bound; c0 += kMseChunk) {
    const int64_t m = std::min(kMseChunk, n - c0);
    const float* xc = x + c0;
#pragma omp simd
    for (int64_t i = 0; i < m; ++i) resid[i] = dequantize_code(quantize_code(xc[i], p, maxq), p) - xc[i];
    err += sum_abs_pow(resid, m, float(QuantConfig::kMseNorm));
  }
  return err;
}

// The reference's search: ranges p·[xmin, xmax] for p = 1 − i / grid, i < maxshrink · grid; the first of
// the least error wins (so p = 1, plain min-max, unless a shrunk range is strictly better).
QuantParams mse_params(const float* x, int64_t n, int64_t stride, float xmin, float xmax, const QuantConfig& cfg) {
  std::vector<float> xs(size_t(n + kMseChunk));  // the values, contiguous, then the residuals of a chunk
  for (int64_t i = 0; i < n; ++i) xs[size_t(i)] = x[i * stride];
  QuantParams best;
  double best_err = std::numeric_limits<double>::infinity();
  const int steps = int(QuantConfig::kMseMaxShrink * QuantConfig::kMseGrid);
  for (int i = 0; i < steps; ++i) {
    const float p = float(1.0 - double(i) / QuantConfig::kMseGrid);
    const QuantParams cand = range_params(p * xmin, p * xmax, cfg);
    const double err = grid_error(xs.data(), n, cand, cfg.maxq(), best_err, xs.data() + n);
    if (err < best_err) {
      best_err = err;
      best = cand;
    }
  }
  return best;
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
  return cfg.mse ? mse_params(x, n, stride, xmin, xmax, cfg) : range_params(xmin, xmax, cfg);
}

void find_params_rows(const float* w, int64_t rows, int64_t ld, int64_t c0, int64_t c1,
                      const QuantConfig& cfg, std::vector<QuantParams>& out) {
  out.resize(size_t(rows));
  // Rows are independent, so threads change nothing; only the MSE search is worth spreading.
#pragma omp parallel for schedule(static) if (cfg.mse && rows > 1)
  for (int64_t r = 0; r < rows; ++r) out[size_t(r)] = find_params(w + r * ld + c0, c1 - c0, 1, cfg);
}

}  // namespace lmp
