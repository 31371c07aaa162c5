#include "compress/block_stats.h"

#include <algorithm>

#include "model/attention.h"
#include "model/ops.h"

namespace lmp {

const std::vector<std::vector<std::string>>& block_linear_groups() {
  static const std::vector<std::vector<std::string>> g = {
      {"self_attn.k_proj", "self_attn.v_proj", "self_attn.q_proj"},
      {"self_attn.o_proj"},
      {"mlp.up_proj", "mlp.gate_proj"},
      {"mlp.down_proj"}};
  return g;
}

namespace {

// Calls fn(first_sample, samples, row_offset, rows) for each batch of samples.
template <typename Fn>
void for_each_batch(const CalibActivations& a, Fn&& fn) {
  for (int64_t s0 = 0; s0 < a.n; s0 += a.batch) {
    const int64_t ns = std::min(a.batch, a.n - s0);
    fn(ns, s0 * a.seq, ns * a.seq);
  }
}

// Attention output a [rows, q_dim] of the normalized input n1 [rows, hidden] under the current weights.
void attention_output(const ModelConfig& c, const Rope& rope, const BlockWeights& w, const float* n1,
                      int64_t samples, int64_t seq, std::vector<float>& q, std::vector<float>& k,
                      std::vector<float>& v, std::vector<float>& scores, float* a) {
  const int64_t rows = samples * seq;
  q.resize(size_t(rows * c.q_dim()));
  k.resize(size_t(rows * c.kv_dim()));
  v.resize(size_t(rows * c.kv_dim()));
  linear_forward(n1, rows, w.q, w.q_bias, q.data());
  linear_forward(n1, rows, w.k, w.k_bias, k.data());
  linear_forward(n1, rows, w.v, w.v_bias, v.data());
  const BatchShape shape{samples, seq, {}};
  apply_rope(rope, q.data(), c.q_dim(), c.num_heads, shape);
  apply_rope(rope, k.data(), c.kv_dim(), c.num_kv_heads, shape);
  attention(c, q.data(), k.data(), v.data(), nullptr, 0, shape, a, scores);
}

}  // namespace

void run_block_staged(const Model& model, int64_t /*layer*/, BlockWeights& w, CalibActivations& act,
                      uint32_t flags, const GroupCompressor& compress) {
  const ModelConfig& c = model.config();
  const int64_t dim = c.hidden_size, qd = c.q_dim(), inter = c.intermediate_size, N = act.n * act.seq;
  const float eps = float(c.rms_norm_eps);
  const auto& groups = block_linear_groups();
  std::vector<float> norm, q, k, v, scores, gate, up;
  std::vector<float> attn(size_t(N * qd));  // kept: needed again after o_proj is compressed
  std::vector<float> mlp(size_t(N * inter));  // kept: needed again after down_proj is compressed

  // {q,k,v}: statistics of rms_norm(x).
  LinearStats s_qkv(dim, flags);
  for_each_batch(act, [&](int64_t, int64_t r0, int64_t rows) {
    norm.resize(size_t(rows * dim));
    rms_norm(act.x.data() + r0 * dim, w.attn_norm.f32(), norm.data(), rows, dim, eps);
    s_qkv.accumulate(norm.data(), rows);
  });
  compress(groups[0], s_qkv);

  // o: attention output under the compressed q/k/v.
  LinearStats s_o(qd, flags);
  for_each_batch(act, [&](int64_t ns, int64_t r0, int64_t rows) {
    norm.resize(size_t(rows * dim));
    rms_norm(act.x.data() + r0 * dim, w.attn_norm.f32(), norm.data(), rows, dim, eps);
    attention_output(c, model.rope(), w, norm.data(), ns, act.seq, q, k, v, scores, attn.data() + r0 * qd);
    s_o.accumulate(attn.data() + r0 * qd, rows);
  });
  compress(groups[1], s_o);

  // {gate,up}: rms_norm of the residual stream after the compressed attention.
  LinearStats s_gu(dim, flags);
  for_each_batch(act, [&](int64_t, int64_t r0, int64_t rows) {
    norm.resize(size_t(rows * dim));
    linear_forward(attn.data() + r0 * qd, rows, w.o, w.o_bias, norm.data());
    add_inplace(act.x.data() + r0 * dim, norm.data(), rows * dim);
    rms_norm(act.x.data() + r0 * dim, w.ffn_norm.f32(), norm.data(), rows, dim, eps);
    s_gu.accumulate(norm.data(), rows);
  });
  compress(groups[2], s_gu);

  // down: silu(gate)·up under the compressed gate/up.
  LinearStats s_down(inter, flags);
  for_each_batch(act, [&](int64_t, int64_t r0, int64_t rows) {
    norm.resize(size_t(rows * dim));
    up.resize(size_t(rows * inter));
    float* m = mlp.data() + r0 * inter;
    rms_norm(act.x.data() + r0 * dim, w.ffn_norm.f32(), norm.data(), rows, dim, eps);
    linear_forward(norm.data(), rows, w.gate, Tensor(), m);
    linear_forward(norm.data(), rows, w.up, Tensor(), up.data());
    silu_mul(m, up.data(), rows * inter);
    s_down.accumulate(m, rows);
  });
  compress(groups[3], s_down);

  // Block output with the compressed down_proj.
  for_each_batch(act, [&](int64_t, int64_t r0, int64_t rows) {
    norm.resize(size_t(rows * dim));
    linear_forward(mlp.data() + r0 * inter, rows, w.down, Tensor(), norm.data());
    add_inplace(act.x.data() + r0 * dim, norm.data(), rows * dim);
  });
}

void run_block_whole(const Model& model, int64_t layer, BlockWeights& w, CalibActivations& act,
                     uint32_t flags, const GroupCompressor& compress) {
  const ModelConfig& c = model.config();
  const int64_t dim = c.hidden_size;
  const auto& groups = block_linear_groups();
  std::map<std::string, LinearStats> stats;  // by the first leaf of each group
  std::map<std::string, std::string> group_of;
  for (const auto& g : groups) {
    for (const auto& leaf : g) group_of[leaf] = g.front();
  }
  BlockWorkspace ws;
  std::vector<float> tmp;
  const LinearHook hook = [&](const std::string& leaf, const float* x, int64_t rows, int64_t cols) {
    const std::string& key = group_of.at(leaf);
    if (leaf != key) return;  // the group shares one input: count it once
    auto it = stats.try_emplace(key, cols, flags).first;
    it->second.accumulate(x, rows);
  };
  for_each_batch(act, [&](int64_t ns, int64_t r0, int64_t rows) {
    tmp.assign(act.x.begin() + r0 * dim, act.x.begin() + (r0 + rows) * dim);
    block_forward(c, w, model.rope(), layer, tmp.data(), BatchShape{ns, act.seq, {}}, nullptr, ws, hook);
  });
  for (const auto& g : groups) compress(g, stats.at(g.front()));
  for_each_batch(act, [&](int64_t ns, int64_t r0, int64_t) {
    block_forward(c, w, model.rope(), layer, act.x.data() + r0 * dim, BatchShape{ns, act.seq, {}}, nullptr, ws);
  });
}

}  // namespace lmp
