// Magnitude pruning, layer-wise as in locuslab/wanda `prune_magnitude`: one threshold on |W| for the
// whole matrix, or the N smallest |w| of every M consecutive input columns of a row.
// Deviation: exactly k = floor(sparsity·numel) weights are zeroed (ties: lowest row-major index first);
// the reference zeroes every |w| <= the sorted value at index k, i.e. k + 1 plus ties.
#include <cmath>
#include <vector>

#include "compress/prune/prune_mask.h"
#include "compress/prune/prune_methods.h"
#include "compress/prune/prune_pattern.h"

namespace lmp {
namespace {

class MagnitudeMethod : public LinearMethod {
 public:
  explicit MagnitudeMethod(PrunePattern p) : pattern_(p) {}
  std::string name() const override { return "magnitude"; }
  uint32_t needs() const override { return kStatNone; }

  CompressedLinear compress(const std::string& tensor, const Tensor& weight,
                            const LinearStats&) const override {
    check_prunable(name(), tensor, weight, pattern_);
    const int64_t out = weight.dim(0), in = weight.dim(1), numel = weight.numel();
    std::vector<float> score(static_cast<size_t>(numel));
    const float* w = weight.f32();
    for (int64_t i = 0; i < numel; ++i) score[size_t(i)] = std::fabs(w[i]);
    Tensor mask = Tensor::zeros(DType::U8, {out, in});
    auto* keep = static_cast<uint8_t*>(mask.mutable_data());
    if (pattern_.is_nm()) {
      for (int64_t r = 0; r < out; ++r)
        mask_nm(score.data() + r * in, in, pattern_.n, pattern_.m, keep + r * in);
    } else {
      mask_lowest(score.data(), numel, int64_t(double(numel) * pattern_.sparsity), keep);
    }
    return sparse_linear(weight.to_f32(), std::move(mask));
  }

 private:
  PrunePattern pattern_;
};

}  // namespace

std::unique_ptr<LinearMethod> make_magnitude_method(const MethodSpec& spec) {
  return std::make_unique<MagnitudeMethod>(prune_pattern("magnitude", spec));
}

}  // namespace lmp
