#include "model/block_forward.h"

#include "core/error.h"
#include "linalg/gemm.h"
#include "model/attention.h"
#include "model/ops.h"

namespace lmp {

void block_forward(const ModelConfig& cfg, const BlockWeights& w, const Rope& rope, int64_t layer,
                   float* x, const BatchShape& s, KVCache* cache, BlockWorkspace& ws,
                   const LinearHook& hook) {
  const int64_t R = s.rows(), dim = cfg.hidden_size, qd = cfg.q_dim(), kvd = cfg.kv_dim();
  const int64_t inter = cfg.intermediate_size;
  const float eps = float(cfg.rms_norm_eps);
  ws.norm.resize(size_t(R * dim));
  ws.q.resize(size_t(R * qd));
  ws.k.resize(size_t(R * kvd));
  ws.v.resize(size_t(R * kvd));
  ws.attn.resize(size_t(R * qd));
  ws.gate.resize(size_t(R * inter));
  ws.up.resize(size_t(R * inter));

  // Attention sub-layer.
  rms_norm(x, w.attn_norm.f32(), ws.norm.data(), R, dim, eps);
  if (hook) {
    hook("self_attn.q_proj", ws.norm.data(), R, dim);
    hook("self_attn.k_proj", ws.norm.data(), R, dim);
    hook("self_attn.v_proj", ws.norm.data(), R, dim);
  }
  linear_forward(ws.norm.data(), R, w.q, w.q_bias, ws.q.data());
  linear_forward(ws.norm.data(), R, w.k, w.k_bias, ws.k.data());
  linear_forward(ws.norm.data(), R, w.v, w.v_bias, ws.v.data());
  apply_rope(rope, ws.q.data(), qd, cfg.num_heads, s);
  apply_rope(rope, ws.k.data(), kvd, cfg.num_kv_heads, s);
  if (cache) store_kv(*cache, layer, ws.k.data(), ws.v.data(), s);
  attention(cfg, ws.q.data(), ws.k.data(), ws.v.data(), cache, layer, s, ws.attn.data(), ws.scores);
  if (hook) hook("self_attn.o_proj", ws.attn.data(), R, qd);
  linear_forward(ws.attn.data(), R, w.o, w.o_bias, ws.norm.data());
  add_inplace(x, ws.norm.data(), R * dim);

  // MLP sub-layer (SwiGLU).
  rms_norm(x, w.ffn_norm.f32(), ws.norm.data(), R, dim, eps);
  if (hook) {
    hook("mlp.gate_proj", ws.norm.data(), R, dim);
    hook("mlp.up_proj", ws.norm.data(), R, dim);
  }
  linear_forward(ws.norm.data(), R, w.gate, Tensor(), ws.gate.data());
  linear_forward(ws.norm.data(), R, w.up, Tensor(), ws.up.data());
  silu_mul(ws.gate.data(), ws.up.data(), R * inter);
  if (hook) hook("mlp.down_proj", ws.gate.data(), R, inter);
  linear_forward(ws.gate.data(), R, w.down, Tensor(), ws.norm.data());
  add_inplace(x, ws.norm.data(), R * dim);
}

}  // namespace lmp
