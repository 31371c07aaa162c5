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
//
// What each linear gets is a Recipe (recipe.h): its chain of methods resolved by its canonical name
// (the last matching override wins), or a skip. `--method` options are the one-stage recipe.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "compress/compressed_linear.h"
#include "compress/linear_method.h"
#include "compress/recipe.h"
#include "model/model.h"
#include "train/block_refine.h"

namespace lmp {

class ResumeStore;

struct PipelineOptions {
  MethodSpec spec;                   // the one-stage recipe of --method, used when `recipe` is empty
  std::optional<Recipe> recipe;      // chains and overrides (recipe.h); takes the place of `spec`
  std::string sequential;            // "linear" | "block" | "" = the recipe's (or its default)
  std::vector<std::string> ignore;   // ECMAScript regexes on canonical names (search, not full match),
                                     // appended to the recipe as skip overrides
  int64_t batch_samples = 8;         // calibration samples per forward batch
  bool include_head = false;         // also compress lm_head (name "lm_head.weight"; overrides apply),
                                     // from the final norm's output after the last block
  // true: the model keeps each compressed block (Model::set_block), to be evaluated in memory after.
  // false: each block is released once the sink has it, so memory holds one block at a time (the CLI,
  // whose writers stream).
  bool keep_compressed = true;
  double sink_block_bytes = 0;       // what the sink (the writer) holds for one block, for the memory plan
  // Block refinement after each block's linears (AA-SVD, compress/block_refine_stage.h); carries the
  // original model's stream.
  std::optional<RefineOptions> refine;
  // Saves each finished block and the stream after it, and continues from the blocks saved by an
  // interrupted run (compress/resume.h): those are handed to the sink as they were saved. Needs
  // keep_compressed false.
  ResumeStore* resume = nullptr;
  // The memory budget in MiB (0: what the machine has available). When the plan does not fit it, the
  // sub-layer outputs are recomputed, and if it still does not fit, the calibration streams spill to a
  // scratch file in `spill_dir` (io/float_store.h; docs/memory.md).
  double max_memory_mb = 0;
  std::string spill_dir = ".";
};

// The recipe compress_model runs for `opt`: opt.recipe or the one-stage recipe of opt.spec, with
// opt.sequential (when set) and opt.ignore applied.
Recipe pipeline_recipe(const PipelineOptions& opt);

struct CompressedBlock {
  int64_t index = 0;
  std::map<std::string, CompressedLinear> linears;  // by leaf ("self_attn.q_proj"); ignored ones absent
  // The block's other tensors a block stage changed (refinement: RMSNorm weights, biases), f32 by
  // canonical name ("model.layers.3.input_layernorm.weight"); writers store these instead of the input's.
  std::map<std::string, Tensor> tensors;
};

// How many linears one override of the recipe decided, and what it did.
struct OverrideReport {
  std::string origin, match;   // "overrides[1]" / "--ignore", the regex
  std::string chain;           // "gptq" / "sparsegpt+gptq", or "skip"
  int64_t linears = 0;
};

// One block's refinement: mean squared error against the original block's outputs.
struct BlockRefineSummary {
  int64_t block = 0;
  double mse_before = 0, mse_after = 0, seconds = 0;
  int64_t steps = 0;
};

struct PipelineReport {
  std::string method, sequential;                    // method: the recipe's chain, "sparsegpt+gptq"
  std::vector<OverrideReport> overrides;
  int64_t linears = 0, ignored = 0;
  double seconds = 0;
  double bpw_codes = 0, bpw_total = 0, sparsity = 0;  // weighted by parameter count
  int64_t params = 0;                                  // parameters of the compressed linears
  std::vector<BlockRefineSummary> refine;              // per block, when PipelineOptions::refine
  double memory_plan_mb = 0;                           // the plan's peak (compress/memory_plan.h)
  double spilled_mb = 0;                               // calibration streams kept in a scratch file
  int64_t resumed_blocks = 0;                          // blocks an interrupted run had finished
};

// Called after each block with its compressed linears (writers stream from here), and with the
// compressed lm_head when include_head is set and no override skips it.
using BlockSink = std::function<void(const CompressedBlock&)>;
using HeadSink = std::function<void(const CompressedLinear&)>;

// Compresses every block of `model` in place (Model::set_block unless !keep_compressed; Model::set_lm_head
// with include_head)
// using calibration ids [n, seq] (row-major); returns the aggregate report.
PipelineReport compress_model(Model& model, const std::vector<int32_t>& calib_ids, int64_t n, int64_t seq,
                              const PipelineOptions& opt, const BlockSink& sink = nullptr,
                              const HeadSink& head_sink = nullptr);

}  // namespace lmp
