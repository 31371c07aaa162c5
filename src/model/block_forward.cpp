#include "model/block_forward.h"

#include "core/error.h"
#include "linalg/gemm.h"
#include "model/attention.h"
#include "model/block_tape.h"
#include "model/ops.h"

namespace lmp {

namespace {

// Linear `leaf` of the block on x [rows, in] into y [rows, out]: dense, or factored when w.factors holds
// it (its x·Bᵀ kept in the tape when there is one).
void block_linear(const BlockWeights& w, const char* leaf, const Tensor& bias, const float* x, int64_t rows,
                  int64_t in, int64_t out, float* y, BlockWorkspace& ws, BlockTape* tape) {
  const auto it = w.factors.find(leaf);
  if (it == w.factors.end()) {
    const Tensor& wt = w.linear(leaf);
    LMP_CHECK(!wt.empty(), "block_forward: linear ", leaf, " has neither a dense weight nor factors");
    return linear_forward(x, rows, wt, bias, y);
  }
  const LowRankFactors& f = it->second;
  LMP_CHECK(f.a.ndim() == 2 && f.b.ndim() == 2 && f.a.dim(0) == out && f.b.dim(1) == in &&
                f.a.dim(1) == f.b.dim(0),
            "block_forward: factors of ", leaf, ": expected a [", out, ", r] and b [r, ", in, "], found a ",
            shape_str(f.a.shape()), " and b ", shape_str(f.b.shape()));
  std::vector<float>& xb = tape ? tape->low_rank[leaf] : ws.low_rank;
  xb.resize(size_t(rows * f.rank()));
  linear_forward(x, rows, f, bias, xb.data(), y);
}

void record(std::vector<float>& dst, const float* src, int64_t n) { dst.assign(src, src + n); }

}  // namespace

void block_forward(const ModelConfig& cfg, const BlockWeights& w, const Rope& rope, int64_t layer,
                   float* x, const BatchShape& s, KVCache* cache, BlockWorkspace& ws,
                   const LinearHook& hook, BlockTape* tape) {
  const int64_t R = s.rows(), dim = cfg.hidden_size, qd = cfg.q_dim(), kvd = cfg.kv_dim();
  const int64_t inter = cfg.intermediate_size;
  const float eps = float(cfg.rms_norm_eps);
  if (tape) {
    LMP_CHECK(!cache, "block_forward: layer ", layer, ": a tape (training) cannot be recorded with a KV cache");
    for (int64_t b = 0; b < s.batch; ++b)
      LMP_CHECK(s.start_of(b) == 0, "block_forward: layer ", layer, ": a tape needs every sequence to start at "
                "position 0, sequence ", b, " starts at ", s.start_of(b));
    tape->shape = s;
    record(tape->x_in, x, R * dim);
    tape->inv_rms1.resize(size_t(R));
    tape->inv_rms2.resize(size_t(R));
  }
  ws.norm.resize(size_t(R * dim));
  ws.q.resize(size_t(R * qd));
  ws.k.resize(size_t(R * kvd));
  ws.v.resize(size_t(R * kvd));
  ws.attn.resize(size_t(R * qd));
  ws.gate.resize(size_t(R * inter));
  ws.up.resize(size_t(R * inter));

  // Attention sub-layer.
  rms_norm(x, w.attn_norm.f32(), ws.norm.data(), R, dim, eps, tape ? tape->inv_rms1.data() : nullptr);
  if (tape) record(tape->n1, ws.norm.data(), R * dim);
  if (hook) {
    hook("self_attn.q_proj", ws.norm.data(), R, dim);
    hook("self_attn.k_proj", ws.norm.data(), R, dim);
    hook("self_attn.v_proj", ws.norm.data(), R, dim);
  }
  block_linear(w, "self_attn.q_proj", w.q_bias, ws.norm.data(), R, dim, qd, ws.q.data(), ws, tape);
  block_linear(w, "self_attn.k_proj", w.k_bias, ws.norm.data(), R, dim, kvd, ws.k.data(), ws, tape);
  block_linear(w, "self_attn.v_proj", w.v_bias, ws.norm.data(), R, dim, kvd, ws.v.data(), ws, tape);
  apply_rope(rope, ws.q.data(), qd, cfg.num_heads, s);
  apply_rope(rope, ws.k.data(), kvd, cfg.num_kv_heads, s);
  if (cache) store_kv(*cache, layer, ws.k.data(), ws.v.data(), s);
  attention(cfg, ws.q.data(), ws.k.data(), ws.v.data(), cache, layer, s, ws.attn.data(), ws.scores);
  if (tape) {
    record(tape->q, ws.q.data(), R * qd);
    record(tape->k, ws.k.data(), R * kvd);
    record(tape->v, ws.v.data(), R * kvd);
    record(tape->attn, ws.attn.data(), R * qd);
  }
  if (hook) hook("self_attn.o_proj", ws.attn.data(), R, qd);
  block_linear(w, "self_attn.o_proj", w.o_bias, ws.attn.data(), R, qd, dim, ws.norm.data(), ws, tape);
  add_inplace(x, ws.norm.data(), R * dim);

  // MLP sub-layer (SwiGLU).
  if (tape) record(tape->x_mid, x, R * dim);
  rms_norm(x, w.ffn_norm.f32(), ws.norm.data(), R, dim, eps, tape ? tape->inv_rms2.data() : nullptr);
  if (tape) record(tape->n2, ws.norm.data(), R * dim);
  if (hook) {
    hook("mlp.gate_proj", ws.norm.data(), R, dim);
    hook("mlp.up_proj", ws.norm.data(), R, dim);
  }
  block_linear(w, "mlp.gate_proj", Tensor(), ws.norm.data(), R, dim, inter, ws.gate.data(), ws, tape);
  block_linear(w, "mlp.up_proj", Tensor(), ws.norm.data(), R, dim, inter, ws.up.data(), ws, tape);
  if (tape) {
    record(tape->gate, ws.gate.data(), R * inter);
    record(tape->up, ws.up.data(), R * inter);
  }
  silu_mul(ws.gate.data(), ws.up.data(), R * inter);
  if (tape) record(tape->hidden, ws.gate.data(), R * inter);
  if (hook) hook("mlp.down_proj", ws.gate.data(), R, inter);
  block_linear(w, "mlp.down_proj", Tensor(), ws.gate.data(), R, inter, dim, ws.norm.data(), ws, tape);
  add_inplace(x, ws.norm.data(), R * dim);
}

}  // namespace lmp
