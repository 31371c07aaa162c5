// EntQuant (compress/quant/entquant.h): flag validation, λ = 0 is absmax FP8, super-weight fallback, the
// straight-through gradient against finite differences of its surrogate, L-BFGS as torch's, the row
// search against brute force and against L-BFGS on lm-s, thread-count invariance.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>

#include "compress/quant/entquant.h"
#include "compress/quant/entquant_objective.h"
#include "compress/quant/entquant_row_search.h"
#include "compress/quant/lbfgs.h"
#include "compress/quant/quant_methods.h"
#include "compress/registry.h"
#include "core/error.h"
#include "core/fp8.h"
#include "linalg/gemm.h"
#include "model/model.h"
#include "test_util.h"

namespace lmp {
namespace {

// Laplace-distributed weights (LLM weights are heavier-tailed than Gaussian), a few large outliers.
Tensor laplace_weight(int64_t out, int64_t in, uint32_t seed, float scale = 0.02f) {
  std::mt19937 rng(seed);
  std::exponential_distribution<float> e(1.0f / scale);
  std::uniform_int_distribution<int> coin(0, 1);
  std::vector<float> v(size_t(out * in));
  for (float& x : v) x = (coin(rng) ? 1.0f : -1.0f) * e(rng);
  for (int64_t r = 0; r < out; r += 3) v[size_t(r * in + (r * 7) % in)] *= 20.0f;
  return Tensor::from_f32({out, in}, v);
}

MethodSpec entquant_spec(double lambda, const std::string& optimizer) {
  MethodSpec s;
  s.method = "entquant";
  s.lambda = lambda;
  s.optimizer = optimizer;
  return s;
}

CompressedLinear run(const MethodSpec& s, const Tensor& w, const std::string& name = "model.layers.0.mlp.up_proj.weight") {
  return make_method(s)->compress(name, w, LinearStats{});
}

const uint8_t* codes_of(const CompressedLinear& c) { return static_cast<const uint8_t*>(c.fp8->codes.data()); }

// The E4M3 code nearest to x by scanning the 127 magnitudes (ties to the even code), saturating.
uint8_t slow_encode(float x) {
  const double a = std::min(std::fabs(double(x)), 448.0);
  int best = 0;
  for (int c = 1; c <= 0x7E; ++c) {
    const double d = std::fabs(fp8_e4m3_decode(uint8_t(c)) - a), db = std::fabs(fp8_e4m3_decode(uint8_t(best)) - a);
    if (d < db || (d == db && c % 2 == 0)) best = c;
  }
  return uint8_t(best == 0 ? 0 : (best | (x < 0 ? 0x80 : 0)));
}

// Σ|Ŵ − W| / ‖W‖₁ of a result.
double rel_l1(const Tensor& w, const CompressedLinear& c) {
  double e = 0, n = 0;
  for (int64_t i = 0; i < w.numel(); ++i) {
    e += std::fabs(double(c.weight.f32()[i]) - w.f32()[i]);
    n += std::fabs(double(w.f32()[i]));
  }
  return e / n;
}

double entropy_bits(const CompressedLinear& c) {
  std::vector<double> cnt(256, 0.0);
  const int64_t n = c.fp8->codes.numel();
  for (int64_t i = 0; i < n; ++i) cnt[codes_of(c)[i]] += 1;
  double h = 0;
  for (double k : cnt)
    if (k > 0) h -= k / double(n) * std::log2(k / double(n));
  return h;
}

double loss_of(const Tensor& w, const CompressedLinear& c, double lambda) {
  const EntquantLoss lw = entquant_loss_weights(w.f32(), w.dim(0), w.dim(1), lambda);
  return entquant_loss_of_scales(w.f32(), w.dim(0), w.dim(1), lw, c.fp8->scales.f32());
}

void expect_valid_fp8(const Tensor& w, const CompressedLinear& c) {
  ASSERT_EQ(c.kind, CompressedLinear::Kind::Fp8);
  ASSERT_TRUE(c.fp8);
  ASSERT_EQ(c.fp8->codes.dtype(), DType::U8);
  ASSERT_EQ(c.fp8->codes.shape(), w.shape());
  ASSERT_EQ(c.fp8->scales.shape(), Shape{w.dim(0)});
  const int64_t in = w.dim(1);
  for (int64_t i = 0; i < w.numel(); ++i) {
    const uint8_t code = codes_of(c)[i];
    ASSERT_NE(code & 0x7F, 0x7F) << i;
    ASSERT_NE(code, 0x80) << i;
    const float s = c.fp8->scales.f32()[i / in];
    ASSERT_EQ(c.weight.f32()[i], fp8_e4m3_decode(code) * s) << i;  // the weight is what the grid says
  }
}

// ---- flags and registry ----

TEST(Entquant, FactoryValidatesLambdaAndOptimizer) {
  EXPECT_EQ(test::error_of([] { make_method(entquant_spec(-1, "row-search")); }),
            "entquant: --lambda must be finite and >= 0, found -1");
  EXPECT_NE(test::error_of([] { make_method(entquant_spec(std::nan(""), "lbfgs")); }).find("--lambda must be finite"),
            std::string::npos);
  EXPECT_NE(test::error_of([] { make_method(entquant_spec(INFINITY, "lbfgs")); }).find("--lambda must be finite"),
            std::string::npos);
  EXPECT_EQ(test::error_of([] { make_method(entquant_spec(3.9, "adam")); }),
            "entquant: --optimizer must be row-search or lbfgs, found 'adam'");
  EXPECT_EQ(test::error_of([] { make_method(entquant_spec(0, "row-search")); }), "(no error)");
  EXPECT_EQ(method_fields("entquant"), (std::vector<std::string>{"lambda", "optimizer", "scale_dtype"}));
  MethodSpec f16 = entquant_spec(3.9, "lbfgs");
  f16.scale_dtype = "f16";
  EXPECT_EQ(test::error_of([&] { make_method(f16); }), "entquant: --scale-dtype must be bf16 or f32, found 'f16'");
  const auto m = make_method(entquant_spec(14.5, "lbfgs"));
  EXPECT_EQ(m->name(), "entquant");
  EXPECT_EQ(m->needs(), uint32_t(kStatNone));
  EXPECT_EQ(m->produces(), CompressedLinear::Kind::Fp8);
  EXPECT_TRUE(m->accepts(CompressedLinear::Kind::Dense));
  EXPECT_FALSE(m->accepts(CompressedLinear::Kind::Sparse));
  EXPECT_FALSE(m->accepts(CompressedLinear::Kind::Quantized));
}

TEST(Entquant, RejectsNonFiniteWeightsNamingTheTensor) {
  Tensor w = laplace_weight(2, 8, 1);
  w.f32()[9] = std::numeric_limits<float>::infinity();
  EXPECT_NE(test::error_of([&] { run(entquant_spec(3.9, "row-search"), w, "blk.w"); })
                .find("entquant: blk.w: non-finite weight at [1, 1]"),
            std::string::npos);
}

// ---- λ = 0, fallback, representation ----

TEST(Entquant, LambdaZeroIsPlainAbsmaxFp8ForBothOptimizers) {
  const Tensor w = laplace_weight(16, 96, 2);
  for (const char* opt : {"row-search", "lbfgs"}) {
    MethodSpec spec = entquant_spec(0, opt);
    spec.scale_dtype = "f32";  // the reference's absmax scales, unrounded
    const CompressedLinear c = run(spec, w);
    expect_valid_fp8(w, c);
    EXPECT_EQ(c.fp8->optimizer, "absmax");
    EXPECT_EQ(c.fp8->lambda, 0.0);
    EXPECT_FALSE(c.fp8->fallback);
    double err = 0, norm = 0;
    for (int64_t r = 0; r < 16; ++r) {
      float amax = 0;
      for (int64_t j = 0; j < 96; ++j) amax = std::max(amax, std::fabs(w.f32()[r * 96 + j]));
      const float s = amax / 448.0f;
      ASSERT_EQ(c.fp8->scales.f32()[r], s) << opt << " row " << r;
      for (int64_t j = 0; j < 96; ++j) {
        const float x = w.f32()[r * 96 + j];
        const uint8_t code = slow_encode(x / s);
        ASSERT_EQ(codes_of(c)[r * 96 + j], code) << opt << " [" << r << ", " << j << "]";
        err += std::fabs(double(fp8_e4m3_decode(code) * s) - x);
        norm += std::fabs(double(x));
      }
    }
    EXPECT_EQ(rel_l1(w, c), err / norm) << opt;
  }
}

TEST(Entquant, SuperWeightLinearsFallBackToAbsmax) {
  const Tensor w = laplace_weight(8, 64, 3);
  MethodSpec s = entquant_spec(14.5, "row-search");
  s.absmax_linears = {"model.layers.1.mlp.down_proj.weight"};
  const CompressedLinear fb = run(s, w, "model.layers.1.mlp.down_proj.weight");
  const CompressedLinear plain = run(s, w, "model.layers.1.mlp.up_proj.weight");
  const CompressedLinear absmax = fp8_absmax_quantize(w, Fp8ScaleType::Bf16);
  EXPECT_TRUE(fb.fp8->fallback);
  EXPECT_EQ(fb.fp8->optimizer, "absmax");
  EXPECT_EQ(std::memcmp(fb.fp8->codes.data(), absmax.fp8->codes.data(), 8 * 64), 0);
  EXPECT_EQ(std::memcmp(fb.weight.data(), absmax.weight.data(), 8 * 64 * 4), 0);
  EXPECT_FALSE(plain.fp8->fallback);
  EXPECT_EQ(plain.fp8->optimizer, "row-search");
  EXPECT_EQ(plain.fp8->lambda, 14.5);
}

TEST(Entquant, CodesHaveNoNanOrNegativeZeroAndWeightIsCodeTimesScale) {
  Tensor w = laplace_weight(12, 80, 4);
  for (int64_t j = 0; j < 80; ++j) w.f32()[5 * 80 + j] = 0.0f;  // an all-zero row
  w.f32()[3] = -1e-12f;                                          // rounds to −0 → stored as +0
  for (const char* opt : {"row-search", "lbfgs"})
    for (double lambda : {3.9, 58.0}) {
      const CompressedLinear c = run(entquant_spec(lambda, opt), w);
      expect_valid_fp8(w, c);
      EXPECT_EQ(c.fp8->optimizer, opt);
      EXPECT_EQ(c.fp8->scales.f32()[5], 1.0f);
      EXPECT_EQ(codes_of(c)[3], 0x00);
    }
}

TEST(Entquant, DefaultScalesAreBf16RoundingsOfTheF32Ones) {
  const Tensor w = laplace_weight(40, 96, 11);
  for (double lambda : {0.0, 14.5}) {
    MethodSpec s32 = entquant_spec(lambda, "lbfgs");
    s32.scale_dtype = "f32";
    const CompressedLinear b = run(entquant_spec(lambda, "lbfgs"), w), f = run(s32, w);
    expect_valid_fp8(w, b);  // the codes are chosen against the rounded scales
    int not_bf16 = 0;
    for (int64_t r = 0; r < 40; ++r) {
      const float sb = b.fp8->scales.f32()[r], sf = f.fp8->scales.f32()[r];
      EXPECT_EQ(sb, bf16_to_f32(f32_to_bf16(sf))) << "λ " << lambda << " row " << r;
      not_bf16 += sf != sb;
    }
    EXPECT_GT(not_bf16, 30) << "f32 scales are kept as found (λ " << lambda << ")";
  }
}

TEST(Entquant, LargerLambdaGivesLowerEntropyAndHigherError) {
  const Tensor w = laplace_weight(64, 256, 5);
  for (const char* opt : {"row-search", "lbfgs"}) {
    double h_prev = 8, e_prev = 0;
    for (double lambda : {0.0, 3.9, 14.5, 58.0}) {
      const CompressedLinear c = run(entquant_spec(lambda, opt), w);
      const double h = entropy_bits(c), e = rel_l1(w, c);
      EXPECT_LT(h, h_prev) << opt << " λ " << lambda;
      EXPECT_GT(e, e_prev) << opt << " λ " << lambda;
      h_prev = h;
      e_prev = e;
    }
  }
}

// ---- the objective and its gradient ----

// The straight-through surrogate of row r around s0 = scale_of_theta(θ_r): the rounding offsets
// Q0 − w/s0 frozen, evaluated at s = s0·2^h in double.
double surrogate(const Tensor& w, int64_t r, float s0, double h, const EntquantLoss& lw) {
  const int64_t in = w.dim(1);
  const double s = double(s0) * std::exp2(h);
  double g = 0;
  for (int64_t j = 0; j < in; ++j) {
    const double x = w.f32()[r * in + j];
    const double q0 = fp8_e4m3_decode(slow_encode(float(x / s0)));
    const double q = q0 + x / s - x / double(s0);
    g += std::fabs(q * s - x) * lw.inv_norm + lw.rate_weight * std::fabs(q);
  }
  return g;
}

TEST(Entquant, StraightThroughGradientMatchesFiniteDifferencesOfItsSurrogate) {
  const Tensor w = laplace_weight(6, 40, 6);
  std::vector<double> theta = absmax_theta(w.f32(), 6, 40);
  // Shift rows so that some clamp at 448 (θ lowered), some have many zero codes (θ raised).
  const double shift[6] = {-0.7, 0.0, 0.3, 2.0, 6.5, -1.3};
  for (int r = 0; r < 6; ++r) theta[size_t(r)] += shift[r];
  // λ = 0 checks the reconstruction term alone; at λ = 14.5 the rate term dominates the gradient.
  for (double lambda : {0.0, 14.5}) {
    const EntquantLoss lw = entquant_loss_weights(w.f32(), 6, 40, lambda);
    EntquantLoss rec_only = lw;
    rec_only.rate_weight = 0;
    std::vector<double> grad, rec_grad;
    const double loss = entquant_loss_grad(w.f32(), 6, 40, lw, theta, &grad);
    entquant_loss_grad(w.f32(), 6, 40, rec_only, theta, &rec_grad);
    double sum = 0;
    for (int r = 0; r < 6; ++r) sum += surrogate(w, r, scale_of_theta(theta[size_t(r)]), 0, lw);
    EXPECT_NEAR(loss, sum, 1e-7 * loss);  // f32 residuals and f32 block sums vs f64
    const double h = 1e-6;
    for (int r = 0; r < 6; ++r) {
      const float s0 = scale_of_theta(theta[size_t(r)]);
      const double fd = (surrogate(w, r, s0, h, lw) - surrogate(w, r, s0, -h, lw)) / (2 * h);
      const double tol = 1e-6 * std::fabs(fd) + 1e-10;
      EXPECT_NEAR(grad[size_t(r)], fd, tol) << "λ " << lambda << " row " << r;
      // The checked term is large against tol: flipping its sign (or dropping it) would fail.
      const double part = lambda == 0 ? rec_grad[size_t(r)] : grad[size_t(r)] - rec_grad[size_t(r)];
      EXPECT_GT(std::fabs(part), 100 * tol) << "λ " << lambda << " row " << r;
    }
  }
}

// ---- L-BFGS ----

double rosenbrock(const std::vector<double>& x, std::vector<double>& g) {
  const double a = 1 - x[0], b = x[1] - x[0] * x[0];
  g = {-2 * a - 400 * x[0] * b, 200 * b};
  return a * a + 100 * b * b;
}

TEST(Lbfgs, ConvergesOnRosenbrockWithStrongWolfe) {
  std::vector<double> x = {-1.5, 2.0};
  LbfgsOptions o;
  o.max_iter = 200;
  const LbfgsResult r = lbfgs_minimize(rosenbrock, x, o);
  EXPECT_FALSE(r.nan);
  // It stops on |Δloss| < tolerance_change = 1e-9, as torch does, not on an exact minimum.
  EXPECT_NEAR(x[0], 1.0, 1e-4);
  EXPECT_NEAR(x[1], 1.0, 1e-4);
  EXPECT_LT(r.loss, 1e-8);
  EXPECT_EQ(r.first_loss, 12.5);  // (1 + 1.5)² + 100·(2 − 2.25)²
  EXPECT_LE(r.evaluations, o.max_iter * 5 / 4 + 25);
}

TEST(Lbfgs, SolvesAQuadraticInAboutNIterations) {
  // f = ½ xᵀAx − bᵀx, A SPD 5×5: L-BFGS with an exact-enough line search is conjugate gradients.
  const int n = 5;
  std::vector<double> A(n * n), b(n);
  for (int i = 0; i < n; ++i) {
    b[size_t(i)] = i + 1;
    for (int j = 0; j < n; ++j) A[size_t(i * n + j)] = (i == j ? 4.0 + i : 0.0) + 1.0 / (1 + i + j);
  }
  const LbfgsObjective f = [&](const std::vector<double>& x, std::vector<double>& g) {
    g.assign(n, 0.0);
    double v = 0;
    for (int i = 0; i < n; ++i) {
      for (int j = 0; j < n; ++j) g[size_t(i)] += A[size_t(i * n + j)] * x[size_t(j)];
      v += 0.5 * x[size_t(i)] * g[size_t(i)] - b[size_t(i)] * x[size_t(i)];
      g[size_t(i)] -= b[size_t(i)];
    }
    return v;
  };
  std::vector<double> x(n, 0.0);
  LbfgsOptions o;
  o.max_iter = 50;
  const LbfgsResult r = lbfgs_minimize(f, x, o);
  std::vector<double> g;
  f(x, g);
  for (double gi : g) EXPECT_LT(std::fabs(gi), 1e-4);  // it stops on |Δloss| < 1e-9
  EXPECT_LE(r.iterations, 3 * n);
}

TEST(Lbfgs, FirstTrialStepIsLrOverTheGradientsL1Norm) {
  // f = Σ 3·x_i on a box is linear: the first evaluation after x0 is at x0 − t·g with
  // t = min(1, 1/‖g‖₁)·lr; ‖g‖₁ = 12 for 4 coordinates.
  std::vector<std::vector<double>> seen;
  const LbfgsObjective f = [&](const std::vector<double>& x, std::vector<double>& g) {
    seen.push_back(x);
    g.assign(x.size(), 3.0);
    double v = 0;
    for (double xi : x) v += 3 * xi + xi * xi * 1e-3;
    for (size_t i = 0; i < x.size(); ++i) g[i] += 2e-3 * x[i];
    return v;
  };
  std::vector<double> x(4, 0.0);
  LbfgsOptions o;
  o.lr = 0.5;
  o.max_iter = 1;
  lbfgs_minimize(f, x, o);
  ASSERT_GE(seen.size(), 2u);
  EXPECT_DOUBLE_EQ(seen[1][0], -3.0 * 0.5 / 12.0);
}

TEST(Lbfgs, StopsAtOnceWhenTheGradientIsBelowTolerance) {
  int calls = 0;
  const LbfgsObjective f = [&](const std::vector<double>& x, std::vector<double>& g) {
    ++calls;
    g.assign(x.size(), 5e-8);
    return 1.0;
  };
  std::vector<double> x(3, 1.0);
  const LbfgsResult r = lbfgs_minimize(f, x, LbfgsOptions{});
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(r.iterations, 0);
  EXPECT_EQ(x, std::vector<double>(3, 1.0));
}

TEST(Lbfgs, RespectsMaxIterAndMaxEval) {
  int calls = 0;
  const LbfgsObjective f = [&](const std::vector<double>& x, std::vector<double>& g) {
    ++calls;
    return rosenbrock(x, g);
  };
  std::vector<double> x = {-1.5, 2.0};
  LbfgsOptions o;
  o.max_iter = 3;
  o.max_eval = 1000;  // the default, 3·5/4 = 3, would stop it after the first line search
  LbfgsResult r = lbfgs_minimize(f, x, o);
  EXPECT_EQ(r.iterations, 3);
  EXPECT_EQ(r.evaluations, calls);
  x = {-1.5, 2.0};
  calls = 0;
  o.max_iter = 100;
  o.max_eval = 10;
  r = lbfgs_minimize(f, x, o);
  EXPECT_GE(r.evaluations, 10);
  EXPECT_LE(r.evaluations, 10 + 25);  // the line search in flight finishes
  EXPECT_LT(r.iterations, 100);
}

TEST(Lbfgs, NanLossAbortsTheRun) {
  const LbfgsObjective f = [&](const std::vector<double>& x, std::vector<double>& g) {
    g = {1.0};
    return x[0] < -0.01 ? std::nan("") : x[0];
  };
  std::vector<double> x = {0.0};
  EXPECT_TRUE(lbfgs_minimize(f, x, LbfgsOptions{}).nan);
}

TEST(Lbfgs, CubicInterpolationFindsTheMinimizerOfACubic) {
  // p(t) = t³ − 3t: minimizer 1 on [0, 3]; p(0) = 0, p'(0) = −3, p(2) = 2, p'(2) = 9.
  EXPECT_NEAR(cubic_interpolate(0, 0, -3, 2, 2, 9, 0, 3), 1.0, 1e-12);
  EXPECT_NEAR(cubic_interpolate(2, 2, 9, 0, 0, -3, 0, 3), 1.0, 1e-12);  // order of the points
  EXPECT_EQ(cubic_interpolate(0, 0, -3, 2, 2, 9, 1.5, 3), 1.5);          // clamped to the bounds
  // No real minimizer (d1² < g1·g2): the midpoint of the bounds.
  // (g1 = g2 = 1, f2 − f1 = 2/3 over [0, 1] gives d1 = 0, d1² − g1·g2 = −1.)
  EXPECT_EQ(cubic_interpolate(0, 0, 1, 1, 2.0 / 3.0, 1, 0, 4), 2.0);
}

// ---- the row search ----

TEST(EntquantRowSearch, NoBruteForceScaleBeatsIt) {
  // Every scale of a dense log grid (2^14 points over the searched range) is no better than the search.
  for (uint32_t seed : {7u, 8u, 9u})
    for (double lambda : {3.9, 14.5, 58.0}) {
      const Tensor w = laplace_weight(4, 48, seed);
      const EntquantLoss lw = entquant_loss_weights(w.f32(), 4, 48, lambda);
      for (int64_t r = 0; r < 4; ++r) {
        const float* row = w.f32() + r * 48;
        const RowScale best = entquant_row_search(row, 48, lw);
        EXPECT_EQ(best.loss, lw.row(fp8_row_terms(row, 48, best.scale)));
        float amax = 0;
        for (int j = 0; j < 48; ++j) amax = std::max(amax, std::fabs(row[j]));
        const double t0 = std::log2(double(amax) / 448);
        double brute = INFINITY;
        for (int i = 0; i <= (1 << 14); ++i) {
          const float s = scale_of_theta(t0 - 2 + 21.0 * i / (1 << 14));
          brute = std::min(brute, lw.row(fp8_row_terms(row, 48, s)));
        }
        EXPECT_LE(best.loss, brute) << "seed " << seed << " λ " << lambda << " row " << r;
      }
    }
}

TEST(EntquantRowSearch, SweepIsTheMinimumOverItsWindow) {
  const Tensor w = laplace_weight(3, 200, 10);
  const EntquantLoss lw = entquant_loss_weights(w.f32(), 3, 200, 14.5);
  for (int64_t r = 0; r < 3; ++r) {
    const float* row = w.f32() + r * 200;
    const double s_lo = 3e-4, s_hi = 3e-4 * std::exp2(1.0 / 32);
    const RowScale sw = entquant_row_sweep(row, 200, lw, s_lo, s_hi);
    EXPECT_GE(sw.scale, float(s_lo) * (1 - 1e-6f));
    EXPECT_LE(sw.scale, float(s_hi) * (1 + 1e-6f));
    double dense = INFINITY;  // every f32 scale in the window, strided
    for (uint32_t b = std::bit_cast<uint32_t>(float(s_lo)); b <= std::bit_cast<uint32_t>(float(s_hi)); b += 7)
      dense = std::min(dense, lw.row(fp8_row_terms(row, 200, std::bit_cast<float>(b))));
    EXPECT_LE(sw.loss, dense + 1e-15) << "row " << r;
  }
}

TEST(EntquantRowSearch, BeatsLbfgsOnRandomLaplaceMatrices) {
  for (uint32_t seed : {11u, 12u}) {
    const Tensor w = laplace_weight(48, 192, seed);
    for (double lambda : {3.9, 14.5, 58.0}) {
      const double rs = loss_of(w, run(entquant_spec(lambda, "row-search"), w), lambda);
      const double lb = loss_of(w, run(entquant_spec(lambda, "lbfgs"), w), lambda);
      EXPECT_LT(rs, lb) << "seed " << seed << " λ " << lambda;
    }
  }
}

TEST(EntquantRowSearch, BeatsLbfgsOnLmsMatrices) {
  LMP_REQUIRE_SHARED();
  const Model m = Model::open(test::shared_path("models/lm-s"));
  for (auto [b, leaf] : {std::pair{0, "self_attn.q_proj"}, {0, "self_attn.k_proj"}, {3, "mlp.down_proj"},
                         {5, "mlp.gate_proj"}}) {
    const Tensor& w = m.block(b).linear(leaf);
    for (double lambda : {3.9, 14.5, 58.0}) {
      const double rs = loss_of(w, run(entquant_spec(lambda, "row-search"), w), lambda);
      const double lb = loss_of(w, run(entquant_spec(lambda, "lbfgs"), w), lambda);
      EXPECT_LT(rs, lb) << "block " << b << " " << leaf << " λ " << lambda;
    }
  }
}

TEST(Entquant, ResultDoesNotDependOnTheThreadCount) {
  const Tensor w = laplace_weight(96, 384, 13);
  for (const char* opt : {"row-search", "lbfgs"}) {
    set_num_threads(1);
    const CompressedLinear one = run(entquant_spec(14.5, opt), w);
    set_num_threads(2);
    const CompressedLinear two = run(entquant_spec(14.5, opt), w);
    set_num_threads(0);
    EXPECT_EQ(std::memcmp(one.fp8->scales.data(), two.fp8->scales.data(), 96 * 4), 0) << opt;
    EXPECT_EQ(std::memcmp(one.weight.data(), two.weight.data(), 96 * 384 * 4), 0) << opt;
  }
}

}  // namespace
}  // namespace lmp
