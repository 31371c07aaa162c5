#include "io/gguf_names.h"

#include <charconv>

namespace lmp {

namespace {

struct Pair { std::string_view gguf, hf; };

constexpr Pair kTop[] = {{"token_embd", "model.embed_tokens"}, {"output_norm", "model.norm"}, {"output", "lm_head"}};
constexpr Pair kBlock[] = {{"attn_norm", "input_layernorm"},   {"attn_q", "self_attn.q_proj"},
                           {"attn_k", "self_attn.k_proj"},     {"attn_v", "self_attn.v_proj"},
                           {"attn_output", "self_attn.o_proj"}, {"ffn_norm", "post_attention_layernorm"},
                           {"ffn_gate", "mlp.gate_proj"},      {"ffn_up", "mlp.up_proj"},
                           {"ffn_down", "mlp.down_proj"}};

// Splits "<stem>.weight" / "<stem>.bias" into stem and suffix.
bool split_suffix(std::string_view name, std::string_view& stem, std::string_view& suffix) {
  for (std::string_view s : {std::string_view(".weight"), std::string_view(".bias")}) {
    if (name.size() > s.size() && name.substr(name.size() - s.size()) == s) {
      stem = name.substr(0, name.size() - s.size());
      suffix = s;
      return true;
    }
  }
  return false;
}

// Parses "<prefix><digits>.<rest>" into the block index and rest.
bool split_block(std::string_view stem, std::string_view prefix, long& block, std::string_view& rest) {
  if (stem.substr(0, prefix.size()) != prefix) return false;
  stem.remove_prefix(prefix.size());
  const size_t dot = stem.find('.');
  if (dot == std::string_view::npos || dot == 0 || dot > 9 || stem[0] < '0' || stem[0] > '9') return false;
  auto r = std::from_chars(stem.data(), stem.data() + dot, block);
  if (r.ec != std::errc() || r.ptr != stem.data() + dot) return false;
  rest = stem.substr(dot + 1);
  return true;
}

std::optional<std::string> translate(std::string_view name, std::string_view block_from, std::string_view block_to,
                                     bool from_gguf) {
  std::string_view stem, suffix, rest;
  if (!split_suffix(name, stem, suffix)) return std::nullopt;
  for (const Pair& p : kTop)
    if (stem == (from_gguf ? p.gguf : p.hf)) return std::string(from_gguf ? p.hf : p.gguf) + std::string(suffix);
  long block = 0;
  if (!split_block(stem, block_from, block, rest)) return std::nullopt;
  for (const Pair& p : kBlock)
    if (rest == (from_gguf ? p.gguf : p.hf))
      return std::string(block_to) + std::to_string(block) + "." + std::string(from_gguf ? p.hf : p.gguf) +
             std::string(suffix);
  return std::nullopt;
}

}  // namespace

std::optional<std::string> hf_name_from_gguf(std::string_view gguf_name) {
  return translate(gguf_name, "blk.", "model.layers.", true);
}

std::optional<std::string> gguf_name_from_hf(std::string_view hf_name) {
  return translate(hf_name, "model.layers.", "blk.", false);
}

}  // namespace lmp
