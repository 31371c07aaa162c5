// k-means: recovers well-separated synthetic clusters, is deterministic for a seed, survives
// duplicate points; nearest_distinct resolves two centroids wanting the same point.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <set>

#include "calib/kmeans.h"
#include "core/error.h"
#include "model/sampler.h"

using namespace lmp;

namespace {

// `per` points around each of `k` centres (centre c has coordinate 20 at axis c, 0 elsewhere),
// uniform noise in [-1, 1]; points are interleaved so cluster i's points are not contiguous.
std::vector<float> blobs(int64_t k, int64_t per, int64_t dim, std::vector<int64_t>& truth) {
  Rng rng(42);
  std::vector<float> x;
  for (int64_t i = 0; i < k * per; ++i) {
    const int64_t c = i % k;
    truth.push_back(c);
    for (int64_t j = 0; j < dim; ++j) x.push_back((j == c ? 20.0f : 0.0f) + float(2.0 * rng.uniform() - 1.0));
  }
  return x;
}

}  // namespace

TEST(KMeans, RecoversSeparableClusters) {
  const int64_t k = 5, per = 40, dim = 8;
  std::vector<int64_t> truth;
  const std::vector<float> x = blobs(k, per, dim, truth);
  for (uint64_t seed : {0u, 1u, 7u}) {
    KMeansOptions opt;
    opt.k = k;
    opt.seed = seed;
    const KMeansResult r = kmeans(x.data(), k * per, dim, opt);
    EXPECT_TRUE(r.converged);
    // A bijection between found clusters and true ones.
    std::map<int64_t, int64_t> to_truth;
    std::set<int64_t> seen;
    for (size_t i = 0; i < truth.size(); ++i) {
      auto [it, fresh] = to_truth.emplace(r.assignment[i], truth[i]);
      EXPECT_EQ(it->second, truth[i]) << "point " << i << " seed " << seed;
      if (fresh) {
        EXPECT_TRUE(seen.insert(truth[i]).second);
      }
    }
    EXPECT_EQ(to_truth.size(), size_t(k));
    for (int64_t c = 0; c < k; ++c)  // each centroid sits near its true centre
      EXPECT_NEAR(r.centroids[size_t(c * dim + to_truth[c])], 20.0f, 0.5f);
  }
}

TEST(KMeans, DeterministicForASeed) {
  std::vector<int64_t> truth;
  Rng rng(3);
  std::vector<float> x(300 * 4);
  for (float& v : x) v = float(rng.uniform());
  KMeansOptions opt;
  opt.k = 12;
  opt.seed = 5;
  const KMeansResult a = kmeans(x.data(), 300, 4, opt), b = kmeans(x.data(), 300, 4, opt);
  EXPECT_EQ(a.assignment, b.assignment);
  EXPECT_EQ(a.centroids, b.centroids);
  opt.seed = 6;
  EXPECT_NE(kmeans(x.data(), 300, 4, opt).centroids, a.centroids);
}

TEST(KMeans, DuplicatePointsStillGiveKNonEmptyClusters) {
  std::vector<float> x = {1, 1, 1, 1, 1, 1, 1, 1, 5, 5};  // 5 points in 2-D, four identical
  KMeansOptions opt;
  opt.k = 3;
  const KMeansResult r = kmeans(x.data(), 5, 2, opt);
  std::vector<int64_t> count(3, 0);
  for (int64_t a : r.assignment) ++count[size_t(a)];
  for (int64_t c : count) EXPECT_GE(c, 1);
}

TEST(KMeans, NearestDistinctGivesTheNextNearestOnACollision) {
  // Points on a line at 0, 1, 2, 10; centroids at 0.1 and 0.4 both want point 0.
  const std::vector<float> pts = {0, 1, 2, 10}, cents = {0.4f, 0.1f};
  const std::vector<int64_t> pick = nearest_distinct(pts.data(), 4, cents.data(), 2, 1);
  EXPECT_EQ(pick, (std::vector<int64_t>{1, 0}));  // 0.1 is nearer to 0, so 0.4 takes point 1
}

TEST(KMeans, RejectsBadArguments) {
  const std::vector<float> x = {0, 1, 2};
  KMeansOptions opt;
  opt.k = 4;
  EXPECT_THROW(kmeans(x.data(), 3, 1, opt), Error);
  opt.k = 0;
  EXPECT_THROW(kmeans(x.data(), 3, 1, opt), Error);
  const std::vector<float> bad = {0, NAN, 2};
  opt.k = 2;
  EXPECT_THROW(kmeans(bad.data(), 3, 1, opt), Error);
}
