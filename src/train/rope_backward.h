// Backward of RoPE (Su et al., RoFormer, arXiv 2104.09864, eq. 34): the rotation at each position is
// orthogonal, so the gradient goes back through its transpose, the rotation by the opposite angle.
#pragma once
#include <cstdint>

#include "model/block_forward.h"
#include "model/rope.h"

namespace lmp {

// In place on dx [rows, width] (heads of head_dim): the gradient w.r.t. the rows before apply_rope.
void rope_backward(const Rope& rope, float* dx, int64_t width, int64_t heads, const BatchShape& s);

}  // namespace lmp
