// COLA stage 3, sample selection (He et al., NeurIPS 2025, arXiv 2510.10618): activation summaries ->
// random projection -> k-means with k = N -> the sample nearest each centroid. Summary of a block: the
// mean over positions of down_proj's output (before the residual add), computed exactly as
// down_proj(mean of its inputs) since the projection is linear; 64 dims and distinct picks are ours.
#include "calib/cola.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "calib/kmeans.h"
#include "calib/least_ppl.h"
#include "core/error.h"
#include "core/progress.h"
#include "linalg/gemm.h"
#include "model/sampler.h"

namespace lmp {

namespace {

// pooled[b, :] = mean over the L rows of sequence b of x [B*L, cols].
void mean_rows(const float* x, int64_t B, int64_t L, int64_t cols, float* pooled) {
#pragma omp parallel for schedule(static)
  for (int64_t b = 0; b < B; ++b) {
    std::vector<double> acc(size_t(cols), 0.0);
    for (int64_t t = 0; t < L; ++t) {
      const float* row = x + (b * L + t) * cols;
      for (int64_t j = 0; j < cols; ++j) acc[size_t(j)] += row[j];
    }
    for (int64_t j = 0; j < cols; ++j) pooled[b * cols + j] = float(acc[size_t(j)] / double(L));
  }
}

void l2_normalize(float* v, int64_t n) {
  double s = 0.0;
  for (int64_t j = 0; j < n; ++j) s += double(v[j]) * v[j];
  if (s <= 0.0) return;
  const float inv = float(1.0 / std::sqrt(s));
  for (int64_t j = 0; j < n; ++j) v[j] *= inv;
}

// Runs a batch through every block, writing its normalized per-block summaries into out [B, layers*dim].
void batch_features(const Model& model, const std::vector<int32_t>& ids, int64_t B, int64_t L,
                    std::vector<float>& x, BlockWorkspace& ws, float* out) {
  const ModelConfig& cfg = model.config();
  const int64_t dim = cfg.hidden_size, inter = cfg.intermediate_size, layers = cfg.num_layers;
  const BatchShape shape{B, L, {}};
  std::vector<float> pooled(size_t(B * inter)), mlp(size_t(B * dim));
  const LinearHook hook = [&](const std::string& leaf, const float* in, int64_t rows, int64_t cols) {
    if (leaf == "mlp.down_proj") mean_rows(in, B, L, cols, pooled.data());
  };
  x.resize(size_t(B * L * dim));
  model.embed(ids, x.data());
  for (int64_t l = 0; l < layers; ++l) {
    const BlockWeights& w = model.block(l);
    block_forward(cfg, w, model.rope(), l, x.data(), shape, nullptr, ws, hook);
    gemm_nt(B, dim, inter, pooled.data(), inter, w.down.f32(), inter, mlp.data(), dim);
    for (int64_t b = 0; b < B; ++b) {
      float* dst = out + b * layers * dim + l * dim;
      std::copy_n(mlp.data() + b * dim, dim, dst);
      l2_normalize(dst, dim);
    }
  }
}

}  // namespace

namespace {

// Calls fn(first, B, features [B, layers*hidden]) for consecutive batches of candidates.
template <typename Fn>
void for_each_feature_batch(const Model& model, const std::vector<Candidate>& candidates, int64_t batch,
                            Fn&& fn) {
  LMP_CHECK(batch >= 1, "cola: batch must be >= 1, found ", batch);
  if (candidates.empty()) return;
  const ModelConfig& cfg = model.config();
  const int64_t width = cfg.num_layers * cfg.hidden_size, L = int64_t(candidates[0].tokens.size());
  std::vector<int32_t> ids;
  std::vector<float> x, features;
  BlockWorkspace ws;
  Progress progress("cola: activations", int64_t(candidates.size()), "samples");
  for (size_t c0 = 0; c0 < candidates.size(); c0 += size_t(batch)) {
    const int64_t B = std::min<int64_t>(batch, int64_t(candidates.size() - c0));
    ids.clear();
    for (int64_t b = 0; b < B; ++b) {
      const Candidate& c = candidates[c0 + size_t(b)];
      LMP_CHECK(int64_t(c.tokens.size()) == L, "cola: candidate (document ", c.doc_index, ") expected ", L,
                " tokens, found ", c.tokens.size());
      ids.insert(ids.end(), c.tokens.begin(), c.tokens.end());
    }
    features.resize(size_t(B * width));
    batch_features(model, ids, B, L, x, ws, features.data());
    for (int64_t i = 0; i < B * width; ++i)
      LMP_CHECK(std::isfinite(features[size_t(i)]), "cola: activations of candidate (document ",
                candidates[c0 + size_t(i / width)].doc_index, ") expected finite, found ", features[size_t(i)]);
    fn(int64_t(c0), B, features.data());
    progress.add(B);
  }
  progress.finish();
}

// Gaussian [in, out] entries N(0, 1/out), by Box-Muller on the platform-independent uniform draw.
std::vector<float> gaussian_projection(int64_t in, int64_t out, uint64_t seed) {
  Rng rng(seed);
  std::vector<float> g(size_t(in * out));
  for (size_t i = 0; i < g.size(); i += 2) {
    const double u1 = 1.0 - rng.uniform(), u2 = rng.uniform();  // u1 in (0, 1]
    const double r = std::sqrt(-2.0 * std::log(u1)), a = 2.0 * std::numbers::pi * u2;
    g[i] = float(r * std::cos(a));
    if (i + 1 < g.size()) g[i + 1] = float(r * std::sin(a));
  }
  const float scale = float(1.0 / std::sqrt(double(out)));
  for (float& v : g) v *= scale;
  return g;
}

}  // namespace

std::vector<float> cola_features(const Model& model, const std::vector<Candidate>& candidates,
                                 int64_t batch) {
  const int64_t width = model.config().num_layers * model.config().hidden_size;
  std::vector<float> features(candidates.size() * size_t(width));
  for_each_feature_batch(model, candidates, batch, [&](int64_t c0, int64_t B, const float* f) {
    std::copy_n(f, B * width, features.data() + c0 * width);
  });
  return features;
}

std::vector<float> random_project(const std::vector<float>& x, int64_t n, int64_t in, int64_t out,
                                  uint64_t seed) {
  LMP_CHECK(int64_t(x.size()) == n * in, "random projection: expected ", n * in, " values (", n, " x ", in,
            "), found ", x.size());
  LMP_CHECK(out >= 1, "random projection: output dimension must be >= 1, found ", out);
  const std::vector<float> g = gaussian_projection(in, out, seed);
  std::vector<float> y(size_t(n * out));
  if (n > 0) gemm_nn(n, out, in, x.data(), in, g.data(), out, y.data(), out);
  return y;
}

Selection select_cola(const Model& model, const std::vector<Candidate>& candidates,
                      const SelectOptions& opt) {
  check_candidates(model, candidates, opt, "cola");
  const ModelConfig& cfg = model.config();
  const int64_t n = int64_t(candidates.size()), width = cfg.num_layers * cfg.hidden_size;
  // Features are projected batch by batch: memory is candidates x 64, not candidates x layers x hidden.
  const std::vector<float> g = gaussian_projection(width, kColaProjectionDim, opt.seed);
  std::vector<float> proj(size_t(n * kColaProjectionDim));
  for_each_feature_batch(model, candidates, 8, [&](int64_t c0, int64_t B, const float* f) {
    gemm_nn(B, kColaProjectionDim, width, f, width, g.data(), kColaProjectionDim,
            proj.data() + c0 * kColaProjectionDim, kColaProjectionDim);
  });
  KMeansOptions km;
  km.k = opt.n;
  km.seed = opt.seed ^ 0x9E3779B97F4A7C15ull;  // a stream apart from the projection's
  km.max_iterations = 300;
  const KMeansResult clusters = kmeans(proj.data(), n, kColaProjectionDim, km);
  const std::vector<int64_t> order =
      nearest_distinct(proj.data(), n, clusters.centroids.data(), opt.n, kColaProjectionDim);
  return selection_of(candidates, order, opt.seq);
}

}  // namespace lmp
