// k-means (Lloyd, 1982) with seeded k-means++ initialization (Arthur & Vassilvitskii, SODA 2007),
// on row-major f32 points. Used by the COLA selector.
#pragma once
#include <cstdint>
#include <vector>

namespace lmp {

struct KMeansOptions {
  int64_t k = 8;
  uint64_t seed = 0;
  int64_t max_iterations = 100;  // Lloyd iterations cap; stops earlier when no assignment changes
};

struct KMeansResult {
  int64_t k = 0, dim = 0;
  std::vector<float> centroids;     // [k, dim]
  std::vector<int64_t> assignment;  // cluster of each point
  int64_t iterations = 0;
  bool converged = false;
};

// Clusters points [n, dim]. Requires 1 <= k <= n. An empty cluster is re-seeded with the point
// farthest from its centroid. Deterministic for a seed.
KMeansResult kmeans(const float* points, int64_t n, int64_t dim, const KMeansOptions& opt);

// Squared Euclidean distance of two dim-vectors.
float squared_distance(const float* a, const float* b, int64_t dim);

// For each centroid, one distinct point: pairs are taken by increasing distance (ties: lower centroid,
// then lower point), so a point claimed by a nearer centroid sends the other to its next nearest unused
// point. Requires k <= n.
std::vector<int64_t> nearest_distinct(const float* points, int64_t n, const float* centroids, int64_t k,
                                      int64_t dim);

}  // namespace lmp
