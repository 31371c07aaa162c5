// What every directory export carries beside its tensors: a config.json (the input's, or one written
// from the ModelConfig for GGUF / llama2.c inputs) and the input's tokenizer / generation files (written
// from the vocabulary for GGUF / llama2.c inputs).
#pragma once
#include <nlohmann/json.hpp>
#include <string>

#include "io/checkpoint.h"

namespace lmp {

// config.json for `input` with the given torch dtype name ("bfloat16", "float16", "float32").
nlohmann::json export_config(const Checkpoint& input, const std::string& torch_dtype);
// Copies tokenizer.json, tokenizer_config.json, tokenizer.model, generation_config.json and
// special_tokens_map.json (those present) from an HF input into `dir`; for an input with a SentencePiece
// vocabulary (GGUF, llama2.c) writes tokenizer.json, tokenizer_config.json and special_tokens_map.json
// from it (hf_tokenizer_json.h). `who` prefixes errors.
void copy_tokenizer_files(const Checkpoint& input, const std::string& dir, const std::string& who);

}  // namespace lmp
