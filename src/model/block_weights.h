// BlockWeights: one transformer block's tensors converted to f32, in canonical [out, in] layout.
#pragma once
#include <string>

#include "core/tensor.h"
#include "io/checkpoint.h"

namespace lmp {

struct BlockWeights {
  Tensor attn_norm, ffn_norm;
  Tensor q, k, v, o, gate, up, down;      // [out, in]
  Tensor q_bias, k_bias, v_bias, o_bias;  // empty when the architecture has none

  // The weight of a linear by its leaf name ("self_attn.q_proj", "mlp.down_proj").
  Tensor& linear(const std::string& leaf);
  const Tensor& linear(const std::string& leaf) const;
  size_t nbytes() const;
};

BlockWeights load_block_weights(const Checkpoint& ckpt, int64_t block);

}  // namespace lmp
