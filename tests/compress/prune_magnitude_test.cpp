// Magnitude pruning: the reference's threshold rule (t = sorted |W| at index floor(sparsity·numel),
// every |w| <= t zeroed, ties included), the zeros are the smallest |w|, and one-line errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <random>
#include <vector>

#include "compress/prune/prune_methods.h"
#include "core/error.h"

namespace lmp {
namespace {

Tensor random_weight(int64_t out, int64_t in, uint64_t seed) {
  std::mt19937_64 gen(seed);
  std::vector<float> v(size_t(out * in));
  for (float& x : v) x = float(double(gen() >> 11) * 0x1.0p-53 * 2.0 - 1.0);
  return Tensor::from_f32({out, in}, v);
}

MethodSpec unstructured(double s) {
  MethodSpec spec;
  spec.method = "magnitude";
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

int64_t count_zeros(const uint8_t* m, int64_t n) { return std::count(m, m + n, uint8_t(0)); }

TEST(PruneMagnitude, ZeroesTheSmallestUpToTheThreshold) {
  const Tensor w = random_weight(37, 53, 1);
  const auto method = make_magnitude_method(unstructured(0.5));
  EXPECT_EQ(method->name(), "magnitude");
  EXPECT_EQ(method->needs(), uint32_t(kStatNone));
  const CompressedLinear c = method->compress("w", w, LinearStats{});
  EXPECT_EQ(c.kind, CompressedLinear::Kind::Sparse);
  const int64_t n = w.numel(), k = n / 2 + 1;  // distinct values: indices 0 .. floor(0.5 · 1961) = 980
  const auto* mask = static_cast<const uint8_t*>(c.mask.data());
  ASSERT_EQ(c.mask.shape(), w.shape());
  EXPECT_EQ(count_zeros(mask, n), k);
  float max_pruned = 0.0f, min_kept = std::numeric_limits<float>::infinity();
  int64_t weight_zeros = 0;
  for (int64_t i = 0; i < n; ++i) {
    const float a = std::fabs(w.f32()[i]);
    if (mask[i]) {
      min_kept = std::min(min_kept, a);
      EXPECT_EQ(c.weight.f32()[i], w.f32()[i]);  // survivors untouched
    } else {
      max_pruned = std::max(max_pruned, a);
    }
    weight_zeros += c.weight.f32()[i] == 0.0f;
  }
  EXPECT_EQ(weight_zeros, k);
  EXPECT_LE(max_pruned, min_kept);
}

TEST(PruneMagnitude, ThresholdIndexIsFlooredOverTheWholeMatrix) {
  const Tensor w = random_weight(7, 11, 2);  // 77 distinct weights, 30%: threshold at index 23
  const CompressedLinear c = make_magnitude_method(unstructured(0.3))->compress("w", w, LinearStats{});
  EXPECT_EQ(count_zeros(static_cast<const uint8_t*>(c.mask.data()), 77), 24);
}

TEST(PruneMagnitude, TiesWithTheThresholdAreAllZeroed) {
  // |w| takes values 1 (eight times), 2 (five), 3 (three).
  const std::vector<float> v = {2, -1, 3, 1, -2, 1, 2, 3, 1, -1, 2, 1, 3, 1, -2, 1};
  const Tensor w = Tensor::from_f32({4, 4}, v);
  auto mask_for = [&](double s) {
    const CompressedLinear c = make_magnitude_method(unstructured(s))->compress("w", w, LinearStats{});
    const auto* m = static_cast<const uint8_t*>(c.mask.data());
    return std::vector<uint8_t>(m, m + 16);
  };
  // 62.5%: sorted |W| at index 10 is 2, so every 1 and 2 goes (13 zeros).
  EXPECT_EQ(mask_for(0.625), (std::vector<uint8_t>{0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0}));
  // 25%: index 4 is 1, so all eight 1s go.
  EXPECT_EQ(mask_for(0.25), (std::vector<uint8_t>{1, 0, 1, 0, 1, 0, 1, 1, 0, 0, 1, 0, 1, 0, 1, 0}));
}

TEST(PruneMagnitude, BadSpecsGiveOneLineErrors) {
  MethodSpec both = unstructured(0.5);
  both.nm_n = 2;
  both.nm_m = 4;
  EXPECT_EQ(error_of([&] { make_magnitude_method(both); }),
            "magnitude: sparsity 0.5 and N:M 2:4 both set: expected exactly one");
  EXPECT_EQ(error_of([&] { make_magnitude_method(MethodSpec{}); }),
            "magnitude: no sparsity set: expected a sparsity in (0, 1) or N:M with 0 < N < M");
  EXPECT_EQ(error_of([&] { make_magnitude_method(unstructured(1.0)); }),
            "magnitude: sparsity 1 out of range: expected 0 < sparsity < 1");
  EXPECT_EQ(error_of([&] { make_magnitude_method(unstructured(-0.25)); }),
            "magnitude: sparsity -0.25 out of range: expected 0 < sparsity < 1");
  MethodSpec nm;
  nm.nm_n = 4;
  nm.nm_m = 4;
  EXPECT_EQ(error_of([&] { make_magnitude_method(nm); }), "magnitude: N:M 4:4 invalid: expected 0 < N < M");
  nm.nm_n = 0;
  EXPECT_EQ(error_of([&] { make_magnitude_method(nm); }), "magnitude: N:M 0:4 invalid: expected 0 < N < M");
}

TEST(PruneMagnitude, BadWeightsGiveOneLineErrors) {
  const auto method = make_magnitude_method(unstructured(0.5));
  const Tensor flat = Tensor::from_f32({6}, std::vector<float>(6, 1.0f));
  EXPECT_EQ(error_of([&] { method->compress("model.layers.0.self_attn.q_proj.weight", flat, LinearStats{}); }),
            "magnitude: model.layers.0.self_attn.q_proj.weight: expected a 2-D F32 weight [out, in], "
            "found F32 [6]");
  std::vector<float> v(6, 1.0f);
  v[4] = std::numeric_limits<float>::quiet_NaN();
  const Tensor nan = Tensor::from_f32({2, 3}, v);
  EXPECT_EQ(error_of([&] { method->compress("w", nan, LinearStats{}); }),
            "magnitude: w: weight has a non-finite value nan at [1, 1]: expected finite weights");
}

}  // namespace
}  // namespace lmp
