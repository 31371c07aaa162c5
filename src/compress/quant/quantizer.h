// GPTQ's Quantizer (IST-DASLab/gptq, quant.py): per output row, an affine grid over a set of columns,
// min-max with the range forced to include 0; `sym` uses max(|min|, max) and zero = (maxq + 1) / 2.
// With `mse`, the range is then shrunk to the one of least Σ|w − q(w)|^2.4 (the reference's mse=True;
// GPTQModel's `mse`, llm-compressor's MSE observer). All arithmetic in f32 as the reference does,
// rounding half to even (torch.round).
#pragma once
#include <cmath>
#include <cstdint>
#include <vector>

namespace lmp {

struct QuantConfig {
  int bits = 4;
  bool sym = false;
  bool scales_f16 = false;  // round each scale to the nearest f16 before zero and codes are derived
  bool mse = false;         // search shrunk ranges p·[min, max], p = 1, 0.99, ..., 0.21 (below)
  int maxq() const { return (1 << bits) - 1; }
  // The reference's search constants: the error norm, the grid of shrink factors, its lowest factor.
  static constexpr double kMseNorm = 2.4;
  static constexpr int kMseGrid = 100;
  static constexpr double kMseMaxShrink = 0.8;
};

// Grid of one (row, group): w ≈ scale · (q − zero).
struct QuantParams {
  float scale = 1.0f;
  float zero = 0.0f;
};

// Params of the n values x[0], x[stride], ..., x[(n-1)·stride].
QuantParams find_params(const float* x, int64_t n, int64_t stride, const QuantConfig& cfg);

// Params of every row of the column range [c0, c1) of a row-major matrix w [rows, ld].
void find_params_rows(const float* w, int64_t rows, int64_t ld, int64_t c0, int64_t c1,
                      const QuantConfig& cfg, std::vector<QuantParams>& out);

// The integer code of w: clamp(round(w / scale) + zero, 0, maxq); nearbyint rounds half to even under
// the default rounding mode, as torch.round does.
inline float quantize_code(float w, QuantParams p, int maxq) {
  const float q = std::nearbyint(w / p.scale) + p.zero;
  return std::fmin(std::fmax(q, 0.0f), float(maxq));
}
// The value of a code: scale · (q − zero).
inline float dequantize_code(float q, QuantParams p) { return p.scale * (q - p.zero); }

}  // namespace lmp

