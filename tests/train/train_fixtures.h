// Small random blocks and finite-difference checks shared by the train/ tests.
#pragma once
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "model/block_weights.h"
#include "model/model_config.h"

namespace lmp::test {

// hidden 16, 4 heads of 4 (2 KV heads), intermediate 24. qwen2: q/k/v biases (Qwen2's attention_bias);
// llama_bias: LLaMA's attention_bias (q/k/v and o biases).
inline ModelConfig tiny_config(bool qwen2 = false, bool llama_bias = false) {
  ModelConfig c;
  c.arch = qwen2 ? "qwen2" : "llama";
  c.hidden_size = 16;
  c.intermediate_size = 24;
  c.num_layers = 1;
  c.num_heads = 4;
  c.num_kv_heads = 2;
  c.head_dim = 4;
  c.max_position_embeddings = 64;
  c.rms_norm_eps = 1e-5;
  c.rope_theta = qwen2 ? 1000000.0 : 10000.0;
  c.attention_bias = qwen2 || llama_bias;
  c.o_proj_bias = llama_bias;
  return c;
}

inline std::vector<float> random_values(int64_t n, std::mt19937& rng, float scale, float mean = 0.0f) {
  std::normal_distribution<float> nd(0.0f, 1.0f);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = mean + scale * nd(rng);
  return v;
}

inline Tensor random_tensor(Shape shape, std::mt19937& rng, float scale, float mean = 0.0f) {
  const int64_t n = shape_numel(shape);
  return Tensor::from_f32(std::move(shape), random_values(n, rng, scale, mean));
}

// Random weights (entries ~ N(0, 1/in), norms ~ 1 ± 0.2) with the leaves in `factored` held as factors
// of rank `rank` (their dense field left empty).
inline BlockWeights random_block(const ModelConfig& c, uint32_t seed, const std::vector<std::string>& factored = {},
                                 int64_t rank = 6) {
  std::mt19937 rng(seed);
  const int64_t dim = c.hidden_size, qd = c.q_dim(), kvd = c.kv_dim(), inter = c.intermediate_size;
  BlockWeights w;
  w.attn_norm = random_tensor({dim}, rng, 0.2f, 1.0f);
  w.ffn_norm = random_tensor({dim}, rng, 0.2f, 1.0f);
  const struct { const char* leaf; int64_t out, in; } shapes[] = {
      {"self_attn.q_proj", qd, dim},   {"self_attn.k_proj", kvd, dim}, {"self_attn.v_proj", kvd, dim},
      {"self_attn.o_proj", dim, qd},   {"mlp.gate_proj", inter, dim},  {"mlp.up_proj", inter, dim},
      {"mlp.down_proj", dim, inter}};
  for (const auto& s : shapes) {
    if (std::find(factored.begin(), factored.end(), s.leaf) != factored.end()) {
      // a·b has entries ~ N(0, 1/in), as a dense weight would.
      w.factors[s.leaf] = {random_tensor({s.out, rank}, rng, 1.0f / std::sqrt(float(rank))),
                           random_tensor({rank, s.in}, rng, 1.0f / std::sqrt(float(s.in)))};
    } else {
      w.linear(s.leaf) = random_tensor({s.out, s.in}, rng, 1.0f / std::sqrt(float(s.in)));
    }
  }
  if (c.attention_bias) {
    w.q_bias = random_tensor({qd}, rng, 0.3f);
    w.k_bias = random_tensor({kvd}, rng, 0.3f);
    w.v_bias = random_tensor({kvd}, rng, 0.3f);
  }
  if (c.o_proj_bias) w.o_bias = random_tensor({dim}, rng, 0.3f);
  return w;
}

inline double dot(const std::vector<float>& a, const std::vector<float>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += double(a[i]) * double(b[i]);
  return s;
}

// Central difference of loss() in *p: (L(p + h) − L(p − h)) / (the f32 step actually taken); *p restored.
inline double central_diff(float* p, float h, const std::function<double()>& loss) {
  const float p0 = *p, hi = p0 + h, lo = p0 - h;
  *p = hi;
  const double lh = loss();
  *p = lo;
  const double ll = loss();
  *p = p0;
  return (lh - ll) / (double(hi) - double(lo));
}

// Checks every entry of `analytic` (n values) against central differences of loss() in values[0..n):
// the worst |analytic − numeric| over the group, relative to the group's largest numeric entry, stays
// below tol, and the group's gradient is not trivially zero.
inline void expect_gradient(const std::string& what, float* values, const float* analytic, int64_t n,
                            const std::function<double()>& loss, double tol = 1e-2, float h = 1e-2f) {
  double worst = 0, scale = 0;
  int64_t at = 0;
  std::vector<double> numeric(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    numeric[size_t(i)] = central_diff(values + i, h, loss);
    scale = std::max(scale, std::fabs(numeric[size_t(i)]));
  }
  for (int64_t i = 0; i < n; ++i) {
    const double e = std::fabs(double(analytic[i]) - numeric[size_t(i)]);
    if (e > worst) worst = e, at = i;
  }
  EXPECT_GT(scale, 1e-3) << what << ": the gradient is (nearly) zero, the check would prove nothing";
  EXPECT_LT(worst, tol * scale) << what << ": worst at #" << at << ": analytic " << analytic[at] << " vs numeric "
                                << numeric[size_t(at)] << " (group scale " << scale << ", " << n << " entries)";
}

}  // namespace lmp::test
