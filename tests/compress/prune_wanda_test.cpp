// Wanda: |W_ij|·‖X_j‖₂ ranked within each output row — exact per-row count, equality with a brute-force
// stable-sort ranking (ties: lowest column first), scale invariance, and one-line errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <random>
#include <vector>

#include "compress/prune/prune_methods.h"
#include "core/error.h"

namespace lmp {
namespace {

double uniform(std::mt19937_64& gen) { return double(gen() >> 11) * 0x1.0p-53; }

Tensor random_weight(int64_t out, int64_t in, uint64_t seed) {
  std::mt19937_64 gen(seed);
  std::vector<float> v(size_t(out * in));
  for (float& x : v) x = float(uniform(gen) * 2.0 - 1.0);
  return Tensor::from_f32({out, in}, v);
}

LinearStats norms_stats(std::vector<double> col_sq) {
  LinearStats s;
  s.in = int64_t(col_sq.size());
  s.rows = 1;
  s.col_sq = std::move(col_sq);
  return s;
}

MethodSpec unstructured(double s) {
  MethodSpec spec;
  spec.method = "wanda";
  spec.sparsity = s;
  return spec;
}

template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

// The reference's rule, written out: per row, stable ascending sort of the scores, first k pruned.
std::vector<uint8_t> brute_force_mask(const Tensor& w, const std::vector<double>& col_sq, double s) {
  const int64_t out = w.dim(0), in = w.dim(1), k = int64_t(double(in) * s);
  std::vector<uint8_t> mask(size_t(out * in), 1);
  for (int64_t r = 0; r < out; ++r) {
    std::vector<float> score(static_cast<size_t>(in));
    for (int64_t j = 0; j < in; ++j)
      score[size_t(j)] = std::fabs(w.f32()[r * in + j]) * float(std::sqrt(col_sq[size_t(j)]));
    std::vector<int64_t> idx(static_cast<size_t>(in));
    std::iota(idx.begin(), idx.end(), 0);
    std::stable_sort(idx.begin(), idx.end(), [&](int64_t a, int64_t b) { return score[a] < score[b]; });
    for (int64_t t = 0; t < k; ++t) mask[size_t(r * in + idx[size_t(t)])] = 0;
  }
  return mask;
}

std::vector<uint8_t> mask_of(const CompressedLinear& c) {
  const auto* m = static_cast<const uint8_t*>(c.mask.data());
  return std::vector<uint8_t>(m, m + c.mask.numel());
}

TEST(PruneWanda, ExactCountPerRow) {
  const Tensor w = random_weight(19, 53, 3);
  std::mt19937_64 gen(4);
  std::vector<double> col_sq(53);
  for (double& v : col_sq) v = uniform(gen) * 10.0;
  const auto method = make_wanda_method(unstructured(0.3));
  EXPECT_EQ(method->name(), "wanda");
  EXPECT_EQ(method->needs(), uint32_t(kStatColNorms));
  const CompressedLinear c = method->compress("w", w, norms_stats(col_sq));
  const std::vector<uint8_t> m = mask_of(c);
  for (int64_t r = 0; r < 19; ++r) {
    EXPECT_EQ(std::count(m.begin() + r * 53, m.begin() + (r + 1) * 53, uint8_t(0)), 15) << "row " << r;
    for (int64_t j = 0; j < 53; ++j) {
      const float got = c.weight.f32()[r * 53 + j];
      EXPECT_EQ(got, m[size_t(r * 53 + j)] ? w.f32()[r * 53 + j] : 0.0f);
    }
  }
}

TEST(PruneWanda, MatchesBruteForceRankingOnRandomMatrix) {
  const Tensor w = random_weight(23, 40, 5);
  std::mt19937_64 gen(6);
  std::vector<double> col_sq(40);
  for (double& v : col_sq) v = uniform(gen) * uniform(gen) * 100.0;
  const CompressedLinear c = make_wanda_method(unstructured(0.5))->compress("w", w, norms_stats(col_sq));
  EXPECT_EQ(mask_of(c), brute_force_mask(w, col_sq, 0.5));
}

TEST(PruneWanda, TiesGoToTheLowestColumnFirst) {
  // Powers of two everywhere: |w|·‖X_j‖ ties abound (1·2 = 2·1 = 4·0.5); the stable order decides.
  std::mt19937_64 gen(7);
  const float wv[] = {0.5f, 1.0f, 2.0f, 4.0f};
  std::vector<float> v(12 * 16);
  for (float& x : v) x = wv[gen() % 4] * ((gen() & 1) ? 1.0f : -1.0f);
  const Tensor w = Tensor::from_f32({12, 16}, v);
  std::vector<double> col_sq(16);
  for (double& c : col_sq) c = std::ldexp(1.0, 2 * int(gen() % 5) - 4);  // 1/16 .. 16
  for (const double s : {0.25, 0.5, 0.75}) {
    const CompressedLinear c = make_wanda_method(unstructured(s))->compress("w", w, norms_stats(col_sq));
    EXPECT_EQ(mask_of(c), brute_force_mask(w, col_sq, s)) << "sparsity " << s;
  }
  // A row of identical scores: the first k columns go.
  const Tensor flat = Tensor::from_f32({1, 8}, std::vector<float>(8, 1.0f));
  const CompressedLinear c =
      make_wanda_method(unstructured(0.5))->compress("w", flat, norms_stats(std::vector<double>(8, 1.0)));
  EXPECT_EQ(mask_of(c), (std::vector<uint8_t>{0, 0, 0, 0, 1, 1, 1, 1}));
}

TEST(PruneWanda, RankingIsScaleFreeAndDeadInputsGoFirst) {
  const Tensor w = random_weight(9, 32, 8);
  std::mt19937_64 gen(9);
  std::vector<double> col_sq(32), scaled(32);
  for (size_t j = 0; j < 32; ++j) {
    col_sq[j] = j % 7 == 3 ? 0.0 : uniform(gen) + 0.01;
    scaled[j] = col_sq[j] * 1024.0;  // as the reference's division by the sample count, but exact
  }
  const auto method = make_wanda_method(unstructured(0.5));
  const std::vector<uint8_t> a = mask_of(method->compress("w", w, norms_stats(col_sq)));
  EXPECT_EQ(a, mask_of(method->compress("w", w, norms_stats(scaled))));
  for (int64_t r = 0; r < 9; ++r)
    for (int64_t j = 3; j < 32; j += 7) EXPECT_EQ(a[size_t(r * 32 + j)], 0) << r << "," << j;
}

TEST(PruneWanda, BadInputsGiveOneLineErrors) {
  const auto method = make_wanda_method(unstructured(0.5));
  const Tensor w = random_weight(4, 8, 10);
  EXPECT_EQ(error_of([&] { method->compress("model.layers.1.mlp.up_proj.weight", w, LinearStats{}); }),
            "wanda: model.layers.1.mlp.up_proj.weight: column norms: expected 8 values, found 0");
  std::vector<double> bad(8, 1.0);
  bad[5] = -1.0;
  EXPECT_EQ(error_of([&] { method->compress("w", w, norms_stats(bad)); }),
            "wanda: w: column norm 5 is -1: expected a finite value >= 0");
  EXPECT_EQ(error_of([&] { make_wanda_method(unstructured(1.5)); }),
            "wanda: sparsity 1.5 out of range: expected 0 < sparsity < 1");
  const Tensor f16 = Tensor::zeros(DType::F16, {4, 8});
  EXPECT_EQ(error_of([&] { method->compress("w", f16, norms_stats(std::vector<double>(8, 1.0))); }),
            "wanda: w: expected a 2-D F32 weight [out, in], found F16 [4, 8]");
}

}  // namespace
}  // namespace lmp
