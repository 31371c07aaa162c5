// Wanda (Sun et al., ICLR 2024, "A Simple and Effective Pruning Approach for LLMs", eq. 1):
// S_ij = |W_ij|·‖X_j‖₂, the floor(sparsity·in) lowest of each output row zeroed (ties: lowest column
// first, as torch.sort(stable=True)), or the N lowest of every M consecutive columns of a row.
// ‖X_j‖₂ = sqrt(Σ x_j²); the reference divides by the sample count first, which does not change a row's
// ranking. Scores are f32 like the reference's.
#include <cmath>
#include <vector>

#include "compress/prune/prune_mask.h"
#include "compress/prune/prune_methods.h"
#include "compress/prune/prune_pattern.h"
#include "core/error.h"

namespace lmp {
namespace {

// ‖X_j‖₂ per input column, checked against the weight's input size.
std::vector<float> column_norms(const std::string& tensor, const LinearStats& stats, int64_t in) {
  LMP_CHECK(int64_t(stats.col_sq.size()) == in, "wanda: ", tensor, ": column norms: expected ", in,
            " values, found ", stats.col_sq.size());
  std::vector<float> norm(static_cast<size_t>(in));
  for (int64_t j = 0; j < in; ++j) {
    const double v = stats.col_sq[size_t(j)];
    LMP_CHECK(std::isfinite(v) && v >= 0.0, "wanda: ", tensor, ": column norm ", j, " is ", v,
              ": expected a finite value >= 0");
    norm[size_t(j)] = float(std::sqrt(v));
  }
  return norm;
}

class WandaMethod : public LinearMethod {
 public:
  explicit WandaMethod(PrunePattern p) : pattern_(p) {}
  std::string name() const override { return "wanda"; }
  uint32_t needs() const override { return kStatColNorms; }
  Kind produces() const override { return Kind::Sparse; }

  CompressedLinear compress(const std::string& tensor, const Tensor& weight,
                            const LinearStats& stats) const override {
    check_prunable(name(), tensor, weight, pattern_);
    const int64_t out = weight.dim(0), in = weight.dim(1);
    const std::vector<float> norm = column_norms(tensor, stats, in);
    const int64_t k = int64_t(double(in) * pattern_.sparsity);
    Tensor mask = Tensor::zeros(DType::U8, {out, in});
    auto* keep = static_cast<uint8_t*>(mask.mutable_data());
    const float* w = weight.f32();
#pragma omp parallel if (out * in >= (int64_t(1) << 16))
    {
      std::vector<float> score(static_cast<size_t>(in));
#pragma omp for schedule(static)
      for (int64_t r = 0; r < out; ++r) {
        for (int64_t j = 0; j < in; ++j) score[size_t(j)] = std::fabs(w[r * in + j]) * norm[size_t(j)];
        if (pattern_.is_nm())
          mask_nm(score.data(), in, pattern_.n, pattern_.m, keep + r * in);
        else
          mask_lowest(score.data(), in, k, keep + r * in);
      }
    }
    return sparse_linear(weight.to_f32(), std::move(mask));
  }

 private:
  PrunePattern pattern_;
};

}  // namespace

std::unique_ptr<LinearMethod> make_wanda_method(const MethodSpec& spec) {
  return std::make_unique<WandaMethod>(prune_pattern("wanda", spec));
}

}  // namespace lmp
