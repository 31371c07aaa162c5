#include "train/block_backward.h"

#include <algorithm>
#include <vector>

#include "core/error.h"
#include "train/attention_backward.h"
#include "train/linear_backward.h"
#include "train/rms_norm_backward.h"
#include "train/rope_backward.h"
#include "train/swiglu_backward.h"

namespace lmp {

namespace {

void check_tape(const ModelConfig& cfg, const BlockTape& t) {
  const int64_t R = t.shape.rows(), dim = cfg.hidden_size, qd = cfg.q_dim(), kvd = cfg.kv_dim();
  const int64_t inter = cfg.intermediate_size;
  const auto expect = [&](const std::vector<float>& v, int64_t n, const char* what) {
    LMP_CHECK(int64_t(v.size()) == n, "block_backward: tape ", what, " holds ", v.size(), " values, expected ",
              n, " (", R, " rows); record it with block_forward(..., tape) on this config");
  };
  LMP_CHECK(R > 0, "block_backward: the tape holds no batch (rows = ", R, ")");
  const struct {
    const std::vector<float>& values;
    int64_t width;
    const char* name;
  } recorded[] = {{t.x_in, dim, "x_in"},   {t.inv_rms1, 1, "inv_rms1"}, {t.n1, dim, "n1"},
                  {t.q, qd, "q"},          {t.k, kvd, "k"},             {t.v, kvd, "v"},
                  {t.attn, qd, "attn"},    {t.x_mid, dim, "x_mid"},     {t.inv_rms2, 1, "inv_rms2"},
                  {t.n2, dim, "n2"},       {t.gate, inter, "gate"},     {t.up, inter, "up"},
                  {t.hidden, inter, "hidden"}};
  for (const auto& r : recorded) expect(r.values, R * r.width, r.name);
}

float* data_or_null(Tensor& t) { return t.empty() ? nullptr : t.f32(); }

// Backward of linear `leaf` on input x [R, in]: its weight (or factor) gradients into g, its bias
// gradient into d_bias (null: none), dL/dx into dx (added when accumulate).
void linear_back(const BlockWeights& w, const BlockTape& tape, BlockGrads& g, const std::string& leaf,
                 const float* x, const float* dy, float* dx, bool accumulate, float* d_bias) {
  const int64_t R = tape.shape.rows();
  const auto it = w.factors.find(leaf);
  if (it == w.factors.end())
    return linear_backward(x, R, w.linear(leaf), dy, dx, accumulate, g.linear(leaf).f32(), d_bias);
  const LowRankFactors& f = it->second;
  const auto xb = tape.low_rank.find(leaf);
  LMP_CHECK(xb != tape.low_rank.end() && int64_t(xb->second.size()) == R * f.rank(),
            "block_backward: the tape has no x·Bᵀ [", R, ", ", f.rank(), "] for factored ", leaf,
            "; record it with the same weights");
  LowRankFactors& gf = g.factors.at(leaf);
  linear_backward(x, xb->second.data(), R, f, dy, dx, accumulate, gf.a.f32(), gf.b.f32(), d_bias);
}

}  // namespace

void block_backward(const ModelConfig& cfg, const BlockWeights& w, const Rope& rope, const BlockTape& tape,
                    const float* dy, float* dx, BlockGrads& g) {
  check_tape(cfg, tape);
  const BatchShape& s = tape.shape;
  const int64_t R = s.rows(), dim = cfg.hidden_size, qd = cfg.q_dim(), kvd = cfg.kv_dim();
  const int64_t inter = cfg.intermediate_size;
  if (!grads_match(g, w)) g = zero_grads_like(w);

  // MLP sub-layer: y = x_mid + down(h), h = silu(gate)·up.
  std::vector<float> d_mid(dy, dy + R * dim);  // dL/dx_mid: the residual's share, the norm's added below
  std::vector<float> dh(size_t(R * inter)), d_up(size_t(R * inter)), dn(size_t(R * dim));
  linear_back(w, tape, g, "mlp.down_proj", tape.hidden.data(), dy, dh.data(), false, nullptr);
  swiglu_backward(tape.gate.data(), tape.up.data(), dh.data(), dh.data(), d_up.data(), R * inter);
  linear_back(w, tape, g, "mlp.gate_proj", tape.n2.data(), dh.data(), dn.data(), false, nullptr);
  linear_back(w, tape, g, "mlp.up_proj", tape.n2.data(), d_up.data(), dn.data(), true, nullptr);
  rms_norm_backward(tape.x_mid.data(), tape.inv_rms2.data(), w.ffn_norm.f32(), dn.data(), R, dim, d_mid.data(),
                    true, g.ffn_norm.f32());
  dh = {};
  d_up = {};

  // Attention sub-layer: x_mid = x_in + o(attn).
  std::vector<float> d_attn(size_t(R * qd)), dq(size_t(R * qd)), dk(size_t(R * kvd)), dv(size_t(R * kvd));
  linear_back(w, tape, g, "self_attn.o_proj", tape.attn.data(), d_mid.data(), d_attn.data(), false,
              data_or_null(g.o_bias));
  attention_backward(cfg, tape.q.data(), tape.k.data(), tape.v.data(), tape.attn.data(), d_attn.data(), s,
                     dq.data(), dk.data(), dv.data());
  rope_backward(rope, dq.data(), qd, cfg.num_heads, s);
  rope_backward(rope, dk.data(), kvd, cfg.num_kv_heads, s);
  linear_back(w, tape, g, "self_attn.q_proj", tape.n1.data(), dq.data(), dn.data(), false, data_or_null(g.q_bias));
  linear_back(w, tape, g, "self_attn.k_proj", tape.n1.data(), dk.data(), dn.data(), true, data_or_null(g.k_bias));
  linear_back(w, tape, g, "self_attn.v_proj", tape.n1.data(), dv.data(), dn.data(), true, data_or_null(g.v_bias));
  if (dx) std::copy(d_mid.begin(), d_mid.end(), dx);
  rms_norm_backward(tape.x_in.data(), tape.inv_rms1.data(), w.attn_norm.f32(), dn.data(), R, dim, dx, true,
                    g.attn_norm.f32());
}

}  // namespace lmp
