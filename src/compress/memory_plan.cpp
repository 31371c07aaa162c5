// The memory plan (see memory_plan.h).
#include "compress/memory_plan.h"

#include <algorithm>
#include <cstdio>

#include "compress/linear_stats.h"

namespace lmp {

namespace {
constexpr double kMiB = 1.0 / (1024.0 * 1024.0);

double block_params(const ModelConfig& c) { return double(c.block_linear_params()); }
}  // namespace

double stats_bytes(int64_t in, uint32_t flags) {
  const double square = double(in) * double(in) * 8;
  double b = 0;
  if (flags & kStatHessian) b += square;
  if (flags & kStatCross) b += square;
  if (flags & kStatOrigGram) b += square;
  if (flags & kStatColNorms) b += double(in) * 8;
  return b;
}

double MemoryPlan::total() const {
  const double streams = activations + orig_stream + sublayer + orig_inputs + workspace;
  const double block_phase = block + blocks_kept + stats + scratch + sink;
  return baseline + streams + std::max(block_phase, head);
}

MemoryPlan plan_compress_memory(const MemoryPlanInput& in) {
  const ModelConfig& c = in.config;
  const double rows = double(in.n * in.seq), batch_rows = double(std::min(in.batch, in.n) * in.seq);
  const double dim = double(c.hidden_size), qd = double(c.q_dim()), kvd = double(c.kv_dim());
  const double inter = double(c.intermediate_size);
  MemoryPlan p;
  p.baseline = in.baseline_mb;
  p.available = in.available_mb;
  p.activations = rows * dim * 4 * kMiB;
  p.orig_stream = in.orig ? p.activations : 0;
  p.orig_inputs = in.orig ? rows * (2 * dim + qd + inter) * 4 * kMiB : 0;
  // One batch through a block's sub-layers (q, k, v, the attention and MLP outputs, the norms), twice
  // with the original stream; the attention's per-thread score rows are small beside them.
  p.workspace = batch_rows * (2 * qd + 2 * kvd + 3 * inter + 3 * dim) * 4 * (in.orig ? 2 : 1) * kMiB;
  // One block of f32 weights and the byte codes of its compressed linears; the original block beside
  // it when the original stream runs.
  p.block = block_params(c) * (4 + 1 + (in.orig ? 4 : 0)) * kMiB;
  p.blocks_kept = in.keep_compressed ? double(c.num_layers - 1) * block_params(c) * 4 * kMiB : 0;
  p.stats = in.stats_bytes * kMiB;
  p.scratch = in.scratch_bytes * kMiB;
  p.head = in.head_bytes * kMiB;
  p.sink = in.sink_bytes * kMiB;
  const double sublayer = in.linear_sequential ? rows * (qd + inter) * 4 * kMiB : 0;
  p.sublayer = sublayer;
  p.keep_sublayer = p.available <= 0 || p.total() <= 0.8 * p.available;
  if (!p.keep_sublayer) p.sublayer = 0;  // recomputed per batch: within the workspace
  p.spill = p.available > 0 && p.total() > 0.9 * p.available;
  if (p.spill) {  // one batch of each stream resident, the rest in the scratch file's page cache
    p.spilled = p.activations + p.orig_stream;
    const double resident = batch_rows * dim * 4 * kMiB;
    p.activations = resident;
    p.orig_stream = in.orig ? resident : 0;
  }
  return p;
}

void print_memory_plan(const MemoryPlan& p, int64_t n, int64_t seq) {
  std::fprintf(stderr, "compress: memory plan %.0f MB: process %.0f, activations %.0f (%lld x %lld tokens)",
               p.total(), p.baseline, p.activations, (long long)n, (long long)seq);
  if (p.spill) std::fprintf(stderr, " (%.0f MB of streams spilled to a scratch file: over %.0f MB)", p.spilled, p.available);
  if (p.orig_stream > 0)
    std::fprintf(stderr, " + original stream %.0f + its linear inputs %.0f", p.orig_stream, p.orig_inputs);
  if (p.sublayer > 0) std::fprintf(stderr, ", sub-layer buffers %.0f", p.sublayer);
  if (!p.keep_sublayer) std::fprintf(stderr, " (sub-layer outputs recomputed: they do not fit %.0f MB)", p.available);
  std::fprintf(stderr, ", batch %.0f, block weights %.0f", p.workspace, p.block);
  if (p.blocks_kept > 0) std::fprintf(stderr, " + compressed blocks kept %.0f", p.blocks_kept);
  std::fprintf(stderr, ", statistics %.0f, method scratch %.0f, writer %.0f", p.stats, p.scratch, p.sink);
  if (p.head > 0) std::fprintf(stderr, "; head phase %.0f", p.head);
  std::fprintf(stderr, "\n");
}

}  // namespace lmp
