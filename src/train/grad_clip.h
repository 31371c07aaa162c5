// Gradient clipping by the global 2-norm, torch.nn.utils.clip_grad_norm_ (norm_type 2): the norm is
// taken over every gradient together, and when max_norm / (norm + 1e-6) < 1 every gradient is scaled
// by that factor. The norm is accumulated in double (torch: per-tensor norms in f32, then their norm),
// in an order that does not depend on the thread count.
#pragma once
#include <cstdint>
#include <span>

namespace lmp {

struct GradSlot {
  float* grad;
  int64_t n;
};

// Returns the total norm before clipping (inf or nan when a gradient is; nothing is scaled then).
double clip_grad_norm(std::span<const GradSlot> grads, double max_norm);

}  // namespace lmp
