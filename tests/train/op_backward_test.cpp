// Each op's backward against central finite differences of its forward (the f32 forward of model/):
// RMSNorm, RoPE, causal GQA attention, SwiGLU, dense and factored linears. The loss is L = Σ r ⊙ f(·)
// for a fixed random r, so dL/df = r is the upstream gradient handed to the backward.
#include <gtest/gtest.h>

#include <cstring>

#include "model/attention.h"
#include "model/ops.h"
#include "model/rope.h"
#include "train/attention_backward.h"
#include "train/linear_backward.h"
#include "train/rms_norm_backward.h"
#include "train/rope_backward.h"
#include "train/swiglu_backward.h"
#include "train_fixtures.h"

using namespace lmp;
using test::dot;
using test::expect_gradient;
using test::random_values;

TEST(OpBackward, RmsNormMatchesFiniteDifferences) {
  std::mt19937 rng(1);
  const int64_t rows = 6, n = 16;
  const float eps = 1e-5f;
  std::vector<float> x = random_values(rows * n, rng, 1.0f), w = random_values(n, rng, 0.2f, 1.0f);
  const std::vector<float> r = random_values(rows * n, rng, 1.0f);
  std::vector<float> y(x.size()), inv(static_cast<size_t>(rows));
  const auto loss = [&] {
    rms_norm(x.data(), w.data(), y.data(), rows, n, eps);
    return dot(r, y);
  };
  rms_norm(x.data(), w.data(), y.data(), rows, n, eps, inv.data());
  std::vector<float> dx(x.size(), 0.5f), dw(static_cast<size_t>(n));
  rms_norm_backward(x.data(), inv.data(), w.data(), r.data(), rows, n, dx.data(), false, dw.data());
  expect_gradient("rms_norm dx", x.data(), dx.data(), rows * n, loss);
  expect_gradient("rms_norm dw", w.data(), dw.data(), n, loss);

  // accumulate adds onto what dx holds; a null dx still gives dw.
  std::vector<float> acc(x.size(), 0.5f), dw2(static_cast<size_t>(n));
  rms_norm_backward(x.data(), inv.data(), w.data(), r.data(), rows, n, acc.data(), true, dw2.data());
  for (size_t i = 0; i < x.size(); ++i) ASSERT_FLOAT_EQ(acc[i], dx[i] + 0.5f) << i;
  rms_norm_backward(x.data(), inv.data(), w.data(), r.data(), rows, n, nullptr, false, dw2.data());
  EXPECT_EQ(dw2, dw);
}

TEST(OpBackward, RopeIsInvertedByItsBackward) {
  const ModelConfig c = test::tiny_config();
  const Rope rope(c);
  std::mt19937 rng(2);
  const BatchShape s{2, 5, {0, 3}};  // positions 0..4 and 3..7
  const int64_t width = c.q_dim();
  std::vector<float> x = random_values(s.rows() * width, rng, 1.0f);
  const std::vector<float> r = random_values(s.rows() * width, rng, 1.0f);
  std::vector<float> y;
  const auto loss = [&] {
    y = x;
    apply_rope(rope, y.data(), width, c.num_heads, s);
    return dot(r, y);
  };
  std::vector<float> dx = r;
  rope_backward(rope, dx.data(), width, c.num_heads, s);
  expect_gradient("rope dx", x.data(), dx.data(), s.rows() * width, loss, 1e-3);
  // The backward is the inverse rotation: it takes rope(x) back to x.
  loss();
  rope_backward(rope, y.data(), width, c.num_heads, s);
  for (size_t i = 0; i < x.size(); ++i) ASSERT_NEAR(y[i], x[i], 1e-5) << i;
}

// Random q, k, v and upstream r for one attention call, with the analytic gradients of L = Σ r ⊙ attn.
struct AttentionCase {
  AttentionCase(const ModelConfig& cfg, const BatchShape& shape, uint32_t seed) : c(cfg), s(shape) {
    std::mt19937 rng(seed);
    const int64_t R = s.rows();
    q = random_values(R * c.q_dim(), rng, 1.0f);
    k = random_values(R * c.kv_dim(), rng, 1.0f);
    v = random_values(R * c.kv_dim(), rng, 1.0f);
    r = random_values(R * c.q_dim(), rng, 1.0f);
    out.resize(q.size());
    loss();
    dq.resize(q.size());
    dk.resize(k.size());
    dv.resize(v.size());
    attention_backward(c, q.data(), k.data(), v.data(), out.data(), r.data(), s, dq.data(), dk.data(), dv.data());
  }
  double loss() {
    attention(c, q.data(), k.data(), v.data(), nullptr, 0, s, out.data(), scores);
    return dot(r, out);
  }
  // Checks the rows [row, row + rows) of dq, dk and dv against finite differences.
  void expect_rows(int64_t row, int64_t rows, const std::string& at, double tol) {
    const int64_t qd = c.q_dim(), kvd = c.kv_dim();
    const auto f = [this] { return loss(); };
    expect_gradient("attention dq" + at, q.data() + row * qd, dq.data() + row * qd, rows * qd, f, tol);
    expect_gradient("attention dk" + at, k.data() + row * kvd, dk.data() + row * kvd, rows * kvd, f, tol);
    expect_gradient("attention dv" + at, v.data() + row * kvd, dv.data() + row * kvd, rows * kvd, f, tol);
  }
  ModelConfig c;
  BatchShape s;
  std::vector<float> q, k, v, r, out, scores, dq, dk, dv;
};

TEST(OpBackward, GroupedQueryAttentionMatchesFiniteDifferences) {
  const BatchShape s{2, 5, {}};
  AttentionCase(test::tiny_config(), s, 3).expect_rows(0, s.rows(), "", 1e-2);
}

TEST(OpBackward, AttentionOverManyRowBlocksMatchesFiniteDifferences) {
  // 300 tokens: three row blocks of the forward's 128, so the recomputed P spans blocks and dK/dV add
  // over them. One sequence, one KV head per pair of heads; a sample of entries keeps it fast.
  ModelConfig c = test::tiny_config();
  c.num_heads = 2;
  c.num_kv_heads = 1;
  AttentionCase a(c, BatchShape{1, 300, {}}, 4);
  for (const int64_t row : {1, 127, 128, 200, 256, 299})  // row 0's dq is 0: one key, P = 1 for any q
    a.expect_rows(row, 1, " row " + std::to_string(row), 2e-2);
}

TEST(OpBackward, SwigluMatchesFiniteDifferences) {
  std::mt19937 rng(5);
  const int64_t n = 64;
  std::vector<float> g = random_values(n, rng, 2.0f), u = random_values(n, rng, 1.0f);
  const std::vector<float> r = random_values(n, rng, 1.0f);
  std::vector<float> h;
  const auto loss = [&] {
    h = g;
    silu_mul(h.data(), u.data(), n);
    return dot(r, h);
  };
  std::vector<float> dg(static_cast<size_t>(n)), du(static_cast<size_t>(n));
  swiglu_backward(g.data(), u.data(), r.data(), dg.data(), du.data(), n);
  expect_gradient("swiglu d_gate", g.data(), dg.data(), n, loss);
  expect_gradient("swiglu d_up", u.data(), du.data(), n, loss);
  // In place over dh gives the same.
  std::vector<float> inplace = r, du2(static_cast<size_t>(n));
  swiglu_backward(g.data(), u.data(), inplace.data(), inplace.data(), du2.data(), n);
  EXPECT_EQ(inplace, dg);
  EXPECT_EQ(du2, du);
}

TEST(OpBackward, DenseLinearMatchesFiniteDifferences) {
  std::mt19937 rng(6);
  const int64_t rows = 7, in = 12, out = 9;
  std::vector<float> x = random_values(rows * in, rng, 1.0f);
  Tensor w = test::random_tensor({out, in}, rng, 0.3f), b = test::random_tensor({out}, rng, 0.3f);
  const std::vector<float> r = random_values(rows * out, rng, 1.0f);
  std::vector<float> y(size_t(rows * out));
  const auto loss = [&] {
    linear_forward(x.data(), rows, w, b, y.data());
    return dot(r, y);
  };
  std::vector<float> dx(x.size()), dw(size_t(out * in)), db(static_cast<size_t>(out));
  linear_backward(x.data(), rows, w, r.data(), dx.data(), false, dw.data(), db.data());
  expect_gradient("dense dx", x.data(), dx.data(), rows * in, loss);
  expect_gradient("dense dW", w.f32(), dw.data(), out * in, loss);
  expect_gradient("dense db", b.f32(), db.data(), out, loss);
}

TEST(OpBackward, FactoredLinearMatchesFiniteDifferences) {
  std::mt19937 rng(7);
  const int64_t rows = 7, in = 12, out = 9, rank = 4;
  std::vector<float> x = random_values(rows * in, rng, 1.0f);
  LowRankFactors f{test::random_tensor({out, rank}, rng, 0.5f), test::random_tensor({rank, in}, rng, 0.3f)};
  Tensor bias = test::random_tensor({out}, rng, 0.3f);
  const std::vector<float> r = random_values(rows * out, rng, 1.0f);
  std::vector<float> xb(size_t(rows * rank)), y(size_t(rows * out));
  const auto loss = [&] {
    linear_forward(x.data(), rows, f, bias, xb.data(), y.data());
    return dot(r, y);
  };
  loss();
  std::vector<float> dx(x.size(), 1.0f), da(size_t(out * rank)), db(size_t(rank * in)), dbias(static_cast<size_t>(out));
  linear_backward(x.data(), xb.data(), rows, f, r.data(), dx.data(), true, da.data(), db.data(), dbias.data());
  for (float& d : dx) d -= 1.0f;  // accumulate added onto the 1s
  expect_gradient("factored dx", x.data(), dx.data(), rows * in, loss);
  expect_gradient("factored dA", f.a.f32(), da.data(), out * rank, loss);
  expect_gradient("factored dB", f.b.f32(), db.data(), rank * in, loss);
  expect_gradient("factored d_bias", bias.f32(), dbias.data(), out, loss);
}
