// The OBS inverse-Hessian factor (compress/inverse_hessian.h): UᵀU·H = I with dead inputs and damping,
// a factor order that is exactly the factor of the permuted statistics (copied or handed over, the
// same bits), agreement with the
// inverse-then-factor route (potrf, potri, potrf) GPTQ used before, and one-line errors.
#include "compress/inverse_hessian.h"

#include <gtest/gtest.h>
#include <lapacke.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "core/error.h"
#include "test_util.h"

namespace lmp {
namespace {

using test::error_of;

// Σ xᵀx of random inputs X [rows, in] with correlated features and uneven scales; `dead` columns 0.
LinearStats gram_stats(int64_t in, int64_t rows, uint64_t seed, const std::vector<int64_t>& dead = {}) {
  std::mt19937_64 gen(seed);
  std::normal_distribution<double> nd;
  LinearStats s;
  s.in = in;
  s.rows = rows;
  s.hessian.assign(size_t(in * in), 0.0);
  std::vector<double> x(static_cast<size_t>(in));
  for (int64_t r = 0; r < rows; ++r) {
    double carry = 0.0;
    for (int64_t j = 0; j < in; ++j) {
      carry = 0.7 * carry + nd(gen);
      x[size_t(j)] = carry * (0.5 + double(j % 5));
    }
    for (const int64_t j : dead) x[size_t(j)] = 0.0;
    for (int64_t i = 0; i < in; ++i)
      for (int64_t j = 0; j < in; ++j) s.hessian[size_t(i * in + j)] += x[size_t(i)] * x[size_t(j)];
  }
  return s;
}

TEST(InverseHessian, FactorsTheDampedInverse) {
  const int64_t in = 40;
  const LinearStats stats = gram_stats(in, 100, 24, {5, 17});
  InverseHessianSpec spec;
  spec.scale = 0.5;
  const InverseHessian h = inverse_hessian("t", stats, in, spec);
  std::vector<double> H = stats.hessian;
  double mean = 0.0;
  for (int64_t j = 0; j < in; ++j) {
    EXPECT_EQ(h.dead()[size_t(j)], j == 5 || j == 17);
    for (int64_t k = 0; k < in; ++k) H[size_t(j * in + k)] *= spec.scale;
    if (h.dead()[size_t(j)]) H[size_t(j * in + j)] = 1.0;
    mean += H[size_t(j * in + j)] / double(in);
  }
  for (int64_t j = 0; j < in; ++j) H[size_t(j * in + j)] += 0.01 * mean;
  for (int64_t i = 0; i < in; ++i)  // (UᵀU)·H = I
    for (int64_t j = 0; j < in; ++j) {
      if (i > j) {
        EXPECT_EQ(h.u(i, j), 0.0f);
      }
      double hinv_h = 0.0;
      for (int64_t k = 0; k < in; ++k) {
        double hinv = 0.0;
        for (int64_t t = 0; t <= std::min(i, k); ++t) hinv += double(h.u(t, i)) * h.u(t, k);
        hinv_h += hinv * H[size_t(k * in + j)];
      }
      EXPECT_NEAR(hinv_h, i == j ? 1.0 : 0.0, 2e-3) << i << "," << j;
    }
}

TEST(InverseHessian, AnOrderIsTheFactorOfThePermutedStatistics) {
  const int64_t in = 67;  // odd: the anti-diagonal has a middle element
  const LinearStats stats = gram_stats(in, 150, 3, {11});
  std::vector<int64_t> order(static_cast<size_t>(in));
  for (int64_t k = 0; k < in; ++k) order[size_t(k)] = (k * 29 + 4) % in;
  LinearStats permuted = stats;
  for (int64_t i = 0; i < in; ++i)
    for (int64_t j = 0; j < in; ++j)
      permuted.hessian[size_t(i * in + j)] = stats.hessian[size_t(order[size_t(i)] * in + order[size_t(j)])];
  InverseHessianSpec plain, ordered;
  plain.damp = ordered.damp = 0.0;  // the trace is summed by input: with damping, in another order
  ordered.order = order;
  const InverseHessian a = inverse_hessian("t", stats, in, ordered);
  const InverseHessian b = inverse_hessian("t", permuted, in, plain);
  EXPECT_EQ(std::vector<float>(a.u(), a.u() + in * in), std::vector<float>(b.u(), b.u() + in * in));
  for (int64_t k = 0; k < in; ++k) EXPECT_EQ(a.dead()[size_t(order[size_t(k)])], b.dead()[size_t(k)]);
  EXPECT_EQ(a.dead()[11], 1);
  // Handed over: the statistics' own buffer factorized in place, the same bits.
  const InverseHessian c = inverse_hessian("t", std::vector<double>(stats.hessian), in, ordered);
  EXPECT_EQ(std::vector<float>(a.u(), a.u() + in * in), std::vector<float>(c.u(), c.u() + in * in));
}

// The route GPTQ took before: potrf, potri, mirror, potrf of H⁻¹ as the upper factor.
std::vector<double> inverse_then_factor(std::vector<double> h, int64_t n) {
  const lapack_int ln = lapack_int(n);
  EXPECT_EQ(LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'L', ln, h.data(), ln), 0);
  EXPECT_EQ(LAPACKE_dpotri(LAPACK_ROW_MAJOR, 'L', ln, h.data(), ln), 0);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = i + 1; j < n; ++j) h[size_t(i * n + j)] = h[size_t(j * n + i)];
  EXPECT_EQ(LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'U', ln, h.data(), ln), 0);
  return h;
}

TEST(InverseHessian, MatchesTheInverseThenFactorRoute) {
  const int64_t in = 300;
  const LinearStats stats = gram_stats(in, 700, 8);
  InverseHessianSpec spec;
  spec.damp = 0.0;
  const InverseHessian h = inverse_hessian("t", stats, in, spec);
  const std::vector<double> ref = inverse_then_factor(stats.hessian, in);
  double scale = 0.0, worst = 0.0;
  for (int64_t i = 0; i < in; ++i)
    for (int64_t j = i; j < in; ++j) {
      scale = std::max(scale, std::fabs(ref[size_t(i * in + j)]));
      worst = std::max(worst, std::fabs(double(h.u(i, j)) - ref[size_t(i * in + j)]));
    }
  EXPECT_LE(worst, 1e-6 * scale);  // f32 rounding of the same factor
}

TEST(InverseHessian, BadInputsGiveOneLineErrors) {
  EXPECT_EQ(error_of([] { inverse_hessian("gptq: w", LinearStats{}, 3, {}); }),
            "gptq: w: Hessian: expected 3x3 = 9 values, found 0");
  LinearStats neg;
  neg.in = 4;
  neg.hessian = {1, 0, 0, 0, 0, -2, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1};
  InverseHessianSpec spec;
  EXPECT_EQ(error_of([&] { inverse_hessian("gptq: w", neg, 4, spec); }),
            "gptq: w: damped Hessian is not positive definite on input columns [1, 4): expected positive "
            "definite; raise --damp (now 0.01)");
  spec.order = {1, 0, 2, 3};
  EXPECT_EQ(error_of([&] { inverse_hessian("gptq: w", neg, 4, spec); }),
            "gptq: w: damped Hessian is not positive definite on positions in factor order [0, 4): expected "
            "positive definite; raise --damp (now 0.01)");
  spec.order = {0, 1};
  EXPECT_EQ(error_of([&] { inverse_hessian("gptq: w", neg, 4, spec); }),
            "gptq: w: input order has 2 entries, expected 4");
  neg.hessian[6] = INFINITY;
  spec.order.clear();
  EXPECT_EQ(error_of([&] { inverse_hessian("gptq: w", neg, 4, spec); }),
            "gptq: w: Hessian has a non-finite value inf at [1, 2]: expected finite values");
}

}  // namespace
}  // namespace lmp
