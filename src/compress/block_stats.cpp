#include "compress/block_stats.h"

#include <algorithm>

#include "core/error.h"
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

void CalibActivations::release_rows(int64_t r0, int64_t rows) const {
  const int64_t total = n * seq;
  if (total <= 0) return;
  const size_t width = x.size() / size_t(total);
  x.release(size_t(r0) * width, size_t(rows) * width);
  x_orig.release(size_t(r0) * width, size_t(rows) * width);
}

namespace {

// Calls fn(samples, row_offset, rows) for each batch of samples.
template <typename Fn>
void for_each_batch(const CalibActivations& a, Fn&& fn) {
  for (int64_t s0 = 0; s0 < a.n; s0 += a.batch) {
    const int64_t ns = std::min(a.batch, a.n - s0);
    fn(ns, s0 * a.seq, ns * a.seq);
    a.release_rows(s0 * a.seq, ns * a.seq);
  }
}

// The steps of one block on a batch of rows under weights `w` (block_forward's maths, split at the
// inputs of the four linear groups so the pipeline can stop and compress between them).
class SubLayers {
 public:
  SubLayers(const Model& m, const BlockWeights& w) : c_(m.config()), rope_(m.rope()), w_(w) {}

  int64_t dim() const { return c_.hidden_size; }
  int64_t q_dim() const { return c_.q_dim(); }
  int64_t inter() const { return c_.intermediate_size; }

  // n1 = rms_norm(x): the input of q/k/v.
  void attn_input(const float* x, int64_t rows, float* n1) const {
    rms_norm(x, w_.attn_norm.f32(), n1, rows, dim(), float(c_.rms_norm_eps));
  }
  // a = attention(q(n1), k(n1), v(n1)): the input of o.
  void attention_output(const float* n1, int64_t samples, int64_t seq, float* a) {
    const int64_t rows = samples * seq;
    q_.resize(size_t(rows * c_.q_dim()));
    k_.resize(size_t(rows * c_.kv_dim()));
    v_.resize(size_t(rows * c_.kv_dim()));
    linear_forward(n1, rows, w_.q, w_.q_bias, q_.data());
    linear_forward(n1, rows, w_.k, w_.k_bias, k_.data());
    linear_forward(n1, rows, w_.v, w_.v_bias, v_.data());
    const BatchShape shape{samples, seq, {}};
    apply_rope(rope_, q_.data(), c_.q_dim(), c_.num_heads, shape);
    apply_rope(rope_, k_.data(), c_.kv_dim(), c_.num_kv_heads, shape);
    attention(c_, q_.data(), k_.data(), v_.data(), nullptr, 0, shape, a, scores_);
  }
  // x += o(a).
  void add_attention(const float* a, int64_t rows, float* x) {
    tmp_.resize(size_t(rows * dim()));
    linear_forward(a, rows, w_.o, w_.o_bias, tmp_.data());
    add_inplace(x, tmp_.data(), rows * dim());
  }
  // n2 = rms_norm(x): the input of gate/up.
  void mlp_input(const float* x, int64_t rows, float* n2) const {
    rms_norm(x, w_.ffn_norm.f32(), n2, rows, dim(), float(c_.rms_norm_eps));
  }
  // m = silu(gate(n2)) · up(n2): the input of down.
  void mlp_hidden(const float* n2, int64_t rows, float* m) {
    up_.resize(size_t(rows * inter()));
    linear_forward(n2, rows, w_.gate, Tensor(), m);
    linear_forward(n2, rows, w_.up, Tensor(), up_.data());
    silu_mul(m, up_.data(), rows * inter());
  }
  // x += down(m).
  void add_mlp(const float* m, int64_t rows, float* x) {
    tmp_.resize(size_t(rows * dim()));
    linear_forward(m, rows, w_.down, Tensor(), tmp_.data());
    add_inplace(x, tmp_.data(), rows * dim());
  }

 private:
  const ModelConfig& c_;
  const Rope& rope_;
  const BlockWeights& w_;
  std::vector<float> q_, k_, v_, scores_, up_, tmp_;
};

// The inputs of the four linear groups for every calibration row, as the original model computes them
// from the orig stream (stored only for the groups whose statistics need it).
struct OrigInputs {
  std::array<std::vector<float>, 4> in;  // [rows, width of group g] or empty
  const float* at(size_t g, int64_t row, int64_t width) const { return in[g].data() + row * width; }
};

// Advances the orig stream (if carried) through the block's original weights, capturing the inputs of
// the groups whose flags ask for the original inputs (kStatNeedsOrig).
OrigInputs advance_orig_stream(const Model& model, int64_t layer, CalibActivations& act, const GroupFlags& flags) {
  OrigInputs o;
  for (const uint32_t f : flags)
    LMP_CHECK(!(f & kStatNeedsOrig) || act.tracks_orig(), "compress: a method needs the original model's inputs, "
              "but the pipeline is not carrying the original model's activations");
  if (!act.tracks_orig()) return o;
  const BlockWeights& w = model.block(layer);  // the model's own weights: not yet replaced
  SubLayers orig(model, w);
  const int64_t dim = orig.dim(), widths[4] = {dim, orig.q_dim(), dim, orig.inter()};
  bool any = false;
  for (size_t g = 0; g < 4; ++g)
    if (flags[g] & kStatNeedsOrig) {
      o.in[g].resize(size_t(act.n * act.seq * widths[g]));
      any = true;
    }
  BlockWorkspace ws;
  std::vector<float> n1, a, n2, m;
  for_each_batch(act, [&](int64_t ns, int64_t r0, int64_t rows) {
    float* x = act.x_orig.data() + r0 * dim;
    if (!any) return block_forward(model.config(), w, model.rope(), layer, x, BatchShape{ns, act.seq, {}}, nullptr, ws);
    // Group g's input goes straight into o.in[g] when stored, else into a batch buffer.
    const auto buf = [&](size_t g, std::vector<float>& scratch) {
      if (!o.in[g].empty()) return o.in[g].data() + r0 * widths[g];
      scratch.resize(size_t(rows * widths[g]));
      return scratch.data();
    };
    float *p1 = buf(0, n1), *pa = buf(1, a), *p2 = buf(2, n2), *pm = buf(3, m);
    orig.attn_input(x, rows, p1);
    orig.attention_output(p1, ns, act.seq, pa);
    orig.add_attention(pa, rows, x);
    orig.mlp_input(x, rows, p2);
    orig.mlp_hidden(p2, rows, pm);
    orig.add_mlp(pm, rows, x);
  });
  return o;
}

// Accumulates group g's statistics for rows [r0, r0 + rows) of the shift stream input x.
void accumulate(LinearStats& s, const OrigInputs& orig, size_t g, const float* x, int64_t r0, int64_t rows) {
  s.accumulate(x, rows, orig.in[g].empty() ? nullptr : orig.at(g, r0, s.in));
}

}  // namespace

void run_block_staged(const Model& model, int64_t layer, BlockWeights& w, CalibActivations& act,
                      const GroupFlags& flags, const GroupCompressor& compress) {
  const OrigInputs orig = advance_orig_stream(model, layer, act, flags);
  SubLayers sub(model, w);  // reads `w`, which `compress` updates group by group
  const int64_t dim = sub.dim(), qd = sub.q_dim(), inter = sub.inter(), N = act.n * act.seq;
  const bool keep = act.keep_sublayer_outputs;
  const auto& groups = block_linear_groups();
  std::vector<float> norm;
  // Attention outputs and MLP hidden states: all rows when kept (each is needed again after the linear
  // that reads it is compressed), else one batch, recomputed when needed again.
  std::vector<float> attn(size_t((keep ? N : act.batch * act.seq) * qd));
  std::vector<float> mlp(size_t((keep ? N : act.batch * act.seq) * inter));
  const auto attn_at = [&](int64_t r0) { return attn.data() + (keep ? r0 : 0) * qd; };
  const auto mlp_at = [&](int64_t r0) { return mlp.data() + (keep ? r0 : 0) * inter; };
  const auto attention = [&](int64_t ns, int64_t r0, int64_t rows) {
    norm.resize(size_t(rows * dim));
    sub.attn_input(act.x.data() + r0 * dim, rows, norm.data());
    sub.attention_output(norm.data(), ns, act.seq, attn_at(r0));
  };
  const auto mlp_hidden = [&](int64_t r0, int64_t rows) {
    norm.resize(size_t(rows * dim));
    sub.mlp_input(act.x.data() + r0 * dim, rows, norm.data());
    sub.mlp_hidden(norm.data(), rows, mlp_at(r0));
  };

  LinearStats s_qkv(dim, flags[0]);
  for_each_batch(act, [&](int64_t, int64_t r0, int64_t rows) {
    norm.resize(size_t(rows * dim));
    sub.attn_input(act.x.data() + r0 * dim, rows, norm.data());
    accumulate(s_qkv, orig, 0, norm.data(), r0, rows);
  });
  compress(groups[0], s_qkv);
  s_qkv = LinearStats();  // done with: each group's statistics are freed before the next's

  LinearStats s_o(qd, flags[1]);  // attention output under the compressed q/k/v
  for_each_batch(act, [&](int64_t ns, int64_t r0, int64_t rows) {
    attention(ns, r0, rows);
    accumulate(s_o, orig, 1, attn_at(r0), r0, rows);
  });
  compress(groups[1], s_o);
  s_o = LinearStats();

  LinearStats s_gu(dim, flags[2]);  // the residual stream after the compressed attention
  for_each_batch(act, [&](int64_t ns, int64_t r0, int64_t rows) {
    if (!keep) attention(ns, r0, rows);
    sub.add_attention(attn_at(r0), rows, act.x.data() + r0 * dim);
    norm.resize(size_t(rows * dim));
    sub.mlp_input(act.x.data() + r0 * dim, rows, norm.data());
    accumulate(s_gu, orig, 2, norm.data(), r0, rows);
  });
  compress(groups[2], s_gu);
  s_gu = LinearStats();

  LinearStats s_down(inter, flags[3]);  // silu(gate)·up under the compressed gate/up
  for_each_batch(act, [&](int64_t, int64_t r0, int64_t rows) {
    mlp_hidden(r0, rows);
    accumulate(s_down, orig, 3, mlp_at(r0), r0, rows);
  });
  compress(groups[3], s_down);
  s_down = LinearStats();

  for_each_batch(act, [&](int64_t, int64_t r0, int64_t rows) {  // output with the compressed down_proj
    if (!keep) mlp_hidden(r0, rows);
    sub.add_mlp(mlp_at(r0), rows, act.x.data() + r0 * dim);
  });
}

void run_block_whole(const Model& model, int64_t layer, BlockWeights& w, CalibActivations& act,
                     const GroupFlags& flags, const GroupCompressor& compress) {
  const OrigInputs orig = advance_orig_stream(model, layer, act, flags);
  SubLayers sub(model, w);
  const int64_t dim = sub.dim(), qd = sub.q_dim(), inter = sub.inter();
  LinearStats s_qkv(dim, flags[0]), s_o(qd, flags[1]), s_gu(dim, flags[2]), s_down(inter, flags[3]);
  std::vector<float> x, norm, attn, mlp;
  for_each_batch(act, [&](int64_t ns, int64_t r0, int64_t rows) {  // one forward, original weights
    x.assign(act.x.data() + r0 * dim, act.x.data() + (r0 + rows) * dim);
    norm.resize(size_t(rows * dim));
    attn.resize(size_t(rows * qd));
    mlp.resize(size_t(rows * inter));
    sub.attn_input(x.data(), rows, norm.data());
    accumulate(s_qkv, orig, 0, norm.data(), r0, rows);
    sub.attention_output(norm.data(), ns, act.seq, attn.data());
    accumulate(s_o, orig, 1, attn.data(), r0, rows);
    sub.add_attention(attn.data(), rows, x.data());
    sub.mlp_input(x.data(), rows, norm.data());
    accumulate(s_gu, orig, 2, norm.data(), r0, rows);
    sub.mlp_hidden(norm.data(), rows, mlp.data());
    accumulate(s_down, orig, 3, mlp.data(), r0, rows);  // down_proj's output is not needed
  });
  const auto& groups = block_linear_groups();
  compress(groups[0], s_qkv);
  compress(groups[1], s_o);
  compress(groups[2], s_gu);
  compress(groups[3], s_down);
  advance_stream(model, layer, w, act);
}

void advance_stream(const Model& model, int64_t layer, const BlockWeights& w, CalibActivations& act) {
  const int64_t dim = model.config().hidden_size;
  BlockWorkspace ws;
  for_each_batch(act, [&](int64_t ns, int64_t r0, int64_t) {
    block_forward(model.config(), w, model.rope(), layer, act.x.data() + r0 * dim, BatchShape{ns, act.seq, {}},
                  nullptr, ws);
  });
}

LinearStats head_stats(const Model& model, const CalibActivations& act, uint32_t flags) {
  LMP_CHECK(!(flags & kStatNeedsOrig) || act.tracks_orig(), "compress: lm_head's method needs the original "
            "model's inputs, but the pipeline is not carrying the original model's activations");
  const int64_t dim = model.config().hidden_size;
  const float eps = float(model.config().rms_norm_eps);
  LinearStats s(dim, flags);
  std::vector<float> norm, norm_orig;
  for_each_batch(act, [&](int64_t, int64_t r0, int64_t rows) {
    norm.resize(size_t(rows * dim));
    rms_norm(act.x.data() + r0 * dim, model.final_norm().f32(), norm.data(), rows, dim, eps);
    if (s.needs_orig()) {
      norm_orig.resize(size_t(rows * dim));
      rms_norm(act.x_orig.data() + r0 * dim, model.final_norm().f32(), norm_orig.data(), rows, dim, eps);
    }
    s.accumulate(norm.data(), rows, s.needs_orig() ? norm_orig.data() : nullptr);
  });
  return s;
}

}  // namespace lmp
