#include "export/side_files.h"

#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "export/hf_tokenizer_json.h"

namespace fs = std::filesystem;

namespace lmp {

namespace {
// config.json in the transformers-5 form for inputs that have none (GGUF, llama2.c).
nlohmann::json config_from_model(const ModelConfig& c) {
  const char* arch = c.arch == "qwen2" ? "Qwen2ForCausalLM" : c.arch == "mistral" ? "MistralForCausalLM"
                                                                                 : "LlamaForCausalLM";
  nlohmann::json j = {{"architectures", {arch}}, {"model_type", c.arch}, {"vocab_size", c.vocab_size},
                      {"hidden_size", c.hidden_size}, {"intermediate_size", c.intermediate_size},
                      {"num_hidden_layers", c.num_layers}, {"num_attention_heads", c.num_heads},
                      {"num_key_value_heads", c.num_kv_heads}, {"head_dim", c.head_dim},
                      {"max_position_embeddings", c.max_position_embeddings}, {"rms_norm_eps", c.rms_norm_eps},
                      {"hidden_act", "silu"}, {"tie_word_embeddings", c.tie_word_embeddings},
                      {"attention_bias", c.attention_bias}, {"mlp_bias", false},
                      {"rope_parameters", {{"rope_theta", c.rope_theta}, {"rope_type", c.rope.type}}}};
  if (c.bos_token_id >= 0) j["bos_token_id"] = c.bos_token_id;
  if (!c.eos_token_ids.empty())
    j["eos_token_id"] = c.eos_token_ids.size() == 1 ? nlohmann::json(c.eos_token_ids[0]) : nlohmann::json(c.eos_token_ids);
  return j;
}
}  // namespace

nlohmann::json export_config(const Checkpoint& input, const std::string& torch_dtype) {
  if (input.format() != CheckpointFormat::HF) {
    nlohmann::json j = config_from_model(input.config());
    j["dtype"] = torch_dtype;
    return j;
  }
  const fs::path path = fs::path(input.path()) / "config.json";
  std::ifstream f(path);
  LMP_CHECK(f, "export: cannot read ", path.string());
  nlohmann::json cfg = nlohmann::json::parse(f);
  if (cfg.contains("torch_dtype")) cfg["torch_dtype"] = torch_dtype;
  else cfg["dtype"] = torch_dtype;
  return cfg;
}

void copy_tokenizer_files(const Checkpoint& input, const std::string& dir, const std::string& who) {
  if (input.tokenizer_source().kind == TokenizerSource::Kind::Spm)
    return write_spm_tokenizer_files(input.tokenizer_source().spm, dir, who);
  if (input.format() != CheckpointFormat::HF) return;
  const fs::path src(input.path());
  for (const char* f : {"tokenizer.json", "tokenizer_config.json", "tokenizer.model", "generation_config.json",
                        "special_tokens_map.json"}) {
    std::error_code ec;
    if (fs::exists(src / f)) fs::copy_file(src / f, fs::path(dir) / f, fs::copy_options::overwrite_existing, ec);
    LMP_CHECK(!ec, who, ": cannot copy ", (src / f).string(), ": ", ec.message());
  }
}

}  // namespace lmp
