// ModelConfig: one architecture-neutral description of a LLaMA-family decoder (LLaMA 1/2/3, Mistral,
// Qwen2). Filled by io/ from config.json, GGUF metadata or a llama2.c header.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace lmp {

// RoPE frequency scaling. "default" = plain RoPE; "llama3" = Llama-3.1 frequency-band scaling.
struct RopeScaling {
  std::string type = "default";
  double factor = 1.0;
  double low_freq_factor = 1.0;
  double high_freq_factor = 4.0;
  int64_t original_max_position_embeddings = 0;
};

struct ModelConfig {
  std::string arch = "llama";      // model_type: llama | mistral | qwen2
  int64_t vocab_size = 0;
  int64_t hidden_size = 0;
  int64_t intermediate_size = 0;
  int64_t num_layers = 0;
  int64_t num_heads = 0;
  int64_t num_kv_heads = 0;
  int64_t head_dim = 0;            // explicit, or hidden_size / num_heads
  int64_t max_position_embeddings = 0;
  double rms_norm_eps = 1e-5;
  double rope_theta = 10000.0;
  RopeScaling rope;
  bool tie_word_embeddings = false;
  bool attention_bias = false;     // q/k/v (and o for LLaMA's attention_bias) biases present
  bool o_proj_bias = false;        // LLaMA's attention_bias also adds an o_proj bias; Qwen2 does not
  bool mlp_bias = false;
  int32_t bos_token_id = -1;       // -1 = none
  std::vector<int32_t> eos_token_ids;
  std::string dtype = "float32";   // the checkpoint's declared dtype (bfloat16, float16, float32)

  int64_t q_dim() const { return num_heads * head_dim; }
  int64_t kv_dim() const { return num_kv_heads * head_dim; }
  // Weights of one block's seven linears (q, k, v, o, gate, up, down).
  int64_t block_linear_params() const {
    return hidden_size * (2 * q_dim() + 2 * kv_dim()) + 3 * hidden_size * intermediate_size;
  }
};

}  // namespace lmp
