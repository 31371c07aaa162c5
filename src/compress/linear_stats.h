// LinearStats: calibration statistics of one linear's input, accumulated batch by batch. X̃ [rows, in]
// is the input the partly compressed model produces (the "shift" stream); X [rows, in] is the input the
// original model produces (the "orig" stream), needed only by methods anchored to the original outputs.
// Only what a method declares (StatFlags) is accumulated.
#pragma once
#include <cstdint>
#include <vector>

namespace lmp {

enum StatFlags : uint32_t {
  kStatNone = 0,
  kStatHessian = 1u << 0,   // H = Σ x̃ᵀx̃ over rows (GPTQ, SparseGPT); methods rescale as they need
  kStatColNorms = 1u << 1,  // Σ x̃_j² per input column (Wanda: ‖X_j‖₂²)
  kStatCross = 1u << 2,     // C = Σ xᵀx̃: original-model input against the compressed model's (AA-SVD);
                            // makes the pipeline carry the original model's activations too
  kStatOrigGram = 1u << 3,  // G = Σ xᵀx of the original model's input (SVD-LLM as the AA-SVD reference runs it)
};
// The statistics that make the pipeline carry the original model's stream.
constexpr uint32_t kStatNeedsOrig = kStatCross | kStatOrigGram;

struct LinearStats {
  int64_t in = 0;                // input features
  int64_t rows = 0;              // rows (tokens) accumulated
  std::vector<double> hessian;   // [in, in] row-major, Σ x̃ᵀx̃ (empty unless kStatHessian)
  std::vector<double> col_sq;    // [in], Σ x̃_j² (empty unless kStatColNorms)
  std::vector<double> cross;     // [in, in] row-major, C[i][j] = Σ x_i·x̃_j (empty unless kStatCross)
  std::vector<double> orig_gram; // [in, in] row-major, Σ xᵀx of the original input (empty unless kStatOrigGram)

  LinearStats() = default;
  LinearStats(int64_t in_features, uint32_t flags);
  bool needs_orig() const { return !cross.empty() || !orig_gram.empty(); }
  // Adds the rows of x̃ [rows, in] (f32) to every statistic that is enabled; `orig` [rows, in] holds the
  // original model's input for the same rows and is required when needs_orig().
  void accumulate(const float* x, int64_t rows, const float* orig = nullptr);
};

}  // namespace lmp
