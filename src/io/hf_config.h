// Hugging Face config.json -> ModelConfig, for model_type llama, mistral and qwen2, in both the
// transformers-5 form (dtype, rope_parameters) and the transformers-4 form (torch_dtype, rope_theta,
// rope_scaling). Anything the forward pass would get wrong (another activation, YaRN, sliding windows)
// is rejected with the field and its value.
#pragma once
#include <map>
#include <string>

#include "model/model_config.h"

namespace lmp {

// Parses config.json text; `path` names the file in errors.
ModelConfig parse_hf_config(const std::string& json_text, const std::string& path);
// Reads and parses `path`.
ModelConfig read_hf_config(const std::string& path);
// A few fields for `inspect`: arch, sizes, rope, dtype.
std::map<std::string, std::string> config_metadata(const ModelConfig& c);

}  // namespace lmp
