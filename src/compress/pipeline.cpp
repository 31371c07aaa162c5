#include "compress/pipeline.h"

#include <chrono>
#include <cmath>
#include <cstdio>

#include "compress/block_refine_stage.h"
#include "compress/block_stats.h"
#include "compress/method_chain.h"
#include "core/error.h"
#include "core/memory.h"
#include "core/progress.h"

namespace lmp {

Recipe pipeline_recipe(const PipelineOptions& opt) {
  Recipe r = opt.recipe ? *opt.recipe : recipe_from_method(opt.spec);
  if (!opt.sequential.empty()) r.sequential = opt.sequential;
  add_ignore(r, opt.ignore);
  return r;
}

namespace {

// The chains of a recipe, built once (a --method recipe's errors are the methods' own messages); the
// chain of a linear by its canonical name, nullptr when an override skips it.
class RecipePlan {
 public:
  explicit RecipePlan(const Recipe& r)
      : recipe_(r), base_(r.stages, r.source.empty() ? "" : r.source + ": stages") {
    for (const RecipeOverride& o : r.overrides)
      overrides_.push_back(o.skip ? nullptr
                                  : std::make_unique<MethodChain>(
                                        o.stages, r.source.empty() ? "" : r.source + ": " + o.origin + ".stages"));
  }
  const MethodChain& base() const { return base_; }
  // `which`: the deciding override, or -1.
  const MethodChain* chain_for(const std::string& name, int& which) const {
    which = match_override(recipe_, name);
    return which < 0 ? &base_ : overrides_[size_t(which)].get();
  }
  // Union of the statistics the chains of `leaves` of block b need.
  uint32_t needs(int64_t b, const std::vector<std::string>& leaves) const {
    uint32_t flags = 0;
    int which = -1;
    for (const std::string& leaf : leaves)
      if (const MethodChain* c = chain_for(names::layer(b, leaf + ".weight"), which)) flags |= c->needs();
    return flags;
  }

 private:
  const Recipe& recipe_;
  MethodChain base_;
  std::vector<std::unique_ptr<MethodChain>> overrides_;
};

std::vector<OverrideReport> override_reports(const Recipe& r) {
  std::vector<OverrideReport> out;
  for (const RecipeOverride& o : r.overrides)
    out.push_back({o.origin, o.match, o.skip ? "skip" : chain_name(o.stages), 0});
  return out;
}

void check_finite(const std::string& what, const std::string& name, const float* p, int64_t n) {
  for (int64_t i = 0; i < n; ++i)
    LMP_CHECK(std::isfinite(p[i]), "compress: ", name, ": ", what, " has a non-finite value (", p[i],
              ") at flat index ", i);
}

void check_stats(const std::string& name, const LinearStats& s) {
  for (size_t i = 0; i < s.hessian.size(); ++i)
    LMP_CHECK(std::isfinite(s.hessian[i]), "compress: ", name, ": the Hessian has a non-finite entry at (",
              i / size_t(s.in), ", ", i % size_t(s.in), ") — the calibration activations overflow");
}

// What the calibration run holds, in MiB, and whether staged sequencing can keep its sub-layer outputs.
struct MemoryPlan {
  double activations = 0, orig_stream = 0, sublayer = 0, orig_inputs = 0, hessian = 0, block = 0;
  double available = 0;
  bool keep_sublayer = true;
};

MemoryPlan plan_memory(const ModelConfig& c, int64_t n, int64_t seq, const std::string& sequential, bool orig) {
  const double mb = 1.0 / (1024.0 * 1024.0), rows = double(n * seq);
  MemoryPlan p;
  p.activations = rows * double(c.hidden_size) * 4 * mb;
  p.orig_stream = orig ? p.activations : 0;
  p.sublayer = sequential == "linear" ? rows * double(c.q_dim() + c.intermediate_size) * 4 * mb : 0;
  p.orig_inputs = orig ? rows * double(2 * c.hidden_size + c.q_dim() + c.intermediate_size) * 4 * mb : 0;
  const int64_t max_in = std::max(c.hidden_size, c.intermediate_size);
  p.hessian = double(max_in * max_in) * 8 * mb * (orig ? 2 : 1);
  p.block = 4.0 * double(c.hidden_size * (2 * c.q_dim() + 2 * c.kv_dim()) + 3 * c.hidden_size * c.intermediate_size) * mb;
  p.available = available_memory_mb();
  const double total = p.activations + p.orig_stream + p.sublayer + p.orig_inputs + p.hessian + 2 * p.block;
  p.keep_sublayer = p.available <= 0 || total <= 0.8 * p.available;
  return p;
}

void print_memory_plan(const MemoryPlan& p, int64_t n, int64_t seq) {
  std::fprintf(stderr, "compress: memory plan: activations %.0f MB (%lld x %lld tokens)", p.activations,
               (long long)n, (long long)seq);
  if (p.orig_stream > 0)
    std::fprintf(stderr, " + original-model stream %.0f MB + its linear inputs %.0f MB", p.orig_stream, p.orig_inputs);
  if (p.sublayer > 0)
    std::fprintf(stderr, p.keep_sublayer ? ", sub-layer buffers %.0f MB" : ", sub-layer buffers %.0f MB (recomputed "
                 "instead: they do not fit the %.0f MB available)", p.sublayer, p.available);
  std::fprintf(stderr, ", largest Hessian %.0f MB, one block of f32 weights %.0f MB\n", p.hessian, p.block);
}

struct Totals {
  double codes_bits = 0, total_bits = 0, zeros = 0;
  int64_t params = 0, linears = 0, ignored = 0;
  void add(const CompressedLinear& c) {
    const double p = double(c.weight.numel());
    const BitsPerWeight b = bits_per_weight(c);
    codes_bits += b.codes * p;
    total_bits += b.total * p;
    zeros += c.sparsity() * p;
    params += c.weight.numel();
    ++linears;
  }
};

}  // namespace

PipelineReport compress_model(Model& model, const std::vector<int32_t>& ids, int64_t n, int64_t seq,
                              const PipelineOptions& opt, const BlockSink& sink, const HeadSink& head_sink) {
  const auto t0 = std::chrono::steady_clock::now();
  const ModelConfig& c = model.config();
  LMP_CHECK(n > 0 && seq > 0 && int64_t(ids.size()) == n * seq, "compress: calibration ids hold ",
            ids.size(), " tokens, expected ", n, " x ", seq);
  const Recipe recipe = pipeline_recipe(opt);
  const RecipePlan plan(recipe);
  const std::string sequential = recipe_sequential(recipe);
  LMP_CHECK(sequential == "linear" || sequential == "block", "compress: --sequential must be linear or block, found '",
            sequential, "'");
  const auto& groups = block_linear_groups();
  std::vector<GroupFlags> flags(size_t(c.num_layers));
  bool orig = false;
  for (int64_t b = 0; b < c.num_layers; ++b)
    for (size_t g = 0; g < groups.size(); ++g) {
      flags[size_t(b)][g] = plan.needs(b, groups[g]);
      orig = orig || (flags[size_t(b)][g] & kStatNeedsOrig);
    }
  int head_override = -1;
  const MethodChain* head_chain = opt.include_head ? plan.chain_for(names::lm_head(), head_override) : nullptr;
  orig = orig || (head_chain && (head_chain->needs() & kStatNeedsOrig));
  orig = orig || opt.refine.has_value();  // refinement's targets are the original block's outputs
  const MemoryPlan mem = plan_memory(c, n, seq, sequential, orig);
  if (Progress::enabled()) print_memory_plan(mem, n, seq);

  CalibActivations act;
  act.n = n;
  act.seq = seq;
  act.batch = std::max<int64_t>(1, opt.batch_samples);
  act.keep_sublayer_outputs = mem.keep_sublayer;
  act.x.resize(size_t(n * seq * c.hidden_size));
  model.embed(ids, act.x.data());
  if (orig) act.x_orig = act.x;  // a method anchored to the original model: carry its stream too

  Totals totals;
  std::vector<OverrideReport> overrides = override_reports(recipe);
  Progress progress("compress " + plan.base().name(), c.num_layers, "blocks");
  std::vector<BlockRefineSummary> refined;
  for (int64_t b = 0; b < c.num_layers; ++b) {
    BlockWeights w = model.block(b);  // a copy we compress in place
    CompressedBlock out;
    out.index = b;
    const GroupCompressor compress = [&](const std::vector<std::string>& leaves, const LinearStats& stats) {
      for (const std::string& leaf : leaves) {
        const std::string name = names::layer(b, leaf + ".weight");
        int which = -1;
        const MethodChain* chain = plan.chain_for(name, which);
        if (which >= 0) ++overrides[size_t(which)].linears;
        if (!chain) {
          ++totals.ignored;
          continue;
        }
        Tensor& weight = w.linear(leaf);
        check_finite("weight", name, weight.f32(), weight.numel());
        check_stats(name, stats);
        CompressedLinear cl = chain->run(name, weight, stats);
        weight = cl.weight;
        totals.add(cl);
        out.linears.emplace(leaf, std::move(cl));
      }
    };
    std::vector<float> x_in;  // the block's shifted inputs, when it is refined
    if (opt.refine) x_in = act.x;
    // Per input group, the union of the statistics its linears' chains need.
    if (sequential == "linear") run_block_staged(model, b, w, act, flags[size_t(b)], compress);
    else run_block_whole(model, b, w, act, flags[size_t(b)], compress);
    if (opt.refine) {
      const auto r0 = std::chrono::steady_clock::now();
      const RefineReport rr = refine_compressed_block(model, b, w, out, x_in.data(), act.x_orig.data(), n, seq,
                                                      *opt.refine);
      refined.push_back({b, rr.mse_before, rr.mse_after,
                         std::chrono::duration<double>(std::chrono::steady_clock::now() - r0).count(), rr.steps});
      act.x = std::move(x_in);  // the shifted stream through the refined block
      advance_stream(model, b, w, act);
    }
    model.set_block(b, std::move(w));
    if (sink) sink(out);
    progress.update(b + 1);
  }
  progress.finish();
  if (opt.include_head) {
    if (head_override >= 0) ++overrides[size_t(head_override)].linears;
    if (!head_chain) {
      ++totals.ignored;
    } else {
      const std::string name = names::lm_head();
      const Tensor& weight = model.lm_head();
      check_finite("weight", name, weight.f32(), weight.numel());
      const LinearStats stats = head_stats(model, act, head_chain->needs());
      check_stats(name, stats);
      CompressedLinear cl = head_chain->run(name, weight, stats);
      model.set_lm_head(cl.weight);
      totals.add(cl);
      if (head_sink) head_sink(cl);
    }
  }

  PipelineReport r;
  r.method = plan.base().name();
  r.sequential = sequential;
  r.overrides = std::move(overrides);
  r.linears = totals.linears;
  r.ignored = totals.ignored;
  r.params = totals.params;
  r.refine = std::move(refined);
  if (totals.params > 0) {
    r.bpw_codes = totals.codes_bits / double(totals.params);
    r.bpw_total = totals.total_bits / double(totals.params);
    r.sparsity = totals.zeros / double(totals.params);
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

}  // namespace lmp
