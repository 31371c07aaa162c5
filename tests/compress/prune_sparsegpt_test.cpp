// SparseGPT: exact sparsity per block of 128 columns across all rows, the H = c·I special case
// (magnitude within each block, no update beyond zeroing), equality with an unblocked f64 sweep, a lower
// proxy loss than magnitude and Wanda on correlated inputs, dead inputs, and one-line errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <random>
#include <vector>

#include "compress/inverse_hessian.h"
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

// Statistics of correlated random inputs X [rows, in] (an AR(1) walk along the features, uneven
// scales); the columns listed in `dead` are always 0.
LinearStats random_stats(int64_t in, int64_t rows, uint64_t seed, const std::vector<int64_t>& dead = {}) {
  std::mt19937_64 gen(seed);
  std::vector<double> x(size_t(rows * in));
  for (int64_t r = 0; r < rows; ++r) {
    double carry = 0.0;
    for (int64_t j = 0; j < in; ++j) {
      carry = 0.8 * carry + (uniform(gen) - 0.5);
      x[size_t(r * in + j)] = carry * (0.5 + double(j % 7));
    }
    for (const int64_t j : dead) x[size_t(r * in + j)] = 0.0;
  }
  LinearStats s;
  s.in = in;
  s.rows = rows;
  s.hessian.assign(size_t(in * in), 0.0);
  s.col_sq.assign(size_t(in), 0.0);
  for (int64_t r = 0; r < rows; ++r) {
    const double* xr = &x[size_t(r * in)];
    for (int64_t i = 0; i < in; ++i) {
      s.col_sq[size_t(i)] += xr[i] * xr[i];
      for (int64_t j = 0; j < in; ++j) s.hessian[size_t(i * in + j)] += xr[i] * xr[j];
    }
  }
  return s;
}

MethodSpec unstructured(double s, double damp = 0.01) {
  MethodSpec spec;
  spec.method = "sparsegpt";
  spec.sparsity = s;
  spec.damp = damp;
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

const uint8_t* mask_of(const CompressedLinear& c) { return static_cast<const uint8_t*>(c.mask.data()); }

// tr((W − Ŵ) H (W − Ŵ)ᵀ): the layer's output error on the calibration inputs.
double proxy_loss(const Tensor& w, const Tensor& q, const LinearStats& s) {
  const int64_t out = w.dim(0), in = w.dim(1);
  double loss = 0.0;
  std::vector<double> d(static_cast<size_t>(in));
  for (int64_t r = 0; r < out; ++r) {
    for (int64_t j = 0; j < in; ++j) d[size_t(j)] = double(w.f32()[r * in + j]) - double(q.f32()[r * in + j]);
    for (int64_t i = 0; i < in; ++i)
      for (int64_t j = 0; j < in; ++j) loss += d[size_t(i)] * s.hessian[size_t(i * in + j)] * d[size_t(j)];
  }
  return loss;
}

// Algorithm 1 written plainly in f64: block masks from w²/d², then every column's error applied to all
// later columns at once (no lazy batching).
std::vector<double> unblocked_sweep(const Tensor& w, const InverseHessian& h, double sparsity,
                                    std::vector<uint8_t>& keep) {
  const int64_t out = w.dim(0), in = w.dim(1);
  std::vector<double> W(w.f32(), w.f32() + w.numel());
  for (int64_t j = 0; j < in; ++j)
    if (h.dead()[size_t(j)])
      for (int64_t r = 0; r < out; ++r) W[size_t(r * in + j)] = 0.0;
  keep.assign(size_t(out * in), 1);
  auto u = [&](int64_t i, int64_t j) { return double(h.u(i, j)); };
  for (int64_t i1 = 0; i1 < in; i1 += 128) {
    const int64_t i2 = std::min(i1 + 128, in), count = i2 - i1;
    std::vector<double> score(size_t(out * count));
    for (int64_t r = 0; r < out; ++r)
      for (int64_t c = 0; c < count; ++c) {
        const double v = W[size_t(r * in + i1 + c)], d = u(i1 + c, i1 + c);
        score[size_t(r * count + c)] = v * v / (d * d);
      }
    std::vector<int64_t> idx(score.size());
    std::iota(idx.begin(), idx.end(), 0);
    std::stable_sort(idx.begin(), idx.end(), [&](int64_t a, int64_t b) { return score[a] < score[b]; });
    const int64_t k = int64_t(double(score.size()) * sparsity);
    for (int64_t t = 0; t < k; ++t) keep[size_t(idx[t] / count * in + i1 + idx[t] % count)] = 0;
    for (int64_t i = i1; i < i2; ++i)
      for (int64_t r = 0; r < out; ++r) {
        const double wv = W[size_t(r * in + i)], q = keep[size_t(r * in + i)] ? wv : 0.0;
        const double e = (wv - q) / u(i, i);
        W[size_t(r * in + i)] = q;
        for (int64_t j = i + 1; j < in; ++j) W[size_t(r * in + j)] -= e * u(i, j);
      }
  }
  return W;
}

TEST(PruneSparseGpt, SparsityIsExactInEveryBlock) {
  const Tensor w = random_weight(40, 300, 21);  // blocks of 128, 128, 44 columns
  const LinearStats stats = random_stats(300, 600, 22);
  for (const double s : {0.5, 0.3}) {
    const auto method = make_sparsegpt_method(unstructured(s));
    EXPECT_EQ(method->name(), "sparsegpt");
    EXPECT_EQ(method->needs(), uint32_t(kStatHessian));
    const CompressedLinear c = method->compress("w", w, stats);
    ASSERT_EQ(c.weight.shape(), w.shape());
    for (const auto& [i1, i2] : {std::pair{0, 128}, std::pair{128, 256}, std::pair{256, 300}}) {
      int64_t masked = 0;
      for (int64_t r = 0; r < 40; ++r)
        for (int64_t j = i1; j < i2; ++j) {
          const bool pruned = !mask_of(c)[r * 300 + j];
          masked += pruned;
          if (pruned) EXPECT_EQ(c.weight.f32()[r * 300 + j], 0.0f);
          else EXPECT_NE(c.weight.f32()[r * 300 + j], 0.0f);
        }
      EXPECT_EQ(masked, int64_t(double(40 * (i2 - i1)) * s)) << "sparsity " << s << " block at " << i1;
    }
  }
}

TEST(PruneSparseGpt, ScaledIdentityHessianIsMagnitudeWithinEachBlock) {
  // Weights k/256: many equal magnitudes, so the tie rule (lowest row-major index of the block) shows.
  std::mt19937_64 gen(23);
  const int64_t out = 12, in = 200;
  std::vector<float> v(size_t(out * in));
  for (float& x : v) x = float(int64_t(gen() % 513) - 256) / 256.0f;
  const Tensor w = Tensor::from_f32({out, in}, v);
  LinearStats stats;
  stats.in = in;
  stats.rows = 1;
  stats.hessian.assign(size_t(in * in), 0.0);
  for (int64_t j = 0; j < in; ++j) stats.hessian[size_t(j * in + j)] = 4.0;
  for (const double damp : {0.0, 0.01}) {
    const CompressedLinear c = make_sparsegpt_method(unstructured(0.5, damp))->compress("w", w, stats);
    for (int64_t i1 = 0; i1 < in; i1 += 128) {
      const int64_t count = std::min<int64_t>(128, in - i1);
      std::vector<int64_t> idx(size_t(out * count));
      std::iota(idx.begin(), idx.end(), 0);
      auto mag = [&](int64_t t) { return std::fabs(v[size_t(t / count * in + i1 + t % count)]); };
      std::stable_sort(idx.begin(), idx.end(), [&](int64_t a, int64_t b) { return mag(a) < mag(b); });
      std::vector<uint8_t> expect(idx.size(), 1);
      for (int64_t t = 0; t < int64_t(idx.size()) / 2; ++t) expect[size_t(idx[size_t(t)])] = 0;
      for (int64_t t = 0; t < int64_t(idx.size()); ++t) {
        const int64_t at = t / count * in + i1 + t % count;
        ASSERT_EQ(mask_of(c)[at], expect[size_t(t)]) << "damp " << damp << " at " << at;
        EXPECT_EQ(c.weight.f32()[at], expect[size_t(t)] ? v[size_t(at)] : 0.0f);  // no update
      }
    }
  }
}

TEST(PruneSparseGpt, MatchesAnUnblockedSweep) {
  const int64_t out = 24, in = 260;
  const Tensor w = random_weight(out, in, 25);
  const LinearStats stats = random_stats(in, 520, 26);
  const InverseHessian h = inverse_hessian("sparsegpt: w", stats, in, {});
  std::vector<uint8_t> keep;
  const std::vector<double> expect = unblocked_sweep(w, h, 0.5, keep);
  const CompressedLinear c = make_sparsegpt_method(unstructured(0.5))->compress("w", w, stats);
  EXPECT_EQ(std::vector<uint8_t>(mask_of(c), mask_of(c) + w.numel()), keep);
  double scale = 0.0;
  for (const double x : expect) scale = std::max(scale, std::fabs(x));
  for (int64_t i = 0; i < w.numel(); ++i) EXPECT_NEAR(c.weight.f32()[i], expect[size_t(i)], 1e-4 * scale) << i;
}

TEST(PruneSparseGpt, ProxyLossBeatsMagnitudeAndWanda) {
  const int64_t out = 32, in = 192;
  const Tensor w = random_weight(out, in, 27);
  const LinearStats stats = random_stats(in, 800, 28);
  for (const bool nm : {false, true}) {
    MethodSpec spec = unstructured(0.5);
    if (nm) {
      spec.sparsity = 0.0;
      spec.nm_n = 2;
      spec.nm_m = 4;
    }
    const double sgpt = proxy_loss(w, make_sparsegpt_method(spec)->compress("w", w, stats).weight, stats);
    const double mag = proxy_loss(w, make_magnitude_method(spec)->compress("w", w, stats).weight, stats);
    const double wanda = proxy_loss(w, make_wanda_method(spec)->compress("w", w, stats).weight, stats);
    EXPECT_LT(sgpt, 0.8 * wanda) << (nm ? "2:4" : "50%");
    EXPECT_LT(wanda, mag) << (nm ? "2:4" : "50%");
  }
}

TEST(PruneSparseGpt, DeadInputsGiveZeroColumns) {
  const int64_t out = 16, in = 64;
  const Tensor w = random_weight(out, in, 29);
  const LinearStats stats = random_stats(in, 200, 30, {0, 9, 63});
  const CompressedLinear c = make_sparsegpt_method(unstructured(0.5))->compress("w", w, stats);
  int64_t masked = 0;
  for (int64_t i = 0; i < w.numel(); ++i) {
    EXPECT_TRUE(std::isfinite(c.weight.f32()[i])) << i;
    masked += !mask_of(c)[i];
    const int64_t j = i % in;
    if (j == 0 || j == 9 || j == 63) {
      EXPECT_EQ(c.weight.f32()[i], 0.0f) << i;
    }
  }
  EXPECT_EQ(masked, out * in / 2);
}

TEST(PruneSparseGpt, BadInputsGiveOneLineErrors) {
  const auto method = make_sparsegpt_method(unstructured(0.5));
  const Tensor w = random_weight(4, 8, 31);
  EXPECT_EQ(error_of([&] { method->compress("model.layers.2.self_attn.o_proj.weight", w, LinearStats{}); }),
            "sparsegpt: model.layers.2.self_attn.o_proj.weight: Hessian: expected 8x8 = 64 values, found 0");
  LinearStats neg;
  neg.in = 8;
  neg.hessian.assign(64, 0.0);
  for (int j = 0; j < 8; ++j) neg.hessian[size_t(j * 9)] = j == 3 ? -5.0 : 1.0;
  EXPECT_EQ(error_of([&] { method->compress("w", w, neg); }),
            "sparsegpt: w: damped Hessian is not positive definite on input columns [3, 8): expected "
            "positive definite; raise --damp (now 0.01)");
  neg.hessian[10] = NAN;
  EXPECT_EQ(error_of([&] { method->compress("w", w, neg); }),
            "sparsegpt: w: Hessian has a non-finite value nan at [1, 2]: expected finite values");
  EXPECT_EQ(error_of([&] { make_sparsegpt_method(unstructured(0.5, -0.1)); }),
            "sparsegpt: damp -0.1 out of range: expected a finite value >= 0");
  MethodSpec blk = unstructured(0.5);
  blk.block_size = 0;
  EXPECT_EQ(error_of([&] { make_sparsegpt_method(blk); }), "sparsegpt: block size 0 out of range: expected >= 1");
  MethodSpec both = unstructured(0.5);
  both.nm_n = 2;
  both.nm_m = 4;
  EXPECT_EQ(error_of([&] { make_sparsegpt_method(both); }),
            "sparsegpt: sparsity 0.5 and N:M 2:4 both set: expected exactly one");
}

}  // namespace
}  // namespace lmp
