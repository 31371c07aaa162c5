// Opens a Hugging Face model directory: config.json, model.safetensors or the shards listed by
// model.safetensors.index.json ("weight_map"), tokenizer.json when present. GPTQ-packed linears
// (quantization_config quant_method gptq) are served as f32 X.weight tensors (gptq_checkpoint.h).
#pragma once
#include <string>

#include "io/checkpoint_impl.h"

namespace lmp {

LoadedCheckpoint open_hf_checkpoint(const std::string& dir);

}  // namespace lmp
