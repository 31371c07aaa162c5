// The quantization_config of a GPTQ checkpoint: config.json's `quantization_config` (transformers,
// vLLM, GPTQModel and lmpress write it there) or, for older AutoGPTQ folders without it, the
// quantize_config.json beside config.json. Fields as transformers' GPTQConfig defines them.
#pragma once
#include <optional>
#include <string>

namespace lmp {

struct GptqConfig {
  int bits = 4;
  int64_t group_size = 128;                // -1: one group per output row
  bool desc_act = false;                   // act-order: g_idx need not be j / group_size
  bool sym = true;
  std::string checkpoint_format = "gptq";  // "gptq" (v1: zero − 1 stored) or "gptq_v2" (zero stored)
  std::string source;                      // the file it was read from, for messages

  bool v2() const { return checkpoint_format == "gptq_v2"; }
  // "gptq 4-bit, group 128, desc_act, asym (checkpoint_format gptq)", for inspect.
  std::string describe() const;
};

// The GPTQ config of the model directory `dir`, or nullopt when it declares no quantization. Errors
// name the file and field: a quant_method other than gptq, bits other than 2/4/8, a group_size that is
// neither -1 nor positive, a checkpoint_format other than gptq / gptq_v2.
std::optional<GptqConfig> read_gptq_config(const std::string& dir);

}  // namespace lmp
