// Magnitude pruning, layer-wise as in locuslab/wanda `prune_magnitude`: one threshold on |W| for the
// whole matrix, or the N smallest |w| of every M consecutive input columns of a row.
// As the reference, t = the value at index k = floor(sparsity·numel) of the ascending sort of |W| and
// every |w| <= t is zeroed: k + 1 weights plus all ties with t. With bf16 checkpoints ties are common
// (lm-s at 50%: 0.27% more zeros than k) and exactly k moved lm-s perplexity 0.37% off the anchor.
// N:M ties (torch.topk leaves their order unspecified): lowest column first.
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
  Kind produces() const override { return Kind::Sparse; }

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
      mask_at_or_below(score.data(), numel, int64_t(double(numel) * pattern_.sparsity), keep);
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
