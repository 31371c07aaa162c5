#include "io/checkpoint.h"

namespace lmp::names {

std::string embed() { return "model.embed_tokens.weight"; }
std::string final_norm() { return "model.norm.weight"; }
std::string lm_head() { return "lm_head.weight"; }
std::string layer(int64_t b, const std::string& leaf) {
  return "model.layers." + std::to_string(b) + "." + leaf;
}

const std::vector<std::string>& block_linears() {
  static const std::vector<std::string> v = {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj",
                                             "self_attn.o_proj", "mlp.gate_proj",    "mlp.up_proj",
                                             "mlp.down_proj"};
  return v;
}

}  // namespace lmp::names
