// lmpress generate MODEL --prompt TEXT: sample a continuation (greedy with --temperature 0).
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "core/error.h"
#include "model/decoder.h"

namespace lmp::cli {

namespace {
struct GenerateArgs {
  CommonOptions common;
  std::string model, prompt, tokenizer;
  int64_t max_tokens = 64;
  float temperature = 0.8f, top_p = 0.95f;
  int64_t top_k = 40;
  uint64_t seed = 42;
  bool json = false, ignore_eos = false, stream_decode = false;
};

int run_generate(const GenerateArgs& a) {
  apply_common_options(a.common);
  OpenOptions oo;
  oo.tokenizer_path = a.tokenizer;
  Model model = Model::open(a.model, oo);
  apply_stream_decode(model, a.stream_decode);
  model.set_factored(true);  // low-rank linears run as two GEMMs
  const Tokenizer& tok = model.tokenizer();
  std::vector<int32_t> prompt = tok.encode(a.prompt, true);
  LMP_CHECK(!prompt.empty(), "generate: the prompt is empty and the tokenizer has no BOS to start from");
  GenerateOptions go;
  go.max_new_tokens = a.max_tokens;
  go.sampling = SamplingParams{a.temperature, a.top_k, a.top_p};
  go.seed = a.seed;
  go.stop_at_eos = !a.ignore_eos;
  const std::vector<int32_t> out = generate(model, {prompt}, go).front();
  const std::string text = tok.decode(out);
  if (a.json) {
    nlohmann::json j = {{"prompt", a.prompt}, {"prompt_ids", prompt}, {"output_ids", out}, {"text", text},
                        {"generated_tokens", out.size() - prompt.size()}};
    std::printf("%s\n", j.dump(1).c_str());
  } else {
    std::printf("%s\n", text.c_str());
  }
  return 0;
}
}  // namespace

Runner add_generate_command(CLI::App& app) {
  auto a = std::make_shared<GenerateArgs>();
  CLI::App* cmd = app.add_subcommand("generate", "Continue a prompt with the model (KV-cached decoding)");
  cmd->add_option("model", a->model, "Model: HF directory, .gguf, or llama2.c .bin")->required();
  cmd->add_option("-p,--prompt", a->prompt, "Prompt text (BOS is prepended when the tokenizer has one)")
      ->required();
  cmd->add_option("-n,--max-tokens", a->max_tokens, "Tokens to generate")->capture_default_str()
      ->check(non_negative());
  cmd->add_option("--temperature", a->temperature, "Sampling temperature; 0 = greedy")->capture_default_str()
      ->check(CLI::Range(0.0, 100.0));
  cmd->add_option("--top-k", a->top_k, "Keep the K most likely tokens (0 = all)")->capture_default_str()
      ->check(non_negative());
  cmd->add_option("--top-p", a->top_p, "Nucleus sampling mass in (0, 1]")->capture_default_str()
      ->check(CLI::Range(1e-6, 1.0));
  cmd->add_option("--seed", a->seed, "Random seed")->capture_default_str();
  cmd->add_option("--tokenizer", a->tokenizer,
                  "llama2.c models: the tokenizer .bin (default: tok*.bin beside); other models: a tokenizer.json "
                  "or a model whose tokenizer to use (e.g. for an HF export of a GGUF model)");
  cmd->add_flag("--ignore-eos", a->ignore_eos, "Keep generating past end-of-sequence");
  cmd->add_flag("--json", a->json, "Print prompt ids, output ids and text as JSON");
  add_stream_decode_flag(*cmd, a->stream_decode);
  add_common_options(*cmd, a->common);
  return [a] { return run_generate(*a); };
}

}  // namespace lmp::cli
