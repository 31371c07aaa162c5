// gemm_nt/nn/tn and syrk_tn_upper: the products are right (against a double-precision loop, across
// tile boundaries, strides, alpha and beta) and give the same bits at 1, 2 and 3 threads — the property
// that makes every compressed model and perplexity independent of --threads.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "linalg/gemm.h"
#include "test_util.h"

namespace lmp {
namespace {

enum class Form { NT, NN, TN };

struct Case {
  Form form;
  int64_t M, N, K;
};

// Shapes on both sides of the 256-wide tiles: row panels (M >= 512), column panels, a single tile, and
// ragged last panels.
const Case kCases[] = {
    {Form::NT, 1, 700, 64},   {Form::NT, 600, 70, 33},   {Form::NT, 513, 515, 129}, {Form::NN, 37, 1030, 40},
    {Form::NN, 300, 200, 17}, {Form::NN, 770, 96, 128},  {Form::TN, 704, 128, 128}, {Form::TN, 256, 576, 128},
    {Form::TN, 9, 9, 1000},   {Form::TN, 1024, 300, 5},
};

std::vector<float> random_matrix(int64_t n, uint32_t seed) {
  std::mt19937 g(seed);
  std::normal_distribution<float> d;
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = d(g);
  return v;
}

// Leading dimensions wider than the matrices, so strides are exercised.
struct Operands {
  int64_t lda, ldb, ldc;
  std::vector<float> a, b, c0;
};

Operands operands(const Case& c) {
  Operands o;
  const int64_t a_rows = c.form == Form::TN ? c.K : c.M, a_cols = c.form == Form::TN ? c.M : c.K;
  const int64_t b_rows = c.form == Form::NT ? c.N : c.K, b_cols = c.form == Form::NT ? c.K : c.N;
  o.lda = a_cols + 3;
  o.ldb = b_cols + 5;
  o.ldc = c.N + 2;
  o.a = random_matrix(a_rows * o.lda, 1);
  o.b = random_matrix(b_rows * o.ldb, 2);
  o.c0 = random_matrix(c.M * o.ldc, 3);
  return o;
}

float a_at(const Case& c, const Operands& o, int64_t i, int64_t k) {
  return c.form == Form::TN ? o.a[size_t(k * o.lda + i)] : o.a[size_t(i * o.lda + k)];
}
float b_at(const Case& c, const Operands& o, int64_t k, int64_t j) {
  return c.form == Form::NT ? o.b[size_t(j * o.ldb + k)] : o.b[size_t(k * o.ldb + j)];
}

std::vector<float> run(const Case& c, const Operands& o, float alpha, float beta) {
  std::vector<float> out = o.c0;
  switch (c.form) {
    case Form::NT:
      gemm_nt(c.M, c.N, c.K, o.a.data(), o.lda, o.b.data(), o.ldb, out.data(), o.ldc, alpha, beta);
      break;
    case Form::NN:
      gemm_nn(c.M, c.N, c.K, o.a.data(), o.lda, o.b.data(), o.ldb, out.data(), o.ldc, alpha, beta);
      break;
    case Form::TN:
      gemm_tn(c.M, c.N, c.K, o.a.data(), o.lda, o.b.data(), o.ldb, out.data(), o.ldc, alpha, beta);
      break;
  }
  return out;
}

class GemmTest : public ::testing::Test {
 protected:
  void TearDown() override { set_num_threads(0); }
};

TEST_F(GemmTest, MatchesDoublePrecisionLoop) {
  set_num_threads(2);
  for (const Case& c : kCases) {
    const Operands o = operands(c);
    const float alpha = 0.75f, beta = -0.5f;
    const std::vector<float> got = run(c, o, alpha, beta);
    for (int64_t i = 0; i < c.M; ++i)
      for (int64_t j = 0; j < c.N; ++j) {
        double want = 0, scale = 0;
        for (int64_t k = 0; k < c.K; ++k) {
          const double p = double(a_at(c, o, i, k)) * double(b_at(c, o, k, j));
          want += p;
          scale += std::abs(p);
        }
        want = alpha * want + beta * double(o.c0[size_t(i * o.ldc + j)]);
        ASSERT_NEAR(got[size_t(i * o.ldc + j)], want, 1e-5 * (scale + 1.0))
            << "form " << int(c.form) << " M=" << c.M << " N=" << c.N << " K=" << c.K << " at [" << i << ", "
            << j << "]";
      }
    for (int64_t i = 0; i < c.M; ++i)  // padding between rows untouched
      for (int64_t j = c.N; j < o.ldc; ++j) ASSERT_EQ(got[size_t(i * o.ldc + j)], o.c0[size_t(i * o.ldc + j)]);
  }
}

TEST_F(GemmTest, SameBitsAtAnyThreadCount) {
  for (const Case& c : kCases) {
    const Operands o = operands(c);
    set_num_threads(1);
    const std::vector<float> one = run(c, o, 1.0f, 0.0f);
    for (int t : {2, 3}) {
      set_num_threads(t);
      EXPECT_EQ(run(c, o, 1.0f, 0.0f), one) << t << " threads, form " << int(c.form) << " M=" << c.M
                                            << " N=" << c.N << " K=" << c.K;
    }
  }
}

std::vector<float> syrk(int64_t n, int64_t k, const std::vector<float>& a, int64_t lda) {
  std::vector<float> c(size_t(n * n), -7.0f);
  syrk_tn_upper(n, k, a.data(), lda, c.data(), n);
  return c;
}

TEST_F(GemmTest, SyrkUpperMatchesLoopAndLeavesLowerTriangle) {
  set_num_threads(2);
  for (const auto& [n, k] : {std::pair<int64_t, int64_t>{5, 7}, {300, 64}, {600, 41}}) {
    const int64_t lda = n + 1;
    const std::vector<float> a = random_matrix(k * lda, 4);
    const std::vector<float> c = syrk(n, k, a, lda);
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < n; ++j) {
        if (j < i) {
          ASSERT_EQ(c[size_t(i * n + j)], -7.0f) << "lower [" << i << ", " << j << "], n = " << n;
          continue;
        }
        double want = 0, scale = 0;
        for (int64_t r = 0; r < k; ++r) {
          const double p = double(a[size_t(r * lda + i)]) * double(a[size_t(r * lda + j)]);
          want += p;
          scale += std::abs(p);
        }
        ASSERT_NEAR(c[size_t(i * n + j)], want, 1e-5 * (scale + 1.0)) << "[" << i << ", " << j << "], n = " << n;
      }
  }
}

TEST_F(GemmTest, SyrkSameBitsAtAnyThreadCount) {
  const int64_t n = 700, k = 300;
  const std::vector<float> a = random_matrix(k * n, 5);
  set_num_threads(1);
  const std::vector<float> one = syrk(n, k, a, n);
  for (int t : {2, 3}) {
    set_num_threads(t);
    EXPECT_EQ(syrk(n, k, a, n), one) << t << " threads";
  }
}

TEST_F(GemmTest, SingleThreadedBlasRestoresTheThreadCount) {
  set_num_threads(3);
  {
    const SingleThreadedBlas one_thread;
    EXPECT_EQ(num_threads(), 1);
  }
  EXPECT_EQ(num_threads(), 3);
}

TEST_F(GemmTest, RejectsNegativeDimensions) {
  float x = 0;
  EXPECT_EQ(test::error_of([&] { gemm_nt(-1, 1, 1, &x, 1, &x, 1, &x, 1); }),
            "gemm_nt: negative dimension M=-1 N=1 K=1");
  EXPECT_EQ(test::error_of([&] { syrk_tn_upper(2, -3, &x, 2, &x, 2); }),
            "syrk_tn_upper: negative dimension M=2 N=2 K=-3");
}

}  // namespace
}  // namespace lmp
