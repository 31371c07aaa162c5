// BlockWeights: one transformer block's tensors converted to f32, in canonical [out, in] layout.
#pragma once
#include <map>
#include <string>

#include "core/tensor.h"
#include "io/checkpoint.h"

namespace lmp {

// A linear stored as two factors, W ≈ A·B with A [out, rank] and B [rank, in] (low-rank methods,
// compress/lowrank/): it runs as y = (x·Bᵀ)·Aᵀ, two GEMMs of rank columns.
struct LowRankFactors {
  Tensor a, b;  // F32
  int64_t rank() const { return a.empty() ? 0 : a.dim(1); }
};

struct BlockWeights {
  Tensor attn_norm, ffn_norm;
  Tensor q, k, v, o, gate, up, down;      // [out, in]
  Tensor q_bias, k_bias, v_bias, o_bias;  // empty when the architecture has none
  // Linears that run factored, by leaf ("mlp.up_proj"); such a linear's dense tensor above may be empty.
  std::map<std::string, LowRankFactors> factors;

  // The weight of a linear by its leaf name ("self_attn.q_proj", "mlp.down_proj").
  Tensor& linear(const std::string& leaf);
  const Tensor& linear(const std::string& leaf) const;
  size_t nbytes() const;
};

// `factored`: linears the checkpoint stores as two factors go into `factors` (their dense tensor left
// empty); otherwise every linear is dense (factored ones as their product).
// `reuse`: a block of the same shapes whose buffers are no longer needed (the one streamed before): its
// tensors are converted into in place, sparing the allocation and the page faults.
BlockWeights load_block_weights(const Checkpoint& ckpt, int64_t block, bool factored = false,
                                BlockWeights reuse = {});

}  // namespace lmp
