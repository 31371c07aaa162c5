// lmpress eval MODEL --text FILE: perplexity under the window protocol, optionally KLD against a base.
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "core/error.h"
#include "core/memory.h"
#include "data/text_file.h"
#include "eval/perplexity.h"
#include "linalg/gemm.h"

namespace lmp::cli {

namespace {
struct EvalArgs {
  CommonOptions common;
  std::string model, text, kld_base, text_field = "text", tokenizer;
  int64_t ctx = 512, max_windows = 0, batch_windows = 0;
  bool json = false, llamacpp = false, stream_decode = false;
};

void print_human(const EvalArgs& a, const PerplexityResult& r) {
  std::printf("model        %s\ntext         %s\n", a.model.c_str(), a.text.c_str());
  std::printf("tokens       %lld (%lld windows of %lld, %lld scored)\n", (long long)r.n_tokens,
              (long long)r.windows, (long long)r.ctx, (long long)r.scored_tokens);
  std::printf("perplexity   %.4f   (nll %.6f nats/token)\n", r.ppl, r.nll);
  if (r.has_base) {
    std::printf("base ppl     %.4f   (delta %+.4f)\n", r.ppl_base, r.ppl - r.ppl_base);
    std::printf("KLD mean     %.6f\ntop-1 agree  %.2f%%\n", r.kld_mean, 100.0 * r.top1_agreement);
  }
  std::printf("time         %.2f s (%.0f tokens/s)\n", r.seconds, r.tokens_per_second);
}

nlohmann::json to_json(const EvalArgs& a, const PerplexityResult& r, bool stream, int64_t windows_per_pass) {
  nlohmann::json j = {{"model", a.model},       {"text", a.text},
                      {"ppl", r.ppl},           {"nll", r.nll},
                      {"n_tokens", r.n_tokens}, {"windows", r.windows},
                      {"scored_tokens", r.scored_tokens}, {"ctx", r.ctx},
                      {"seconds", r.seconds},   {"tokens_per_second", r.tokens_per_second},
                      {"mode", a.llamacpp ? "llamacpp-second-half" : "window"},
                      {"peak_rss_mb", peak_rss_mb()}, {"threads", num_threads()},
                      {"stream_decode", stream}, {"windows_per_pass", windows_per_pass},
                      {"blas", blas_description()}};
  if (r.has_base) {
    j["kld_base"] = a.kld_base;
    j["ppl_base"] = r.ppl_base;
    j["delta_ppl"] = r.ppl - r.ppl_base;
    j["kld_mean"] = r.kld_mean;
    j["top1_agreement"] = r.top1_agreement;
  }
  return j;
}

int run_eval(const EvalArgs& a) {
  apply_common_options(a.common);
  OpenOptions oo;
  oo.tokenizer_path = a.tokenizer;
  Model model = Model::open(a.model, oo);
  const bool stream = apply_stream_decode(model, a.stream_decode);
  model.set_factored(true);  // low-rank linears run as two GEMMs
  std::unique_ptr<Model> base;
  if (!a.kld_base.empty()) {
    base = std::make_unique<Model>(Model::open(a.kld_base, oo));
    apply_stream_decode(*base, a.stream_decode);
  }
  const std::string text = load_eval_text(a.text, a.text_field);
  const std::vector<int32_t> tokens = model.tokenizer().encode(text, true);
  LMP_CHECK(int64_t(tokens.size()) >= a.ctx, a.text, ": the text has ", tokens.size(),
            " tokens, fewer than --ctx ", a.ctx);
  PerplexityOptions po;
  po.ctx = a.ctx;
  po.max_windows = a.max_windows;
  po.second_half = a.llamacpp;
  // Streamed blocks are converted once per pass: a few windows a pass amortize that; resident blocks
  // gain nothing from it, and one window a pass keeps the logits buffer small.
  po.windows_per_pass = a.batch_windows > 0 ? a.batch_windows : stream ? 4 : 1;
  const PerplexityResult r = evaluate_perplexity(model, tokens, po, base.get());
  if (a.json) std::printf("%s\n", to_json(a, r, stream, po.windows_per_pass).dump(1).c_str());
  else print_human(a, r);
  return 0;
}
}  // namespace

Runner add_eval_command(CLI::App& app) {
  auto a = std::make_shared<EvalArgs>();
  CLI::App* cmd = app.add_subcommand("eval", "Perplexity of a model on a text (window protocol), optionally "
                                             "KL divergence against a base model");
  cmd->add_option("model", a->model, "Model: HF directory, .gguf, or llama2.c .bin")->required();
  cmd->add_option("--text", a->text, ".txt (whole file) or .jsonl (text fields joined by blank lines)")
      ->required();
  cmd->add_option("--ctx", a->ctx, "Window length in tokens")->capture_default_str()->check(CLI::Range(2, 1 << 20));
  cmd->add_option("--batch-windows", a->batch_windows,
                  "Windows per forward pass (0 = 4 with streamed blocks, else 1); the logits buffer holds N x ctx "
                  "x vocab floats")
      ->capture_default_str()
      ->check(non_negative());
  cmd->add_option("--max-windows", a->max_windows, "Evaluate only the first N windows (0 = all)")
      ->check(non_negative());
  cmd->add_option("--kld-base", a->kld_base,
                  "Base model: also report KLD(base || model), top-1 agreement, base ppl and delta");
  cmd->add_option("--text-field", a->text_field, "Field of .jsonl records holding the text")->capture_default_str();
  cmd->add_option("--tokenizer", a->tokenizer,
                  "llama2.c models: the tokenizer .bin (default: tok*.bin beside); other models: a tokenizer.json "
                  "or a model whose tokenizer to use (e.g. a model directory that has none)");
  cmd->add_flag("--llamacpp", a->llamacpp,
                "llama.cpp-comparable scoring: each window starts with BOS, only its second half is scored");
  cmd->add_flag("--json", a->json, "Print a JSON object on stdout");
  add_stream_decode_flag(*cmd, a->stream_decode);
  add_common_options(*cmd, a->common);
  return [a] { return run_eval(*a); };
}

}  // namespace lmp::cli
