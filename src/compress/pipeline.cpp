#include "compress/pipeline.h"

#include <chrono>
#include <cmath>
#include <cstdio>

#include "compress/block_stats.h"
#include "compress/method_chain.h"
#include "core/error.h"
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

void print_memory_plan(const ModelConfig& c, int64_t n, int64_t seq, const std::string& sequential) {
  const double mb = 1.0 / (1024.0 * 1024.0), rows = double(n * seq);
  const double act = rows * double(c.hidden_size) * 4 * mb;
  const double staged = sequential == "linear" ? rows * double(c.q_dim() + c.intermediate_size) * 4 * mb : 0;
  const int64_t max_in = std::max(c.hidden_size, c.intermediate_size);
  const double hess = double(max_in * max_in) * 8 * mb;
  const double block = 4.0 * double(c.hidden_size * (2 * c.q_dim() + 2 * c.kv_dim()) +
                                    3 * c.hidden_size * c.intermediate_size) * mb;
  std::fprintf(stderr,
               "compress: memory plan: activations %.0f MB (%lld x %lld tokens), sub-layer buffers %.0f MB, "
               "largest Hessian %.0f MB, one block of f32 weights %.0f MB\n",
               act, (long long)n, (long long)seq, staged, hess, block);
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
                              const PipelineOptions& opt, const BlockSink& sink) {
  const auto t0 = std::chrono::steady_clock::now();
  const ModelConfig& c = model.config();
  LMP_CHECK(n > 0 && seq > 0 && int64_t(ids.size()) == n * seq, "compress: calibration ids hold ",
            ids.size(), " tokens, expected ", n, " x ", seq);
  const Recipe recipe = pipeline_recipe(opt);
  const RecipePlan plan(recipe);
  const std::string sequential = recipe_sequential(recipe);
  LMP_CHECK(sequential == "linear" || sequential == "block", "compress: --sequential must be linear or block, found '",
            sequential, "'");
  print_memory_plan(c, n, seq, sequential);

  CalibActivations act;
  act.n = n;
  act.seq = seq;
  act.batch = std::max<int64_t>(1, opt.batch_samples);
  act.x.resize(size_t(n * seq * c.hidden_size));
  model.embed(ids, act.x.data());

  Totals totals;
  std::vector<OverrideReport> overrides = override_reports(recipe);
  std::vector<std::string> all_leaves;
  for (const auto& group : block_linear_groups()) all_leaves.insert(all_leaves.end(), group.begin(), group.end());
  Progress progress("compress " + plan.base().name(), c.num_layers, "blocks");
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
    // One set of statistics per block (block_stats.h): the union of what its linears' chains need.
    const uint32_t flags = plan.needs(b, all_leaves);
    if (sequential == "linear") run_block_staged(model, b, w, act, flags, compress);
    else run_block_whole(model, b, w, act, flags, compress);
    model.set_block(b, std::move(w));
    if (sink) sink(out);
    progress.update(b + 1);
  }
  progress.finish();

  PipelineReport r;
  r.method = plan.base().name();
  r.sequential = sequential;
  r.overrides = std::move(overrides);
  r.linears = totals.linears;
  r.ignored = totals.ignored;
  r.params = totals.params;
  if (totals.params > 0) {
    r.bpw_codes = totals.codes_bits / double(totals.params);
    r.bpw_total = totals.total_bits / double(totals.params);
    r.sparsity = totals.zeros / double(totals.params);
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

}  // namespace lmp
