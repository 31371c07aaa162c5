// AdamW (Loshchilov & Hutter, arXiv 1711.05101, Algorithm 2) with torch.optim.AdamW's semantics
// (amsgrad off, maximize off, the single-tensor path), step t = 1, 2, ...:
//   p ← p·(1 − lr·wd)                                  decoupled weight decay, first
//   m ← m + (1 − β1)·(g − m);  v ← β2·v + (1 − β2)·g²
//   p ← p − (lr / (1 − β1ᵗ)) · m / (sqrt(v) / sqrt(1 − β2ᵗ) + eps)
// Scalars in double, rounded to f32 where torch rounds them (it multiplies f32 tensors by them).
#pragma once
#include <cstdint>
#include <span>
#include <vector>

namespace lmp {

struct AdamWOptions {
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
  double weight_decay = 0.01;  // torch's default for AdamW, and the AA-SVD reference's
};

// One tensor the optimizer updates: n values and their gradient.
struct ParamSlot {
  float* value;
  const float* grad;
  int64_t n;
};

class AdamW {
 public:
  explicit AdamW(AdamWOptions o = {});
  // One step over every slot at learning rate lr. The first call fixes the slots' count and sizes (the
  // moments start at zero); later calls must pass the same.
  void step(std::span<const ParamSlot> params, double lr);
  int64_t steps() const { return t_; }
  const AdamWOptions& options() const { return o_; }

 private:
  AdamWOptions o_;
  int64_t t_ = 0;
  std::vector<std::vector<float>> m_, v_;
};

}  // namespace lmp
