// The block-by-block compression pipeline (docs/ARCHITECTURE.md, "the spine"): calibration activations
// flow through the model one transformer block at a time; at each linear the method's statistics are
// accumulated from the inputs the already-compressed model produces, the linear is compressed, and the
// block's outputs (computed with the compressed weights) feed the next block.
//
// Sequencing inside a block:
//   linear: sub-layer by sub-layer ({q,k,v} → o → {gate,up} → down), each group's statistics from inputs
//           produced by the already-compressed linears before it; every sub-layer is computed once
//           (GPTQ's "true sequential").
//   block:  statistics of all seven linears from one forward of the block before any of them changes
//           (the reference Wanda / SparseGPT / magnitude).
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "compress/compressed_linear.h"
#include "compress/linear_method.h"
#include "model/model.h"

namespace lmp {

struct PipelineOptions {
  MethodSpec spec;
  std::string sequential;            // "linear" | "block" | "" = the method's default
  std::vector<std::string> ignore;   // ECMAScript regexes on canonical names (search, not full match)
  int64_t batch_samples = 8;         // calibration samples per forward batch
};

struct CompressedBlock {
  int64_t index = 0;
  std::map<std::string, CompressedLinear> linears;  // by leaf ("self_attn.q_proj"); ignored ones absent
};

struct PipelineReport {
  std::string method, sequential;
  int64_t linears = 0, ignored = 0;
  double seconds = 0;
  double bpw_codes = 0, bpw_total = 0, sparsity = 0;  // weighted by parameter count
  int64_t params = 0;                                  // parameters of the compressed linears
};

// Called after each block with its compressed linears (writers stream from here).
using BlockSink = std::function<void(const CompressedBlock&)>;

// Compresses every block of `model` in place (Model::set_block) using calibration ids [n, seq]
// (row-major); returns the aggregate report.
PipelineReport compress_model(Model& model, const std::vector<int32_t>& calib_ids, int64_t n, int64_t seq,
                              const PipelineOptions& opt, const BlockSink& sink = nullptr);

// The sequencing a method uses by default: "linear" for gptq/rtn/nf4, "block" for pruning methods.
std::string default_sequential(const std::string& method);

}  // namespace lmp
