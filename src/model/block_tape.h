// BlockTape: what block_forward records, on request, for the backward pass of one block over one batch
// (AA-SVD block refinement, train/block_backward.h). The attention probabilities are not kept: the
// backward recomputes them per (sequence, head, row block) from q and k, as FlashAttention's backward
// does (Dao et al., arXiv 2205.14135, App. B.2), so the tape grows linearly with the sequence length.
// Per row it holds 4·hidden + 2·q_dim + 2·kv_dim + 3·intermediate + 2 floats, plus the rank of every
// factored linear (nbytes() gives the total).
#pragma once
#include <map>
#include <string>
#include <vector>

#include "model/block_forward.h"

namespace lmp {

struct BlockTape {
  BatchShape shape;
  std::vector<float> x_in;      // [rows, hidden]  the block's input (attention norm input)
  std::vector<float> inv_rms1;  // [rows]          1 / rms of each row of x_in
  std::vector<float> n1;        // [rows, hidden]  attention norm output: q/k/v input
  std::vector<float> q, k, v;   // [rows, q_dim], [rows, kv_dim], [rows, kv_dim]; q and k after RoPE
  std::vector<float> attn;      // [rows, q_dim]   attention output: o_proj input
  std::vector<float> x_mid;     // [rows, hidden]  residual after attention (MLP norm input)
  std::vector<float> inv_rms2;  // [rows]
  std::vector<float> n2;        // [rows, hidden]  MLP norm output: gate/up input
  std::vector<float> gate, up;  // [rows, intermediate] pre-activations
  std::vector<float> hidden;    // [rows, intermediate] silu(gate)·up: down_proj input
  std::map<std::string, std::vector<float>> low_rank;  // factored leaf -> x·Bᵀ [rows, rank]

  size_t nbytes() const {
    size_t n = 0;
    for (const auto* v : {&x_in, &inv_rms1, &n1, &q, &k, &v, &attn, &x_mid, &inv_rms2, &n2, &gate, &up, &hidden})
      n += v->size();
    for (const auto& [leaf, v] : low_rank) n += v.size();
    return n * sizeof(float);
  }
};

}  // namespace lmp
