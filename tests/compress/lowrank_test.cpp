// Low-rank methods (compress/lowrank/): rank from --ratio / --rank and its errors; svd is the
// Eckart–Young truncation; svd-llm minimizes ‖X Wᵀ − X W'ᵀ‖_F; aa-svd minimizes ‖X Wᵀ − X̂ W'ᵀ‖_F and, with
// X̂ = X, gives svd-llm's optimum; full rank reproduces the layer; bad Gram matrices are damped or named.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "compress/linear_stats.h"
#include "compress/lowrank/lowrank_math.h"
#include "compress/lowrank/lowrank_methods.h"
#include "compress/lowrank/lowrank_rank.h"
#include "compress/registry.h"
#include "core/error.h"
#include "test_util.h"

namespace lmp {
namespace {

Tensor gaussian(int64_t rows, int64_t cols, uint32_t seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.0f, scale);
  Tensor t = Tensor::zeros(DType::F32, {rows, cols});
  for (int64_t i = 0; i < t.numel(); ++i) t.f32()[i] = d(rng);
  return t;
}

// Correlated inputs [rows, in]: gaussian times a random mixing matrix, so XᵀX is far from a multiple of I.
Tensor correlated_inputs(int64_t rows, int64_t in, uint32_t seed) {
  const Tensor z = gaussian(rows, in, seed), mix = gaussian(in, in, seed + 1, 0.5f);
  Tensor x = Tensor::zeros(DType::F32, {rows, in});
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < in; ++j) {
      double v = 0;
      for (int64_t i = 0; i < in; ++i) v += double(z.f32()[r * in + i]) * mix.f32()[i * in + j];
      x.f32()[r * in + j] = float(v) * (1.0f + float(j % 5));
    }
  return x;
}

MethodSpec spec(const std::string& method, double ratio, int64_t rank = 0) {
  MethodSpec s;
  s.method = method;
  s.ratio = ratio;
  s.rank = rank;
  return s;
}

// Statistics of one linear: shifted input xhat, original input x.
LinearStats stats_of(const Tensor& xhat, const Tensor& x) {
  LinearStats s(xhat.dim(1), kStatHessian | kStatCross | kStatOrigGram);
  s.accumulate(xhat.f32(), xhat.dim(0), x.f32());
  return s;
}

CompressedLinear run(const MethodSpec& s, const Tensor& w, const LinearStats& st) {
  return make_method(s)->compress("model.layers.0.mlp.up_proj.weight", w, st);
}

// ‖A·Wᵀ − B·W'ᵀ‖_F for inputs A, B [rows, in] and weights W, W' [out, in].
double output_error(const Tensor& a, const Tensor& w, const Tensor& b, const Tensor& w2) {
  const int64_t rows = a.dim(0), in = a.dim(1), out = w.dim(0);
  double e = 0;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t o = 0; o < out; ++o) {
      double y = 0, y2 = 0;
      for (int64_t j = 0; j < in; ++j) {
        y += double(a.f32()[r * in + j]) * w.f32()[o * in + j];
        y2 += double(b.f32()[r * in + j]) * w2.f32()[o * in + j];
      }
      e += (y - y2) * (y - y2);
    }
  return std::sqrt(e);
}

double max_abs_diff(const Tensor& a, const Tensor& b) {
  double m = 0;
  for (int64_t i = 0; i < a.numel(); ++i) m = std::max(m, double(std::fabs(a.f32()[i] - b.f32()[i])));
  return m;
}

TEST(LowRankRank, RatioFormulaFullRankAndErrors) {
  EXPECT_EQ(lowrank_rank("svd", "w", 256, 704, 0.6, 0), int64_t(0.6 * 256 * 704 / 960.0));
  EXPECT_EQ(lowrank_rank("svd", "w", 256, 704, 0.8, 0), 150);
  EXPECT_EQ(lowrank_rank("svd", "w", 256, 704, 1.0, 0), 256) << "ratio 1 = full rank, as the reference";
  EXPECT_EQ(lowrank_rank("svd", "w", 256, 704, 0.6, 17), 17) << "--rank wins";
  EXPECT_EQ(test::error_of([] { lowrank_rank("aa-svd", "q", 64, 32, 0.5, 33); }),
            "aa-svd: q: --rank 33 is above min(out, in) = 32 of its [64, 32] weight");
  EXPECT_EQ(test::error_of([] { lowrank_rank("svd", "q", 64, 32, 1.5, 0); }), "svd: --ratio must be in (0, 1], found 1.5");
  EXPECT_EQ(test::error_of([] { lowrank_rank("svd", "q", 64, 32, 0.0, 0); }), "svd: --ratio must be in (0, 1], found 0");
  EXPECT_EQ(test::error_of([] { lowrank_rank("svd", "q", 4, 4, 0.2, 0); }),
            "svd: q: --ratio 0.2 gives rank 0 for its [4, 4] weight (the least ratio with rank 1 is 0.5)");
  EXPECT_EQ(test::error_of([] { make_method(spec("svd-llm", -0.1)); }), "svd-llm: --ratio must be in (0, 1], found -0.1");
  EXPECT_EQ(test::error_of([] { make_method(spec("aa-svd", 0.5, -2)); }),
            "aa-svd: --rank must be >= 1 (or 0 = from --ratio), found -2");
  EXPECT_EQ(method_fields("aa-svd"), (std::vector<std::string>{"ratio", "rank", "factor_dtype"}));
  MethodSpec f16 = spec("svd", 0.5);
  f16.factor_dtype = "f16";
  EXPECT_EQ(test::error_of([&] { make_method(f16); }), "svd: --factor-dtype must be f32 or bf16, found 'f16'");
}

TEST(LowRank, SvdIsTheEckartYoungTruncation) {
  // W = U·diag(s)·Vᵀ with known singular values: the rank-k error is sqrt(Σ_{i>k} s_i²).
  const int64_t out = 24, in = 16;
  const Tensor g = gaussian(out, in, 3);
  std::vector<double> gd(g.f32(), g.f32() + g.numel());
  const ThinSvd base = thin_svd(gd, out, in, "g");  // orthonormal U, V from a random matrix
  std::vector<double> s(16);
  for (int i = 0; i < 16; ++i) s[size_t(i)] = 10.0 / (1 + i);
  Tensor w = Tensor::zeros(DType::F32, {out, in});
  for (int64_t r = 0; r < out; ++r)
    for (int64_t c = 0; c < in; ++c) {
      double v = 0;
      for (int i = 0; i < 16; ++i) v += base.u[size_t(r * 16 + i)] * s[size_t(i)] * base.vt[size_t(i * in + c)];
      w.f32()[r * in + c] = float(v);
    }
  for (int64_t k : {1, 5, 12}) {
    const CompressedLinear c = run(spec("svd", 1.0, k), w, LinearStats());
    ASSERT_EQ(c.kind, CompressedLinear::Kind::LowRank);
    ASSERT_EQ(c.lowrank->rank(), k);
    EXPECT_EQ(c.lowrank->a.shape(), (Shape{out, k}));
    EXPECT_EQ(c.lowrank->b.shape(), (Shape{k, in}));
    double err = 0, want = 0;
    for (int64_t i = 0; i < w.numel(); ++i) err += std::pow(double(w.f32()[i]) - c.weight.f32()[i], 2);
    for (int64_t i = k; i < 16; ++i) want += s[size_t(i)] * s[size_t(i)];
    EXPECT_NEAR(std::sqrt(err), std::sqrt(want), 1e-4 * std::sqrt(want)) << "rank " << k;
    EXPECT_NEAR(bits_per_weight(c).total, 32.0 * double(k * (out + in)) / double(out * in), 1e-12);
  }
  EXPECT_LT(max_abs_diff(run(spec("svd", 1.0), w, LinearStats()).weight, w), 1e-5) << "full rank reproduces W";
}

TEST(LowRank, AaSvdWithUnshiftedInputsIsSvdLlmsOptimum) {
  const int64_t out = 20, in = 12, rows = 200;
  const Tensor w = gaussian(out, in, 7, 0.1f), x = correlated_inputs(rows, in, 8);
  const LinearStats st = stats_of(x, x);
  const CompressedLinear llm = run(spec("svd-llm", 1.0, 5), w, st), aa = run(spec("aa-svd", 1.0, 5), w, st);
  EXPECT_LT(max_abs_diff(llm.weight, aa.weight), 1e-5);
  // svd-llm is the best rank-5 weight on X: better than plain svd and than perturbations of itself.
  const CompressedLinear plain = run(spec("svd", 1.0, 5), w, st);
  const double e_llm = output_error(x, w, x, llm.weight);
  EXPECT_LT(e_llm, 0.9 * output_error(x, w, x, plain.weight));
  std::mt19937 rng(1);
  std::normal_distribution<float> d(0.0f, 1e-3f);
  for (int trial = 0; trial < 5; ++trial) {
    LowRankFactors f = *llm.lowrank;
    for (int64_t i = 0; i < f.a.numel(); ++i) f.a.f32()[i] += d(rng);
    for (int64_t i = 0; i < f.b.numel(); ++i) f.b.f32()[i] += d(rng);
    EXPECT_GT(output_error(x, w, x, factors_product(f)), e_llm);
  }
  // Full rank reproduces the layer.
  EXPECT_LT(max_abs_diff(run(spec("aa-svd", 1.0), w, st).weight, w), 1e-4);
  EXPECT_LT(max_abs_diff(run(spec("svd-llm", 1.0), w, st).weight, w), 1e-4);
}

TEST(LowRank, AaSvdAnchorsToTheOriginalOutputsUnderShift) {
  const int64_t out = 20, in = 12, rows = 300;
  const Tensor w = gaussian(out, in, 11, 0.1f), x = correlated_inputs(rows, in, 12);
  Tensor xhat = x.to_f32();  // the compressed model's inputs: x plus a systematic shift and noise
  const Tensor noise = gaussian(rows, in, 13, 0.3f);
  for (int64_t i = 0; i < xhat.numel(); ++i) xhat.f32()[i] = 0.9f * xhat.f32()[i] + noise.f32()[i];
  const LinearStats st = stats_of(xhat, x);
  const CompressedLinear aa = run(spec("aa-svd", 1.0, 6), w, st), llm = run(spec("svd-llm", 1.0, 6), w, st);
  const double e_aa = output_error(x, w, xhat, aa.weight), e_llm = output_error(x, w, xhat, llm.weight);
  EXPECT_LT(e_aa, 0.95 * e_llm) << "anchored: the original outputs from the shifted inputs";
  // Its closed form is the optimum of ‖X Wᵀ − X̂ W'ᵀ‖ over rank-6 weights: no perturbation does better.
  std::mt19937 rng(2);
  std::normal_distribution<float> d(0.0f, 1e-3f);
  for (int trial = 0; trial < 5; ++trial) {
    LowRankFactors f = *aa.lowrank;
    for (int64_t i = 0; i < f.b.numel(); ++i) f.b.f32()[i] += d(rng);
    EXPECT_GT(output_error(x, w, xhat, factors_product(f)), e_aa);
  }
}

TEST(LowRank, SingularGramIsDampedNonFiniteIsNamed) {
  const int64_t out = 8, in = 6, rows = 50;
  const Tensor w = gaussian(out, in, 21, 0.1f);
  Tensor x = correlated_inputs(rows, in, 22);
  for (int64_t r = 0; r < rows; ++r) x.f32()[r * in + 2] = 0.0f;  // a dead input: XᵀX is singular
  const CompressedLinear c = run(spec("aa-svd", 1.0, 3), w, stats_of(x, x));
  for (int64_t i = 0; i < c.weight.numel(); ++i) ASSERT_TRUE(std::isfinite(c.weight.f32()[i])) << i;
  EXPECT_LT(output_error(x, w, x, c.weight), output_error(x, w, x, run(spec("svd", 1.0, 3), w, {}).weight));
  LinearStats bad = stats_of(x, x);
  bad.hessian[7] = std::nan("");
  EXPECT_EQ(test::error_of([&] { run(spec("aa-svd", 1.0, 3), w, bad); }),
            "aa-svd: model.layers.0.mlp.up_proj.weight: X~^T X~ has a non-finite value at [1, 1] (nan)");
  LinearStats none(in, kStatOrigGram);
  EXPECT_EQ(test::error_of([&] { run(spec("svd-llm", 1.0, 3), w, none); }),
            "svd-llm: model.layers.0.mlp.up_proj.weight: X^T X: no calibration rows were accumulated");
}

TEST(LowRank, OrigGramStatisticIsTheOriginalInputsGram) {
  const Tensor x = gaussian(30, 5, 31), xhat = gaussian(30, 5, 32);
  LinearStats s(5, kStatOrigGram);
  EXPECT_TRUE(s.needs_orig());
  s.accumulate(xhat.f32(), 30, x.f32());
  for (int64_t i = 0; i < 5; ++i)
    for (int64_t j = 0; j < 5; ++j) {
      double want = 0;
      for (int64_t r = 0; r < 30; ++r) want += double(x.f32()[r * 5 + i]) * x.f32()[r * 5 + j];
      EXPECT_NEAR(s.orig_gram[size_t(i * 5 + j)], want, 1e-4 * (1 + std::fabs(want)));
    }
  EXPECT_EQ(test::error_of([&] { s.accumulate(xhat.f32(), 30, nullptr); }),
            "linear stats: the Gram matrix X^T X needs the original model's input (in = 5), but none was given");
}

}  // namespace
}  // namespace lmp
