// Running one block over the calibration activations in batches, accumulating the statistics of its
// linears. Two schedules (see pipeline.h): staged sub-layer by sub-layer, or one whole-block pass.
//
// Two activation streams: `x` is the input of the model compressed so far (X̃, the "shift" stream) and
// always exists; `x_orig` is the original model's (X) and exists only when some linear's method needs
// the cross term C = XᵀX̃ (kStatCross). The orig stream always runs the original weights.
#pragma once
#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "compress/linear_stats.h"
#include "io/float_store.h"
#include "model/block_weights.h"
#include "model/model.h"

namespace lmp {

// Compresses the linears of group `leaves` (which share one input) given their shared statistics, and
// writes the compressed weights into the block. The statistics are the compressor's to consume: the
// caller frees them right after.
using GroupCompressor = std::function<void(const std::vector<std::string>& leaves, LinearStats& stats)>;

struct CalibActivations {
  FloatStore x;       // [n·seq, hidden]: the block's input, replaced by its output
  FloatStore x_orig;  // [n·seq, hidden] or empty: the original model's stream, advanced likewise
  int64_t n = 0, seq = 0;     // samples, tokens per sample
  int64_t batch = 8;          // samples per batch
  // "linear" sequencing keeps each row's attention output and MLP hidden state between the steps that
  // use them ([rows, q_dim + intermediate] floats); false recomputes them instead (same values, about a
  // third more forward work) when memory says no.
  bool keep_sublayer_outputs = true;
  bool tracks_orig() const { return !x_orig.empty(); }
  // After a batch: spilled streams let go of its rows (they stay in the scratch file).
  void release_rows(int64_t r0, int64_t rows) const;
};

// The four input groups of a block in sequential order: {q,k,v}, {o}, {gate,up}, {down}.
const std::vector<std::vector<std::string>>& block_linear_groups();

// The statistics (StatFlags) to accumulate for each group, in block_linear_groups() order.
using GroupFlags = std::array<uint32_t, 4>;
inline GroupFlags same_flags(uint32_t f) { return {f, f, f, f}; }

// "linear" sequencing: each group's statistics from the outputs of the already-compressed groups,
// every sub-layer computed once; `w` is updated by `compress` as it goes; x becomes the block output.
void run_block_staged(const Model& model, int64_t layer, BlockWeights& w, CalibActivations& act,
                      const GroupFlags& flags, const GroupCompressor& compress);

// "block" sequencing: statistics of every group from one forward with the original weights (which
// stops at down_proj's input: its output is not needed), then compression of all groups, then x becomes
// the output of the compressed block.
void run_block_whole(const Model& model, int64_t layer, BlockWeights& w, CalibActivations& act,
                     const GroupFlags& flags, const GroupCompressor& compress);

// x becomes the output of block `layer` under weights `w` (the orig stream is not touched).
void advance_stream(const Model& model, int64_t layer, const BlockWeights& w, CalibActivations& act);

// Statistics of lm_head's input, rms_norm(x) with the final norm, over both streams' final hidden states
// (for --include-head, after the last block).
LinearStats head_stats(const Model& model, const CalibActivations& act, uint32_t flags);

}  // namespace lmp
