// Backward pass of one decoder block (model/block_forward.h) from the tape its forward recorded: the
// gradient of a loss w.r.t. the block's input and w.r.t. every trainable tensor (train/block_params.h),
// for AA-SVD's block-level refinement (Sinha & Fleuret, arXiv 2604.02119). The chain, in reverse:
//   x_mid = x_in + o(attn(rope(q(n1)), rope(k(n1)), v(n1))),  n1 = rms_norm(x_in)
//   y     = x_mid + down(silu(gate(n2)) ⊙ up(n2)),           n2 = rms_norm(x_mid)
#pragma once
#include "model/block_tape.h"
#include "model/block_weights.h"
#include "model/model_config.h"
#include "model/rope.h"
#include "train/block_params.h"

namespace lmp {

// dy [rows, hidden] = dL/d(block output) for the batch the tape holds. Writes dx [rows, hidden] =
// dL/d(block input) (skipped when null) and grads (reshaped to w's trainable tensors when it does not
// match them already, then every field overwritten). `w` must be the weights the tape was recorded with.
void block_backward(const ModelConfig& cfg, const BlockWeights& w, const Rope& rope, const BlockTape& tape,
                    const float* dy, float* dx, BlockGrads& grads);

}  // namespace lmp
