// lmpress inspect MODEL: architecture, dimensions, parameter counts per tensor kind, dtypes (or the
// packing of GPTQ linears), the quantization of a GPTQ checkpoint, tokenizer.
#include <cstdio>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "model/model.h"

namespace lmp::cli {

namespace {
struct InspectArgs {
  CommonOptions common;
  std::string model, tokenizer;
  bool json = false, tensors = false;
};

// Groups a canonical tensor name into a kind: embedding, attention, mlp, norm, lm_head.
std::string tensor_kind(const std::string& name) {
  if (name.find("embed_tokens") != std::string::npos) return "embedding";
  if (name.find("self_attn") != std::string::npos) return "attention";
  if (name.find("mlp") != std::string::npos) return "mlp";
  if (name.find("norm") != std::string::npos) return "norm";
  if (name.find("lm_head") != std::string::npos) return "lm_head";
  return "other";
}

nlohmann::json describe(const Checkpoint& ck, const Tokenizer* tok, bool with_tensors) {
  const ModelConfig& c = ck.config();
  nlohmann::json j;
  j["path"] = ck.path();
  j["format"] = format_name(ck.format());
  j["architecture"] = c.arch;
  j["config"] = {{"vocab_size", c.vocab_size}, {"hidden_size", c.hidden_size},
                 {"intermediate_size", c.intermediate_size}, {"num_layers", c.num_layers},
                 {"num_heads", c.num_heads}, {"num_kv_heads", c.num_kv_heads}, {"head_dim", c.head_dim},
                 {"max_position_embeddings", c.max_position_embeddings}, {"rms_norm_eps", c.rms_norm_eps},
                 {"rope_theta", c.rope_theta}, {"rope_type", c.rope.type},
                 {"tie_word_embeddings", c.tie_word_embeddings}, {"attention_bias", c.attention_bias},
                 {"dtype", c.dtype}};
  std::map<std::string, int64_t> by_kind, by_dtype;
  int64_t total = 0;
  for (const std::string& name : ck.tensor_names()) {
    const TensorInfo& ti = ck.info(name);
    const int64_t n = shape_numel(ti.shape);
    by_kind[tensor_kind(name)] += n;
    const std::string packing = ck.packing(name);
    const std::string stored = packing.empty() ? std::string(dtype_name(ti.dtype)) : packing;
    by_dtype[stored] += n;
    total += n;
    if (with_tensors)
      j["tensors"].push_back({{"name", name}, {"dtype", stored}, {"shape", ti.shape},
                              {"file_name", ti.file_name}});
  }
  if (ck.metadata().count("quantization")) j["quantization"] = ck.metadata().at("quantization");
  j["parameters"] = by_kind;
  j["parameters"]["total"] = total;
  j["parameters_by_dtype"] = by_dtype;
  j["tokenizer"] = tok ? tok->description() : "none";
  if (tok) j["tokenizer_special"] = {{"bos_id", tok->bos_id()}, {"eos_id", tok->eos_id()}};
  return j;
}

void print_human(const nlohmann::json& j) {
  std::printf("%s  (%s, %s)\n", j["path"].get<std::string>().c_str(), j["format"].get<std::string>().c_str(),
              j["architecture"].get<std::string>().c_str());
  for (const auto& [k, v] : j["config"].items()) std::printf("  %-24s %s\n", k.c_str(), v.dump().c_str());
  if (j.contains("quantization")) std::printf("quantization  %s\n", j["quantization"].get<std::string>().c_str());
  std::printf("parameters\n");
  for (const auto& [k, v] : j["parameters"].items())
    std::printf("  %-24s %12lld  (%.2f M)\n", k.c_str(), (long long)v.get<int64_t>(), v.get<double>() / 1e6);
  std::printf("stored dtypes\n");
  for (const auto& [k, v] : j["parameters_by_dtype"].items())
    std::printf("  %-24s %12lld\n", k.c_str(), (long long)v.get<int64_t>());
  std::printf("tokenizer  %s\n", j["tokenizer"].get<std::string>().c_str());
  if (j.contains("tensors"))
    for (const auto& t : j["tensors"])
      std::printf("  %-48s %-5s %s\n", t["name"].get<std::string>().c_str(),
                  t["dtype"].get<std::string>().c_str(), t["shape"].dump().c_str());
}

int run_inspect(const InspectArgs& a) {
  apply_common_options(a.common);
  OpenOptions oo;
  oo.tokenizer_path = a.tokenizer;
  const Checkpoint ck = Checkpoint::open(a.model, oo);
  const std::unique_ptr<Tokenizer> tok = make_tokenizer(ck.tokenizer_source());
  const nlohmann::json j = describe(ck, tok.get(), a.tensors);
  if (a.json) std::printf("%s\n", j.dump(1).c_str());
  else print_human(j);
  return 0;
}
}  // namespace

Runner add_inspect_command(CLI::App& app) {
  auto a = std::make_shared<InspectArgs>();
  CLI::App* cmd = app.add_subcommand("inspect", "Describe a model: architecture, sizes, dtypes, tokenizer");
  cmd->add_option("model", a->model, "Model: HF directory, .gguf, or llama2.c .bin")->required();
  cmd->add_option("--tokenizer", a->tokenizer, "llama2.c models: tokenizer .bin (default: tok*.bin beside)");
  cmd->add_flag("--tensors", a->tensors, "List every tensor with dtype and shape");
  cmd->add_flag("--json", a->json, "Print JSON");
  add_common_options(*cmd, a->common);
  return [a] { return run_inspect(*a); };
}

}  // namespace lmp::cli
