// COLA stage 3 (He et al., NeurIPS 2025, arXiv 2510.10618): pick calibration samples that cover the
// model's activation space — cluster per-candidate activation summaries and keep one per cluster.
#pragma once
#include <vector>

#include "calib/selection.h"
#include "model/model.h"

namespace lmp {

constexpr int64_t kColaProjectionDim = 64;

// Per candidate: for every block, the mean over the L positions of the MLP output (down_proj's
// output, before the residual add), L2-normalized per block, concatenated: [candidates, blocks*hidden].
std::vector<float> cola_features(const Model& model, const std::vector<Candidate>& candidates,
                                 int64_t batch = 8);

// Seeded Gaussian random projection of rows [n, in] to [n, out] (entries N(0, 1/out)).
std::vector<float> random_project(const std::vector<float>& x, int64_t n, int64_t in, int64_t out,
                                  uint64_t seed);

// Features -> 64-dim projection -> k-means with k = opt.n -> the distinct candidate nearest each
// centroid. Rows are output in centroid order.
Selection select_cola(const Model& model, const std::vector<Candidate>& candidates,
                      const SelectOptions& opt);

}  // namespace lmp
