// Backward of causal grouped-query attention (model/attention.h, no KV cache): for each sequence and
// head, with S = scale·Q·Kᵀ (causal), P = softmax(S), O = P·V:
//   dV = Pᵀ·dO,  dP = dO·Vᵀ,  dS = P ⊙ (dP − rowsum(dO ⊙ O)),  dQ = scale·dS·K,  dK = scale·dSᵀ·Q
// (the rowsum identity of FlashAttention's memory-efficient backward, Dao et al., arXiv 2205.14135,
// App. B.2). P is not stored by the forward: it is recomputed here from q and k one row block at a
// time, so memory stays at two [row block, seq] buffers per thread instead of batch·heads·seq² floats.
#pragma once
#include <cstdint>

#include "model/block_forward.h"
#include "model/model_config.h"

namespace lmp {

// q [rows, q_dim], k, v [rows, kv_dim] (q and k after RoPE), out [rows, q_dim] the forward's result and
// d_out its gradient; every sequence of s starts at position 0. Writes dq [rows, q_dim], dk and dv
// [rows, kv_dim] (the gradients w.r.t. the rotated q and k).
void attention_backward(const ModelConfig& cfg, const float* q, const float* k, const float* v, const float* out,
                        const float* d_out, const BatchShape& s, float* dq, float* dk, float* dv);

}  // namespace lmp
