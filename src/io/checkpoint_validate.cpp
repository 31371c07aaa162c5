#include "io/checkpoint_validate.h"

#include <filesystem>
#include <vector>

#include "core/error.h"
#include "io/tensor_convert.h"

namespace lmp {

namespace {

struct Expected {
  std::string name;
  Shape shape;
  std::string reason;  // why the config implies it, for "missing tensor" messages
};

void add_block(std::vector<Expected>& out, const ModelConfig& c, int64_t b, const std::string& src) {
  const int64_t D = c.hidden_size, I = c.intermediate_size, Q = c.q_dim(), KV = c.kv_dim();
  const std::string layers = src + " says " + std::to_string(c.num_layers) + " layers";
  auto add = [&](const std::string& leaf, Shape s, const std::string& why) {
    out.push_back({names::layer(b, leaf), std::move(s), why});
  };
  add("input_layernorm.weight", {D}, layers);
  add("post_attention_layernorm.weight", {D}, layers);
  const Shape shapes[] = {{Q, D}, {KV, D}, {KV, D}, {D, Q}, {I, D}, {I, D}, {D, I}};
  for (size_t i = 0; i < 7; ++i) add(names::block_linears()[i] + ".weight", shapes[i], layers);
  if (c.attention_bias) {
    const std::string why = src + " says the attention has biases";
    add("self_attn.q_proj.bias", {Q}, why);
    add("self_attn.k_proj.bias", {KV}, why);
    add("self_attn.v_proj.bias", {KV}, why);
  }
  if (c.o_proj_bias) add("self_attn.o_proj.bias", {D}, src + " says attention_bias");
  if (c.mlp_bias) {
    const std::string why = src + " says mlp_bias";
    add("mlp.gate_proj.bias", {I}, why);
    add("mlp.up_proj.bias", {I}, why);
    add("mlp.down_proj.bias", {D}, why);
  }
}

std::vector<Expected> top_level_tensors(const ModelConfig& c, const std::string& src) {
  std::vector<Expected> out;
  out.push_back({names::embed(), {c.vocab_size, c.hidden_size}, src + " says vocab " + std::to_string(c.vocab_size)});
  out.push_back({names::final_norm(), {c.hidden_size}, "every model has one"});
  if (!c.tie_word_embeddings)
    out.push_back({names::lm_head(), {c.vocab_size, c.hidden_size}, src + " says tie_word_embeddings is false"});
  return out;
}

// " (gptq 4-bit: X.qweight in SHARD)" for a packed tensor, "" otherwise.
std::string packed_origin(const TensorEntry& e) {
  if (!e.derived) return "";
  const TensorInfo& t = e.info;
  const std::string shard = std::filesystem::path(t.file).filename().string();
  return " (" + e.derived->packing() + ": " + t.file_name + " in " + shard + ")";
}

void check(const LoadedCheckpoint& c, const std::string& path, const Expected& e) {
  auto it = c.tensors.find(e.name);
  LMP_CHECK(it != c.tensors.end(), "checkpoint ", path, ": missing tensor ", e.name, " (", e.reason, ")");
  const TensorInfo& t = it->second.info;
  LMP_CHECK(t.shape == e.shape, "checkpoint ", path, ": ", e.name, ": expected shape ", shape_str(e.shape),
            ", found ", shape_str(t.shape), packed_origin(it->second));
  LMP_CHECK(it->second.derived || convertible_to_f32(t.dtype), "checkpoint ", path, ": ", e.name,
            ": expected a float or Q8_0/Q4_0/Q4_K/Q6_K dtype, found ", dtype_name(t.dtype));
}

// Bounds that keep every implied shape's arithmetic far from overflow.
void check_bounds(const ModelConfig& c, const std::string& path, const std::string& src) {
  constexpr int64_t kMaxDim = int64_t(1) << 24, kMaxVocab = int64_t(1) << 31, kMaxLayers = 1 << 16;
  const struct { const char* name; int64_t v, max; } fields[] = {
      {"vocab_size", c.vocab_size, kMaxVocab},       {"hidden_size", c.hidden_size, kMaxDim},
      {"intermediate_size", c.intermediate_size, kMaxDim}, {"num_layers", c.num_layers, kMaxLayers},
      {"num_heads", c.num_heads, kMaxDim},           {"num_kv_heads", c.num_kv_heads, kMaxDim},
      {"head_dim", c.head_dim, kMaxDim}};
  for (const auto& f : fields)
    LMP_CHECK(f.v > 0 && f.v <= f.max, "checkpoint ", path, ": ", f.name, " from ", src, ": expected 1 to ",
              f.max, ", found ", f.v);
}

}  // namespace

void validate_checkpoint(const LoadedCheckpoint& c, const std::string& path) {
  check_bounds(c.config, path, c.config_source);
  for (const Expected& e : top_level_tensors(c.config, c.config_source)) check(c, path, e);
  for (int64_t b = 0; b < c.config.num_layers; ++b) {  // block by block: fails early on a bogus layer count
    std::vector<Expected> block;
    add_block(block, c.config, b, c.config_source);
    for (const Expected& e : block) check(c, path, e);
  }
}

}  // namespace lmp
