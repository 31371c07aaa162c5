// The memory plan of one compression run (docs/memory.md): everything the block-by-block pipeline holds
// at its peak, counted before any work so that it can be printed, reported (`compress --json`'s
// memory_plan) and checked against the measured peak (tests/cli/memory_plan_test.cpp).
//
// The peak is inside one block: the process as it stood before the run (binary, libraries, tokenizer,
// calibration ids), the calibration stream(s), the sub-layer buffers, one block of f32 weights (two
// when the original model's block runs beside the compressed one), the statistics alive at once, the
// scratch of the method on the largest linear, and what the writer holds for one block. Nothing grows
// with the number of blocks: each is read from the mapped checkpoint, compressed, handed to the writer
// and dropped.
#pragma once
#include <cstdint>

#include "model/model_config.h"

namespace lmp {

struct MemoryPlanInput {
  ModelConfig config;
  int64_t n = 0, seq = 0, batch = 1;  // calibration samples, tokens per sample, samples per forward
  bool linear_sequential = true;      // "linear": sub-layer buffers of all rows; "block": none
  bool orig = false;                  // the original model's stream (and block) run beside
  bool keep_compressed = true;        // the model keeps every compressed block (grows with depth)
  double stats_bytes = 0;             // the most the statistics hold at once
  double scratch_bytes = 0;           // the most a method holds at once (MethodChain::scratch_bytes)
  double head_bytes = 0;              // --include-head: the f32 head and its statistics
  double sink_bytes = 0;              // what the writer holds for one block
  double baseline_mb = 0;             // the process before the run (current_rss_mb)
  double available_mb = 0;            // the budget: --max-memory, or what the machine has (0 = unknown)
};

// MiB each.
struct MemoryPlan {
  double baseline = 0, activations = 0, orig_stream = 0, sublayer = 0, orig_inputs = 0, workspace = 0;
  double block = 0, blocks_kept = 0, stats = 0, scratch = 0, head = 0, sink = 0;
  double available = 0;
  bool keep_sublayer = true;  // false: sub-layer outputs are recomputed (they do not fit)
  // The calibration streams live in a scratch file (they do not fit even then): `activations` and
  // `orig_stream` count the batch resident at a time, `spilled` the bytes on disk.
  bool spill = false;
  double spilled = 0;
  double total() const;
};

MemoryPlan plan_compress_memory(const MemoryPlanInput& in);

// The statistics of one linear group with input width `in` under StatFlags `flags`, in bytes.
double stats_bytes(int64_t in, uint32_t flags);

// One line on stderr: each part and the total.
void print_memory_plan(const MemoryPlan& p, int64_t n, int64_t seq);

}  // namespace lmp
