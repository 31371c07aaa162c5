// GPTQ: equals RTN when H is a multiple of I, lowers the proxy loss on correlated inputs, act-order
// groups (non-monotone g_idx) reproduce the weight from the grid, dead columns, an unblocked reference.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>

#include "compress/quant/gptq.h"
#include "compress/inverse_hessian.h"
#include "compress/quant/quant_grid.h"
#include "compress/quant/quant_methods.h"
#include "compress/quant/rtn.h"
#include "core/error.h"
#include "test_util.h"

namespace lmp {
namespace {

using test::random_weight;

// Correlated inputs: x = z · A with A a random mixing plus per-column scales (spread diag H).
LinearStats correlated_stats(int64_t in, int64_t rows, uint32_t seed, int dead_col = -1) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> n(0.0, 1.0);
  std::vector<double> a(size_t(in * in));
  for (int64_t i = 0; i < in; ++i)
    for (int64_t j = 0; j < in; ++j) a[size_t(i * in + j)] = (i == j ? 1.0 : 0.0) + 0.3 * n(rng);
  LinearStats s(in, kStatHessian);
  std::vector<float> x(static_cast<size_t>(in));
  std::vector<double> z(static_cast<size_t>(in));
  for (int64_t r = 0; r < rows; ++r) {
    for (double& v : z) v = n(rng);
    for (int64_t j = 0; j < in; ++j) {
      double acc = 0;
      for (int64_t i = 0; i < in; ++i) acc += z[size_t(i)] * a[size_t(i * in + j)];
      x[size_t(j)] = float(acc * (1.0 + double(j % 7)));
    }
    if (dead_col >= 0) x[size_t(dead_col)] = 0.0f;
    s.accumulate(x.data(), 1);
  }
  return s;
}

LinearStats scaled_identity(int64_t in, double c) {
  LinearStats s;
  s.in = in;
  s.rows = 10;
  s.hessian.assign(size_t(in * in), 0.0);
  for (int64_t j = 0; j < in; ++j) s.hessian[size_t(j * in + j)] = c;
  return s;
}

double proxy_loss(const Tensor& w, const Tensor& q, const LinearStats& s) {
  const int64_t out = w.dim(0), in = w.dim(1);
  double total = 0;
  for (int64_t r = 0; r < out; ++r) {
    std::vector<double> e(static_cast<size_t>(in));
    for (int64_t j = 0; j < in; ++j) e[size_t(j)] = double(w.f32()[r * in + j]) - q.f32()[r * in + j];
    for (int64_t i = 0; i < in; ++i)
      for (int64_t j = 0; j < in; ++j) total += e[size_t(i)] * s.hessian[size_t(i * in + j)] * e[size_t(j)];
  }
  return total;
}

bool bit_equal(const Tensor& a, const Tensor& b) { return test::bit_identical(a, b); }

GptqOptions options(int bits, int64_t group, bool act_order = false, bool static_groups = false) {
  GptqOptions o;
  o.cfg = {bits, false};
  o.group = group;
  o.act_order = act_order;
  o.static_groups = static_groups;
  return o;
}

TEST(QuantGptq, ScaledIdentityHessianEqualsRtn) {
  const Tensor w = random_weight(16, 200, 1);
  for (int64_t group : {int64_t(-1), int64_t(32), int64_t(128)}) {
    CompressedLinear g = gptq_quantize("w", w, scaled_identity(200, 3.5), options(3, group));
    CompressedLinear r = rtn_quantize(w, {3, false}, group);
    EXPECT_TRUE(bit_equal(g.weight, r.weight)) << "group " << group;
    EXPECT_TRUE(bit_equal(g.quant->codes, r.quant->codes));
    EXPECT_TRUE(bit_equal(g.quant->scales, r.quant->scales));
    EXPECT_EQ(g.quant->g_idx, r.quant->g_idx);
  }
}

TEST(QuantGptq, LowerProxyLossThanRtnOnCorrelatedInputs) {
  const int64_t in = 96;
  const Tensor w = random_weight(24, in, 2);
  const LinearStats s = correlated_stats(in, 400, 3);
  for (int64_t group : {int64_t(-1), int64_t(32)}) {
    const double lg = proxy_loss(w, gptq_quantize("w", w, s, options(3, group)).weight, s);
    const double lr = proxy_loss(w, rtn_quantize(w, {3, false}, group).weight, s);
    EXPECT_LT(lg, 0.8 * lr) << "group " << group;
  }
  const double la = proxy_loss(w, gptq_quantize("w", w, s, options(3, 32, true)).weight, s);
  EXPECT_LT(la, 0.8 * proxy_loss(w, rtn_quantize(w, {3, false}, 32).weight, s));
}

TEST(QuantGptq, ActOrderGroupsAreNonMonotoneAndReproduceTheWeight) {
  const int64_t in = 96;
  const Tensor w = random_weight(8, in, 4);
  const LinearStats s = correlated_stats(in, 300, 5);
  CompressedLinear c = gptq_quantize("w", w, s, options(4, 16, true));
  const QuantGrid& g = *c.quant;
  EXPECT_TRUE(g_idx_is_permuted(g));
  EXPECT_FALSE(std::is_sorted(g.g_idx.begin(), g.g_idx.end()));
  std::vector<int> per_group(6, 0);
  for (int32_t gi : g.g_idx) per_group[size_t(gi)]++;
  for (int n : per_group) EXPECT_EQ(n, 16);
  // the largest diag(H) column is first in permuted order: group 0
  int64_t best = 0;
  for (int64_t j = 1; j < in; ++j)
    if (s.hessian[size_t(j * in + j)] > s.hessian[size_t(best * in + best)]) best = j;
  EXPECT_EQ(g.g_idx[size_t(best)], 0);
  EXPECT_TRUE(bit_equal(dequantize_grid(g), c.weight));
}

TEST(QuantGptq, SymmetricF16GridReproducesTheWeight) {
  const int64_t in = 72;  // 72 = 2 x 32 + 8: a partial last group in permuted order
  const Tensor w = random_weight(8, in, 14);
  GptqOptions o = options(4, 32, true);
  o.cfg = {4, true, true};
  CompressedLinear c = gptq_quantize("w", w, correlated_stats(in, 200, 15), o);
  EXPECT_EQ(c.quant->n_groups(), 3);
  for (int64_t i = 0; i < c.quant->zeros.numel(); ++i) EXPECT_EQ(c.quant->zeros.f32()[i], 8.0f);
  EXPECT_EQ(std::count(c.quant->g_idx.begin(), c.quant->g_idx.end(), 2), 8);
  EXPECT_TRUE(bit_equal(dequantize_grid(*c.quant), c.weight));
}

TEST(QuantGptq, StaticGroupsKeepDefaultGroupIndex) {
  const int64_t in = 64;
  const Tensor w = random_weight(8, in, 6);
  const LinearStats s = correlated_stats(in, 200, 7);
  CompressedLinear c = gptq_quantize("w", w, s, options(4, 16, true, true));
  EXPECT_FALSE(g_idx_is_permuted(*c.quant));
  EXPECT_TRUE(bit_equal(dequantize_grid(*c.quant), c.weight));
  // static params come from the original weight: the same as RTN's
  const CompressedLinear r = rtn_quantize(w, {4, false}, 16);
  EXPECT_TRUE(bit_equal(c.quant->scales, r.quant->scales));
  EXPECT_TRUE(bit_equal(c.quant->zeros, r.quant->zeros));
}

TEST(QuantGptq, DeadColumnsAreZero) {
  const int64_t in = 48;
  const Tensor w = random_weight(8, in, 8);
  const LinearStats s = correlated_stats(in, 200, 9, 5);
  for (bool act : {false, true}) {
    CompressedLinear c = gptq_quantize("w", w, s, options(4, 16, act));
    for (int64_t r = 0; r < 8; ++r) EXPECT_EQ(c.weight.f32()[r * in + 5], 0.0f);
  }
}

TEST(QuantGptq, EightBitsIsNearlyLossless) {
  const Tensor w = random_weight(16, 64, 10);
  CompressedLinear c = gptq_quantize("w", w, correlated_stats(64, 200, 11), options(8, -1, true));
  for (int64_t i = 0; i < w.numel(); ++i) EXPECT_NEAR(c.weight.f32()[i], w.f32()[i], 2e-3);
}

// Algorithm 1 without lazy blocks: every column's error updates all later columns at once.
Tensor unblocked_gptq(const Tensor& w, const LinearStats& s, int bits, double damp) {
  const int64_t out = w.dim(0), in = w.dim(1);
  InverseHessianSpec spec;
  spec.scale = 2.0 / double(s.rows);
  spec.damp = damp;
  const InverseHessian h = inverse_hessian("ref", s, in, spec);
  std::vector<float> ww(w.f32(), w.f32() + w.numel());
  Tensor q = Tensor::zeros(DType::F32, {out, in});
  const QuantConfig cfg{bits, false};
  for (int64_t r = 0; r < out; ++r) {
    const QuantParams p = find_params(w.f32() + r * in, in, 1, cfg);
    for (int64_t i = 0; i < in; ++i) {
      const float v = dequantize_code(quantize_code(ww[size_t(r * in + i)], p, cfg.maxq()), p);
      q.f32()[r * in + i] = v;
      const float e = (ww[size_t(r * in + i)] - v) / h.u(i, i);
      for (int64_t j = i + 1; j < in; ++j) ww[size_t(r * in + j)] -= e * h.u(i, j);
    }
  }
  return q;
}

TEST(QuantGptq, LazyBlocksMatchUnblockedAlgorithm) {
  const int64_t in = 80;
  const Tensor w = random_weight(12, in, 12);
  const LinearStats s = correlated_stats(in, 300, 13);
  const Tensor ref = unblocked_gptq(w, s, 4, 0.01);
  for (int64_t bs : {int64_t(7), int64_t(32), int64_t(128)}) {
    GptqOptions o = options(4, -1);
    o.block_size = bs;
    const Tensor q = gptq_quantize("w", w, s, o).weight;
    int64_t differ = 0;
    for (int64_t i = 0; i < w.numel(); ++i) differ += q.f32()[i] != ref.f32()[i];
    EXPECT_LE(differ, w.numel() / 100) << "block " << bs;
  }
}

TEST(QuantGptq, IndefiniteHessianErrorNamesTheTensor) {
  LinearStats s;
  s.in = 2;
  s.rows = 2;
  s.hessian = {1.0, 2.0, 2.0, 1.0};
  GptqOptions o = options(4, -1);
  o.damp = 0.0;
  try {
    gptq_quantize("layers.0.self_attn.q_proj.weight", random_weight(2, 2, 1), s, o);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("layers.0.self_attn.q_proj.weight"), std::string::npos);
  }
}

TEST(QuantGptq, MethodChecksSpecAndHessianShape) {
  MethodSpec spec;
  spec.bits = 9;
  try {
    make_gptq_method(spec);
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "gptq: --bits must be in [2, 8], found 9");
  }
  spec.bits = 4;
  auto m = make_gptq_method(spec);
  EXPECT_EQ(m->needs(), uint32_t(kStatHessian));
  EXPECT_THROW(m->compress("w", random_weight(4, 8, 1), scaled_identity(6, 1.0)), Error);
}

}  // namespace
}  // namespace lmp
