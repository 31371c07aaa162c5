// exp_shifted: the vectorized (libmvec) lanes and the scalar tail agree with exp in double to within
// 4 ulp over softmax's range, give exactly 1 at the shift and 0 for -inf (masked attention scores).
// sum_abs_pow: Σ|x|^p (the quantizer's MSE search) agrees with a double-precision sum.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "linalg/vector_math.h"

namespace lmp {
namespace {

TEST(VectorMath, ExpShiftedMatchesExpWithinFourUlp) {
  const int64_t n = 10001;  // not a multiple of 8: the scalar tail runs too
  std::vector<float> x(n);
  for (int64_t i = 0; i < n; ++i) x[size_t(i)] = -100.0f + 110.0f * float(i) / float(n - 1);  // [-100, 10]
  std::vector<float> y = x;
  exp_shifted(y.data(), n, 3.0f);
  for (int64_t i = 0; i < n; ++i) {
    const double want = std::exp(double(x[size_t(i)] - 3.0f));
    const double ulp = want < double(std::numeric_limits<float>::min())
                           ? double(std::numeric_limits<float>::denorm_min())
                           : double(std::nextafter(float(want), INFINITY) - float(want));
    EXPECT_LE(std::abs(double(y[size_t(i)]) - want), 4.0 * ulp) << "x = " << x[size_t(i)];
  }
}

TEST(VectorMath, ExpShiftedEdgeValues) {
  std::vector<float> y = {5.0f, -std::numeric_limits<float>::infinity(), 5.0f, -200.0f, 5.0f, 5.0f, 5.0f, 5.0f, 5.0f};
  exp_shifted(y.data(), int64_t(y.size()), 5.0f);
  EXPECT_EQ(y[0], 1.0f);
  EXPECT_EQ(y[1], 0.0f);
  EXPECT_EQ(y[3], 0.0f);
  EXPECT_EQ(y[8], 1.0f);  // the scalar tail
}

TEST(VectorMath, SumAbsPowMatchesDoubleSum) {
  for (int64_t n : {0, 1, 7, 8, 9, 16, 31, 1001}) {  // empty, scalar tail only, 8- and 16-lane vectors, all
    std::vector<float> x(static_cast<size_t>(n));
    double want = 0.0;
    for (int64_t i = 0; i < n; ++i) {
      x[size_t(i)] = (i % 5 == 0) ? 0.0f : float((i % 2) ? -1 : 1) * 0.001f * float(i % 97 + 1);
      want += std::pow(std::fabs(double(x[size_t(i)])), 2.4);
    }
    const double got = sum_abs_pow(x.data(), n, 2.4f);
    EXPECT_NEAR(got, want, 1e-6 * want + 1e-30) << n;
  }
  const float two[2] = {-2.0f, 0.0f};
  EXPECT_NEAR(sum_abs_pow(two, 2, 2.0f), 4.0, 1e-6);
}

}  // namespace
}  // namespace lmp
