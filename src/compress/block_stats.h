// Running one block over the calibration activations in batches, accumulating the statistics of its
// linears. Two schedules (see pipeline.h): staged sub-layer by sub-layer, or one whole-block pass.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "compress/linear_stats.h"
#include "model/block_weights.h"
#include "model/model.h"

namespace lmp {

// Compresses the linears of group `leaves` (which share one input) given their shared statistics, and
// writes the compressed weights into the block.
using GroupCompressor = std::function<void(const std::vector<std::string>& leaves, const LinearStats& stats)>;

struct CalibActivations {
  std::vector<float> x;      // [n·seq, hidden]: the block's input, replaced by its output
  int64_t n = 0, seq = 0;    // samples, tokens per sample
  int64_t batch = 8;         // samples per batch
};

// The four input groups of a block in sequential order: {q,k,v}, {o}, {gate,up}, {down}.
const std::vector<std::vector<std::string>>& block_linear_groups();

// "linear" sequencing: each group's statistics from the outputs of the already-compressed groups,
// every sub-layer computed once; `w` is updated by `compress` as it goes; x becomes the block output.
void run_block_staged(const Model& model, int64_t layer, BlockWeights& w, CalibActivations& act,
                      uint32_t flags, const GroupCompressor& compress);

// "block" sequencing: statistics of every group from one forward with the original weights, then
// compression of all groups, then x becomes the output of the compressed block.
void run_block_whole(const Model& model, int64_t layer, BlockWeights& w, CalibActivations& act,
                     uint32_t flags, const GroupCompressor& compress);

}  // namespace lmp
