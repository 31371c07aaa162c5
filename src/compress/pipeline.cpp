#include "compress/pipeline.h"

#include <chrono>
#include <cmath>
#include <cstdio>

#include "compress/block_refine_stage.h"
#include "compress/block_stats.h"
#include "compress/memory_plan.h"
#include "compress/method_chain.h"
#include "compress/resume.h"
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

// The widths [in] of the four linear groups' inputs and [out] of each leaf, for the plan.
int64_t group_in(const ModelConfig& c, size_t g) {
  return g == 1 ? c.q_dim() : g == 3 ? c.intermediate_size : c.hidden_size;
}

int64_t leaf_out(const ModelConfig& c, const std::string& leaf) {
  if (leaf == "self_attn.q_proj") return c.q_dim();
  if (leaf == "self_attn.k_proj" || leaf == "self_attn.v_proj") return c.kv_dim();
  if (leaf == "mlp.gate_proj" || leaf == "mlp.up_proj") return c.intermediate_size;
  return c.hidden_size;
}

// The plan's inputs that depend on the recipe: the statistics alive at once (one group's under linear
// sequencing, freed before the next; all four under block) and the largest method scratch.
MemoryPlanInput plan_input(const Model& model, const RecipePlan& plan, const std::vector<GroupFlags>& flags,
                           const std::string& sequential, const MethodChain* head_chain) {
  const ModelConfig& c = model.config();
  const auto& groups = block_linear_groups();
  MemoryPlanInput in;
  in.config = c;
  for (int64_t b = 0; b < c.num_layers; ++b) {
    double block_stats = 0;
    for (size_t g = 0; g < groups.size(); ++g) {
      const double s = stats_bytes(group_in(c, g), flags[size_t(b)][g]);
      block_stats = sequential == "linear" ? std::max(block_stats, s) : block_stats + s;
      int which = -1;
      for (const std::string& leaf : groups[g])
        if (const MethodChain* chain = plan.chain_for(names::layer(b, leaf + ".weight"), which))
          in.scratch_bytes = std::max(in.scratch_bytes, chain->scratch_bytes(leaf_out(c, leaf), group_in(c, g),
                                                                             leaf == groups[g].back()));
    }
    in.stats_bytes = std::max(in.stats_bytes, block_stats);
  }
  if (head_chain) {
    const double vocab = double(c.vocab_size), dim = double(c.hidden_size);
    in.head_bytes = vocab * dim * 4 + stats_bytes(c.hidden_size, head_chain->needs()) +
                    head_chain->scratch_bytes(c.vocab_size, c.hidden_size, true);
  }
  return in;
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
  MemoryPlanInput mi = plan_input(model, plan, flags, sequential, head_chain);
  mi.n = n;
  mi.seq = seq;
  mi.batch = std::max<int64_t>(1, opt.batch_samples);
  mi.linear_sequential = sequential == "linear";
  mi.orig = orig;
  mi.keep_compressed = opt.keep_compressed;
  mi.sink_bytes = opt.sink_block_bytes;
  mi.baseline_mb = current_rss_mb();
  mi.available_mb = opt.max_memory_mb > 0 ? opt.max_memory_mb : available_memory_mb();
  const MemoryPlan mem = plan_compress_memory(mi);
  if (Progress::enabled()) print_memory_plan(mem, n, seq);
  if (mem.available > 0 && mem.total() > mem.available)
    std::fprintf(stderr, "compress: warning: the memory plan (%.0f MB) exceeds the %.0f MB %s; expect swapping "
                 "or the kernel's OOM killer (--batch-samples shrinks the batch)\n", mem.total(), mem.available,
                 opt.max_memory_mb > 0 ? "of --max-memory" : "available");

  LMP_CHECK(!opt.resume || !opt.keep_compressed, "compress: resuming needs keep_compressed off (the saved blocks "
            "go to the sink, not back into the model)");
  const int64_t first = opt.resume ? opt.resume->open(c.num_layers) : 0;
  CalibActivations act;
  act.n = n;
  act.seq = seq;
  act.batch = std::max<int64_t>(1, opt.batch_samples);
  act.keep_sublayer_outputs = mem.keep_sublayer;
  const auto stream = [&] {
    const size_t floats = size_t(n * seq * c.hidden_size);
    return mem.spill ? FloatStore::spilled(floats, opt.spill_dir, "compress") : FloatStore::in_memory(floats);
  };
  act.x = stream();
  if (orig) act.x_orig = stream();  // a method anchored to the original model: carry its stream too
  if (first > 0) {
    opt.resume->load_stream(act);
  } else {
    for (int64_t r0 = 0; r0 < n * seq; r0 += act.batch * seq) {  // batch by batch: a spilled stream stays out
      const int64_t rows = std::min(act.batch * seq, n * seq - r0);
      model.embed(std::span<const int32_t>(ids).subspan(size_t(r0), size_t(rows)), act.x.data() + r0 * c.hidden_size);
      act.release_rows(r0, rows);
    }
    if (orig) act.x_orig = act.x;
  }

  Totals totals;
  std::vector<OverrideReport> overrides = override_reports(recipe);
  // The chain of one linear, counted in the report: the deciding override, or an ignored linear.
  const auto decide = [&](const std::string& name) {
    int which = -1;
    const MethodChain* chain = plan.chain_for(name, which);
    if (which >= 0) ++overrides[size_t(which)].linears;
    if (!chain) ++totals.ignored;
    return chain;
  };
  Progress progress("compress " + plan.base().name(), c.num_layers, "blocks");
  std::vector<BlockRefineSummary> refined;
  if (first > 0) {
    if (Progress::enabled())
      std::fprintf(stderr, "compress: resuming from %s: %lld of %lld blocks already done\n",
                   opt.resume->dir().c_str(), (long long)first, (long long)c.num_layers);
    refined = opt.resume->refine();
  }
  for (int64_t b = 0; b < first; ++b) {  // the interrupted run's blocks, counted and handed on as saved
    const CompressedBlock saved = opt.resume->block(b);
    for (const auto& leaves : groups)
      for (const std::string& leaf : leaves) {
        if (!decide(names::layer(b, leaf + ".weight"))) continue;
        const auto it = saved.linears.find(leaf);
        LMP_CHECK(it != saved.linears.end(), "compress: ", opt.resume->dir(), ": saved block ", b, " has no ", leaf,
                  ", which the recipe compresses: give --no-resume to start over");
        totals.add(it->second);
      }
    if (sink) sink(saved);
    progress.update(b + 1);
  }
  for (int64_t b = first; b < c.num_layers; ++b) {
    // A copy we compress in place: from the model's cached block, or read afresh when it is not kept.
    BlockWeights w = opt.keep_compressed ? model.block(b) : load_block_weights(model.checkpoint(), b);
    CompressedBlock out;
    out.index = b;
    const GroupCompressor compress = [&](const std::vector<std::string>& leaves, LinearStats& stats) {
      for (const std::string& leaf : leaves) {
        const std::string name = names::layer(b, leaf + ".weight");
        const MethodChain* chain = decide(name);
        if (!chain) continue;
        Tensor& weight = w.linear(leaf);
        check_finite("weight", name, weight.f32(), weight.numel());
        check_stats(name, stats);
        // The group's last linear takes its statistics over (GPTQ factorizes the Hessian in place).
        CompressedLinear cl = &leaf == &leaves.back() ? chain->run(name, weight, std::move(stats))
                                                      : chain->run(name, weight, stats);
        weight = cl.weight;
        totals.add(cl);
        out.linears.emplace(leaf, std::move(cl));
      }
    };
    FloatStore x_in;  // the block's shifted inputs, when it is refined
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
    if (sink) sink(out);
    if (opt.resume) opt.resume->save(out, act, opt.refine ? &refined.back() : nullptr);
    if (opt.keep_compressed) model.set_block(b, std::move(w));
    else model.release_block(b);  // the original, when the original stream or refinement loaded it
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
      LinearStats stats = head_stats(model, act, head_chain->needs());
      check_stats(name, stats);
      CompressedLinear cl = head_chain->run(name, weight, std::move(stats));
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
  r.memory_plan_mb = mem.total();
  r.spilled_mb = mem.spilled;
  r.resumed_blocks = first;
  if (totals.params > 0) {
    r.bpw_codes = totals.codes_bits / double(totals.params);
    r.bpw_total = totals.total_bits / double(totals.params);
    r.sparsity = totals.zeros / double(totals.params);
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

}  // namespace lmp
