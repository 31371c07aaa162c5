// lmpress select: build a calibration set (N samples of L tokens) from a document pool, or generate one.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>

#include "calib/calib_set.h"
#include "calib/select.h"
#include "calib/select_stats.h"
#include "cli/commands.h"
#include "core/error.h"
#include "linalg/gemm.h"
#include "model/model.h"

namespace lmp::cli {

namespace {

struct SelectArgs {
  CommonOptions common;
  SelectOptions opt;
  std::string pool, model, output;
  bool json = false;
};

const char* kMethodHelp =
    "random | zipcal | least-ppl | cola | self:\n"
    "  random     uniform documents (seeded), a random window of L tokens from each (as GPTQ's loaders)\n"
    "  zipcal     ZipCal (Monaco et al. 2026): greedy coverage of normalized token types over the\n"
    "             candidates' first L tokens; model-free, linear in the pool (default)\n"
    "  least-ppl  the N candidates the model finds least perplexing (first L tokens)\n"
    "  cola       COLA stage 3 (He et al. 2025): k-means over activation summaries, one per cluster\n"
    "  self       self-calibration (Williams et al. 2025): the model samples from BOS, no pool;\n"
    "             temperature --t-start -> --t-end over --t-steps tokens (defaults 1.5 -> 0.8 over 50\n"
    "             tokens are ours: the paper's values are not public)";

nlohmann::json report(const SelectArgs& a, const Selection& sel, const SelectInfo& info, const TypeTable& types,
                      double seconds) {
  const SetStats st = set_stats(sel.input_ids, types);
  const double pool_mb = double(info.scan.pool.text_bytes) / 1e6;
  nlohmann::json j = {{"method", a.opt.method}, {"n", sel.n}, {"seq", sel.seq}, {"seed", a.opt.seed},
                      {"output", a.output}, {"seconds", seconds}, {"select_seconds", info.seconds},
                      {"types_covered", st.types_covered}, {"typed_tokens", st.typed_tokens},
                      {"type_token_ratio", st.type_token_ratio}, {"zipf_exponent_selected", st.zipf_exponent}};
  j["sources"] = source_counts(sel, info.scan.pool.sources, a.opt.method == "self");
  if (!info.read_pool) {
    j["pool"] = nullptr;
    j["zipf_exponent_pool"] = nullptr;
    return j;
  }
  j["pool"] = a.pool;
  j["pool_documents"] = info.scan.pool.documents;
  j["pool_skipped_empty"] = info.scan.pool.empty;
  j["pool_skipped_invalid_utf8"] = info.scan.pool.invalid_utf8;
  j["pool_mb"] = pool_mb;
  j["pool_mb_per_s"] = pool_mb / std::max(info.seconds, 1e-9);
  j["pool_tokens"] = info.scan.pool_tokens;
  j["candidates"] = info.scan.candidates.size();
  j["zipf_exponent_pool"] = zipf_exponent(info.scan.type_counts);
  j["pool_types"] = std::count_if(info.scan.type_counts.begin(), info.scan.type_counts.end(), [](int64_t c) { return c > 0; });
  return j;
}

void print_human(const nlohmann::json& j) {
  std::printf("method        %s  (n %lld, seq %lld, seed %llu)\n", j["method"].get<std::string>().c_str(),
              (long long)j["n"].get<int64_t>(), (long long)j["seq"].get<int64_t>(),
              (unsigned long long)j["seed"].get<uint64_t>());
  std::printf("output        %s\n", j["output"].get<std::string>().c_str());
  if (!j["pool"].is_null())
    std::printf("pool          %lld documents, %.1f MB, %lld candidates, %.1f MB/s\n",
                (long long)j["pool_documents"].get<int64_t>(), j["pool_mb"].get<double>(),
                (long long)j["candidates"].get<int64_t>(), j["pool_mb_per_s"].get<double>());
  std::printf("types covered %lld (type/token %.4f, Zipf exponent %.3f", (long long)j["types_covered"].get<int64_t>(),
              j["type_token_ratio"].get<double>(), j["zipf_exponent_selected"].get<double>());
  if (!j["zipf_exponent_pool"].is_null()) std::printf(", pool %.3f", j["zipf_exponent_pool"].get<double>());
  std::printf(")\nsources      ");
  for (const auto& [k, v] : j["sources"].items()) std::printf(" %s:%lld", k.c_str(), (long long)v.get<int64_t>());
  std::printf("\ntime          %.2f s (selection %.2f s)\n", j["seconds"].get<double>(), j["select_seconds"].get<double>());
}

int run_select_cmd(SelectArgs& a) {
  const auto t0 = std::chrono::steady_clock::now();
  apply_common_options(a.common);
  a.opt.threads = a.common.threads > 0 ? a.common.threads : num_threads();
  LMP_CHECK(!a.model.empty(), "select: --model is required (it supplies the tokenizer",
            method_needs_network(a.opt.method) ? " and the network" : "", ")");
  LMP_CHECK(is_select_method(a.opt.method), "select: --method: expected random, zipcal, least-ppl, cola or self, found '",
            a.opt.method, "'");
  LMP_CHECK(a.opt.method == "self" || !a.pool.empty(), "select: --pool is required for --method ", a.opt.method);
  std::unique_ptr<Model> model;
  std::unique_ptr<Tokenizer> own_tok;
  const Tokenizer* tok = nullptr;
  if (method_needs_network(a.opt.method)) {
    model = std::make_unique<Model>(Model::open(a.model));
    tok = &model->tokenizer();
  } else {  // the tokenizer is enough
    const Checkpoint ck = Checkpoint::open(a.model);
    own_tok = make_tokenizer(ck.tokenizer_source());
    LMP_CHECK(own_tok, "select: model ", a.model, " has no tokenizer");
    tok = own_tok.get();
  }
  const TypeTable types(*tok);
  SelectInfo info;
  const Selection sel = run_select(a.pool, *tok, model.get(), types, a.opt, !a.common.quiet, &info);
  write_calib_set(a.output, sel, a.opt, a.model, {{"pool", a.pool}});
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const nlohmann::json j = report(a, sel, info, types, seconds);
  if (a.json) std::printf("%s\n", j.dump(1).c_str());
  else print_human(j);
  return 0;
}

}  // namespace

Runner add_select_command(CLI::App& app) {
  auto a = std::make_shared<SelectArgs>();
  CLI::App* cmd = app.add_subcommand(
      "select", "Build a calibration set: N samples of L tokens chosen from a document pool (or generated), "
                "written as safetensors input_ids I32 [N, L]");
  cmd->add_option("--pool", a->pool,
                  "Documents: .jsonl (one object per line), .txt (documents separated by blank lines), or a "
                  "directory of them; each optionally .xz / .gz");
  cmd->add_option("--method", a->opt.method, kMethodHelp)->capture_default_str();
  cmd->add_option("--n", a->opt.n, "Samples (N)")->capture_default_str()->check(CLI::Range(int64_t(1), int64_t(1) << 30));
  cmd->add_option("--seq", a->opt.seq, "Tokens per sample (L); a candidate is a document with at least L tokens")
      ->capture_default_str()->check(CLI::Range(int64_t(1), int64_t(1) << 24));
  cmd->add_option("--model", a->model, "Model (HF directory, .gguf, llama2.c .bin): its tokenizer, and its network "
                                       "for least-ppl / cola / self");
  cmd->add_option("--seed", a->opt.seed, "Seed of every random choice")->capture_default_str();
  cmd->add_flag("--pack", a->opt.pack, "Also concatenate documents shorter than L (pool order) into samples of L");
  cmd->add_option("--max-candidates", a->opt.max_candidates,
                  "least-ppl / cola: score a seeded uniform subset of at most K candidates")
      ->capture_default_str()->check(positive());
  cmd->add_option("--zipcal-candidates", a->opt.zipcal_candidates,
                  "zipcal: candidates sampled (seeded) and scored at each greedy step")
      ->capture_default_str()->check(positive());
  cmd->add_option("--t-start", a->opt.t_start, "self: temperature at the first token after BOS (ours: 1.5)")
      ->capture_default_str()->check(positive());
  cmd->add_option("--t-end", a->opt.t_end, "self: temperature after --t-steps tokens (ours: 0.8)")
      ->capture_default_str()->check(positive());
  cmd->add_option("--t-steps", a->opt.t_steps, "self: tokens over which the temperature moves linearly (ours: 50)")
      ->capture_default_str()->check(non_negative());
  cmd->add_option("--text-field", a->opt.text_field, "Field of .jsonl records holding the text")->capture_default_str();
  cmd->add_option("-o,--output", a->output, "Output .safetensors (written to .tmp, then renamed)")->required();
  cmd->add_flag("--json", a->json, "Print a JSON report on stdout");
  add_common_options(*cmd, a->common);
  return [a] { return run_select_cmd(*a); };
}

}  // namespace lmp::cli
