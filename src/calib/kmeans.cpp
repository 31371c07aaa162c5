// k-means: Lloyd's iterations (Lloyd, "Least squares quantization in PCM", 1982) from a k-means++
// start (Arthur & Vassilvitskii, SODA 2007, D² sampling). Deviation: an empty cluster takes the point
// farthest from its centroid instead of being dropped, so exactly k clusters come back.
#include "calib/kmeans.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <tuple>

#include "core/error.h"
#include "model/sampler.h"

namespace lmp {

float squared_distance(const float* a, const float* b, int64_t dim) {
  float s = 0.0f;
  for (int64_t j = 0; j < dim; ++j) {
    const float d = a[j] - b[j];
    s += d * d;
  }
  return s;
}

namespace {

// Index of the centroid nearest to p (lowest index on ties) and its squared distance.
std::pair<int64_t, float> nearest(const float* p, const std::vector<float>& centroids, int64_t k,
                                  int64_t dim) {
  int64_t best = 0;
  float best_d = std::numeric_limits<float>::infinity();
  for (int64_t c = 0; c < k; ++c) {
    const float d = squared_distance(p, centroids.data() + c * dim, dim);
    if (d < best_d) best = c, best_d = d;
  }
  return {best, best_d};
}

// k-means++: the first centre uniform, each next one drawn with probability ∝ D(x)², the squared
// distance to the nearest centre chosen so far. When every point sits on a centre, the lowest unused.
std::vector<float> init_plus_plus(const float* x, int64_t n, int64_t dim, int64_t k, Rng& rng) {
  std::vector<float> centroids(size_t(k * dim));
  std::vector<double> d2(size_t(n), std::numeric_limits<double>::infinity());
  std::vector<bool> used(size_t(n), false);
  int64_t pick = std::min<int64_t>(n - 1, int64_t(rng.uniform() * double(n)));
  for (int64_t c = 0; c < k; ++c) {
    used[size_t(pick)] = true;
    std::copy_n(x + pick * dim, dim, centroids.data() + c * dim);
    double total = 0.0;
    for (int64_t i = 0; i < n; ++i) {
      d2[size_t(i)] = std::min(d2[size_t(i)], double(squared_distance(x + i * dim, x + pick * dim, dim)));
      total += d2[size_t(i)];
    }
    if (total > 0.0) {
      double u = rng.uniform() * total;
      pick = -1;
      for (int64_t i = 0; i < n && pick < 0; ++i)
        if ((u -= d2[size_t(i)]) < 0.0 && d2[size_t(i)] > 0.0) pick = i;
      if (pick < 0)  // rounding left u >= 0: the last point with any weight
        for (int64_t i = n - 1; i >= 0 && pick < 0; --i)
          if (d2[size_t(i)] > 0.0) pick = i;
    } else {
      pick = int64_t(std::find(used.begin(), used.end(), false) - used.begin());
      if (pick >= n) pick = 0;
    }
  }
  return centroids;
}

// Assigns every point to its nearest centroid (ties: the current one, else the lowest); returns how many assignments changed.
int64_t assign(const float* x, int64_t n, int64_t dim, const std::vector<float>& centroids, int64_t k,
               std::vector<int64_t>& assignment, std::vector<float>& dist) {
  int64_t changed = 0;
#pragma omp parallel for schedule(static) reduction(+ : changed)
  for (int64_t i = 0; i < n; ++i) {
    auto [c, d] = nearest(x + i * dim, centroids, k, dim);
    const int64_t cur = assignment[size_t(i)];  // a tie keeps the current cluster (no ping-pong)
    if (cur >= 0 && cur != c && squared_distance(x + i * dim, centroids.data() + cur * dim, dim) <= d) c = cur;
    changed += (cur != c);
    assignment[size_t(i)] = c;
    dist[size_t(i)] = d;
  }
  return changed;
}

// Centroids = means of their points; an empty cluster takes the point farthest from its centroid
// (among clusters with more than one point), which is then moved to it.
void update(const float* x, int64_t n, int64_t dim, int64_t k, std::vector<int64_t>& assignment,
            std::vector<float>& dist, std::vector<float>& centroids) {
  std::vector<double> sum(size_t(k * dim), 0.0);
  std::vector<int64_t> count(size_t(k), 0);
  for (int64_t i = 0; i < n; ++i) {
    const int64_t c = assignment[size_t(i)];
    ++count[size_t(c)];
    for (int64_t j = 0; j < dim; ++j) sum[size_t(c * dim + j)] += x[i * dim + j];
  }
  for (int64_t c = 0; c < k; ++c) {
    if (count[size_t(c)] == 0) {
      int64_t far = -1;
      for (int64_t i = 0; i < n; ++i)
        if (count[size_t(assignment[size_t(i)])] > 1 && (far < 0 || dist[size_t(i)] > dist[size_t(far)])) far = i;
      if (far < 0) continue;  // cannot happen when k <= n
      const int64_t from = assignment[size_t(far)];
      for (int64_t j = 0; j < dim; ++j) {
        sum[size_t(from * dim + j)] -= x[far * dim + j];
        sum[size_t(c * dim + j)] = x[far * dim + j];
      }
      --count[size_t(from)];
      count[size_t(c)] = 1;
      assignment[size_t(far)] = c;
      dist[size_t(far)] = 0.0f;
    }
  }
  for (int64_t c = 0; c < k; ++c)
    for (int64_t j = 0; j < dim; ++j)
      centroids[size_t(c * dim + j)] = float(sum[size_t(c * dim + j)] / double(count[size_t(c)]));
}

}  // namespace

KMeansResult kmeans(const float* points, int64_t n, int64_t dim, const KMeansOptions& opt) {
  LMP_CHECK(dim >= 1, "k-means: dimension must be >= 1, found ", dim);
  LMP_CHECK(opt.k >= 1 && opt.k <= n, "k-means: k must be in [1, ", n, "] (the number of points), found ",
            opt.k);
  LMP_CHECK(opt.max_iterations >= 1, "k-means: max iterations must be >= 1, found ", opt.max_iterations);
  for (int64_t i = 0; i < n * dim; ++i)
    LMP_CHECK(std::isfinite(points[i]), "k-means: point ", i / dim, " coordinate ", i % dim,
              " expected finite, found ", points[i]);
  KMeansResult r;
  r.k = opt.k;
  r.dim = dim;
  Rng rng(opt.seed);
  r.centroids = init_plus_plus(points, n, dim, opt.k, rng);
  r.assignment.assign(size_t(n), -1);
  std::vector<float> dist(static_cast<size_t>(n));
  assign(points, n, dim, r.centroids, opt.k, r.assignment, dist);
  while (r.iterations < opt.max_iterations) {
    ++r.iterations;
    update(points, n, dim, opt.k, r.assignment, dist, r.centroids);
    if (assign(points, n, dim, r.centroids, opt.k, r.assignment, dist) == 0) {
      r.converged = true;
      break;
    }
  }
  return r;
}

std::vector<int64_t> nearest_distinct(const float* points, int64_t n, const float* centroids, int64_t k,
                                      int64_t dim) {
  LMP_CHECK(k <= n, "k-means: ", k, " centroids need at least as many points, found ", n);
  std::vector<std::tuple<float, int64_t, int64_t>> pairs(size_t(k * n));
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < k; ++c)
    for (int64_t i = 0; i < n; ++i)
      pairs[size_t(c * n + i)] = {squared_distance(points + i * dim, centroids + c * dim, dim), c, i};
  std::sort(pairs.begin(), pairs.end());
  std::vector<int64_t> pick(size_t(k), -1);
  std::vector<bool> taken(size_t(n), false);
  int64_t left = k;
  for (const auto& [d, c, i] : pairs) {
    if (pick[size_t(c)] >= 0 || taken[size_t(i)]) continue;
    pick[size_t(c)] = i;
    taken[size_t(i)] = true;
    if (--left == 0) break;
  }
  return pick;
}

}  // namespace lmp
