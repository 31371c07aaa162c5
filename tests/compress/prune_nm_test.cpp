// N:M sparsity for all three pruning methods: exactly N of every M consecutive input columns of a row
// are masked (2:4 and 4:8), the N are the lowest scores of the group (ties: lowest column first), and
// an M that does not divide the input size is a one-line error naming the tensor.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
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

// Column norms and a positive definite Hessian of correlated random inputs X [4·in, in].
LinearStats random_stats(int64_t in, uint64_t seed) {
  std::mt19937_64 gen(seed);
  const int64_t rows = 4 * in;
  std::vector<double> x(size_t(rows * in));
  for (int64_t r = 0; r < rows; ++r) {
    double carry = 0.0;
    for (int64_t j = 0; j < in; ++j) {
      carry = 0.6 * carry + (uniform(gen) - 0.5);
      x[size_t(r * in + j)] = carry * (1.0 + double(j % 5));
    }
  }
  LinearStats s;
  s.in = in;
  s.rows = rows;
  s.hessian.assign(size_t(in * in), 0.0);
  s.col_sq.assign(size_t(in), 0.0);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t i = 0; i < in; ++i) {
      s.col_sq[size_t(i)] += x[size_t(r * in + i)] * x[size_t(r * in + i)];
      for (int64_t j = 0; j < in; ++j) s.hessian[size_t(i * in + j)] += x[size_t(r * in + i)] * x[size_t(r * in + j)];
    }
  return s;
}

MethodSpec nm_spec(int n, int m) {
  MethodSpec spec;
  spec.nm_n = n;
  spec.nm_m = m;
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

using Factory = std::unique_ptr<LinearMethod> (*)(const MethodSpec&);
const std::pair<const char*, Factory> kMethods[] = {{"magnitude", make_magnitude_method},
                                                     {"wanda", make_wanda_method},
                                                     {"sparsegpt", make_sparsegpt_method}};

// Every group of m has exactly n mask zeros, and the weight is exactly 0 there.
void expect_nm(const CompressedLinear& c, int n, int m, const std::string& what) {
  const int64_t out = c.weight.dim(0), in = c.weight.dim(1);
  const auto* mask = static_cast<const uint8_t*>(c.mask.data());
  for (int64_t r = 0; r < out; ++r)
    for (int64_t g = 0; g < in; g += m) {
      int zeros = 0;
      for (int j = 0; j < m; ++j) {
        const int64_t i = r * in + g + j;
        if (!mask[i]) {
          ++zeros;
          EXPECT_EQ(c.weight.f32()[i], 0.0f) << what;
        }
      }
      EXPECT_EQ(zeros, n) << what << " row " << r << " group " << g;
    }
}

TEST(PruneNm, EveryGroupHasExactlyNZeros) {
  const Tensor w = random_weight(24, 64, 11);
  const LinearStats stats = random_stats(64, 12);
  for (const auto& [name, make] : kMethods)
    for (const auto& [n, m] : {std::pair{2, 4}, std::pair{4, 8}, std::pair{1, 4}}) {
      const CompressedLinear c = make(nm_spec(n, m))->compress("w", w, stats);
      expect_nm(c, n, m, std::string(name) + " " + std::to_string(n) + ":" + std::to_string(m));
    }
}

TEST(PruneNm, MagnitudeAndWandaPruneTheLowestScoresOfEachGroup) {
  const Tensor w = random_weight(10, 32, 13);
  const LinearStats stats = random_stats(32, 14);
  for (const bool wanda : {false, true}) {
    const auto method = wanda ? make_wanda_method(nm_spec(2, 4)) : make_magnitude_method(nm_spec(2, 4));
    const CompressedLinear c = method->compress("w", w, stats);
    const auto* mask = static_cast<const uint8_t*>(c.mask.data());
    for (int64_t i = 0; i < w.numel(); i += 4) {
      float kept_min = INFINITY, pruned_max = 0.0f;
      for (int64_t j = i; j < i + 4; ++j) {
        const float s = std::fabs(w.f32()[j]) * (wanda ? float(std::sqrt(stats.col_sq[size_t(j % 32)])) : 1.0f);
        if (mask[j])
          kept_min = std::min(kept_min, s);
        else
          pruned_max = std::max(pruned_max, s);
      }
      EXPECT_LE(pruned_max, kept_min) << (wanda ? "wanda" : "magnitude") << " group at " << i;
    }
  }
}

TEST(PruneNm, TiesGoToTheLowestColumnFirst) {
  const std::vector<float> v = {1, 1, 1, 1, 3, 2, 2, 1, -2, 2, 1, 1};
  const Tensor w = Tensor::from_f32({1, 12}, v);
  const CompressedLinear c = make_magnitude_method(nm_spec(2, 4))->compress("w", w, LinearStats{});
  const auto* mask = static_cast<const uint8_t*>(c.mask.data());
  EXPECT_EQ(std::vector<uint8_t>(mask, mask + 12), (std::vector<uint8_t>{0, 0, 1, 1, 1, 0, 1, 0, 1, 1, 0, 0}));
}

TEST(PruneNm, SparseGptMaskDoesNotDependOnBlockSize) {
  // N:M masks are chosen per group from the updated weights; lazy blocks only regroup the same updates.
  const Tensor w = random_weight(16, 96, 15);
  const LinearStats stats = random_stats(96, 16);
  MethodSpec a = nm_spec(2, 4), b = nm_spec(2, 4);
  b.block_size = 8;
  const CompressedLinear ca = make_sparsegpt_method(a)->compress("w", w, stats);
  const CompressedLinear cb = make_sparsegpt_method(b)->compress("w", w, stats);
  const auto* ma = static_cast<const uint8_t*>(ca.mask.data());
  const auto* mb = static_cast<const uint8_t*>(cb.mask.data());
  EXPECT_EQ(std::vector<uint8_t>(ma, ma + w.numel()), std::vector<uint8_t>(mb, mb + w.numel()));
  for (int64_t i = 0; i < w.numel(); ++i) EXPECT_NEAR(ca.weight.f32()[i], cb.weight.f32()[i], 1e-4) << i;
}

TEST(PruneNm, GroupMustDivideTheInputSize) {
  const Tensor w = random_weight(3, 702, 17);
  LinearStats stats;
  stats.in = 702;
  stats.col_sq.assign(702, 1.0);
  for (const auto& [name, make] : kMethods)
    EXPECT_EQ(error_of([&] { make(nm_spec(2, 4))->compress("model.layers.0.mlp.down_proj.weight", w, stats); }),
              std::string(name) + ": model.layers.0.mlp.down_proj.weight: N:M group 4 does not divide input size 702");
}

}  // namespace
}  // namespace lmp
