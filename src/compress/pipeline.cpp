#include "compress/pipeline.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <regex>

#include "compress/block_stats.h"
#include "compress/registry.h"
#include "core/error.h"
#include "core/progress.h"

namespace lmp {

std::string default_sequential(const std::string& method) {
  return (method == "magnitude" || method == "wanda" || method == "sparsegpt") ? "block" : "linear";
}

namespace {

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
  const std::unique_ptr<LinearMethod> method = make_method(opt.spec);
  const std::string sequential = opt.sequential.empty() ? default_sequential(opt.spec.method) : opt.sequential;
  LMP_CHECK(sequential == "linear" || sequential == "block", "compress: --sequential must be linear or block, found '",
            sequential, "'");
  std::vector<std::regex> ignore;
  for (const auto& pat : opt.ignore) {
    try {
      ignore.emplace_back(pat);
    } catch (const std::regex_error& e) {
      fail("compress: --ignore '", pat, "' is not a valid regular expression (", e.what(), ")");
    }
  }
  print_memory_plan(c, n, seq, sequential);

  CalibActivations act;
  act.n = n;
  act.seq = seq;
  act.batch = std::max<int64_t>(1, opt.batch_samples);
  act.x.resize(size_t(n * seq * c.hidden_size));
  model.embed(ids, act.x.data());

  Totals totals;
  Progress progress("compress " + opt.spec.method, c.num_layers, "blocks");
  for (int64_t b = 0; b < c.num_layers; ++b) {
    BlockWeights w = model.block(b);  // a copy we compress in place
    CompressedBlock out;
    out.index = b;
    const GroupCompressor compress = [&](const std::vector<std::string>& leaves, const LinearStats& stats) {
      for (const std::string& leaf : leaves) {
        const std::string name = names::layer(b, leaf + ".weight");
        bool skip = false;
        for (const auto& re : ignore) skip = skip || std::regex_search(name, re);
        if (skip) {
          ++totals.ignored;
          continue;
        }
        Tensor& weight = w.linear(leaf);
        check_finite("weight", name, weight.f32(), weight.numel());
        check_stats(name, stats);
        CompressedLinear cl = method->compress(name, weight, stats);
        weight = cl.weight;
        totals.add(cl);
        out.linears.emplace(leaf, std::move(cl));
      }
    };
    if (sequential == "linear") run_block_staged(model, b, w, act, method->needs(), compress);
    else run_block_whole(model, b, w, act, method->needs(), compress);
    model.set_block(b, std::move(w));
    if (sink) sink(out);
    progress.update(b + 1);
  }
  progress.finish();

  PipelineReport r;
  r.method = opt.spec.method;
  r.sequential = sequential;
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
