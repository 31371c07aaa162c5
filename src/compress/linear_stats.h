// LinearStats: calibration statistics of one linear's input X [rows, in], accumulated batch by batch.
// Only what a method declares (StatFlags) is accumulated.
#pragma once
#include <cstdint>
#include <vector>

namespace lmp {

enum StatFlags : uint32_t {
  kStatNone = 0,
  kStatHessian = 1u << 0,   // H = Σ xᵀx over rows (GPTQ, SparseGPT); methods rescale as they need
  kStatColNorms = 1u << 1,  // Σ x_j² per input column (Wanda: ‖X_j‖₂²)
};

struct LinearStats {
  int64_t in = 0;                // input features
  int64_t rows = 0;              // rows (tokens) accumulated
  std::vector<double> hessian;   // [in, in] row-major, Σ xᵀx (empty unless kStatHessian)
  std::vector<double> col_sq;    // [in], Σ x_j² (empty unless kStatColNorms)

  LinearStats() = default;
  LinearStats(int64_t in_features, uint32_t flags);
  // Adds the rows of x [rows, in] (f32) to every statistic that is enabled.
  void accumulate(const float* x, int64_t rows);
};

}  // namespace lmp
