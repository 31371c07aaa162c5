// llama.cpp tensor names <-> canonical HF names: token_embd.weight <-> model.embed_tokens.weight,
// blk.3.attn_q.weight <-> model.layers.3.self_attn.q_proj.weight, ...
#pragma once
#include <optional>
#include <string>
#include <string_view>

namespace lmp {

// The HF name of a GGUF tensor name, or nullopt for a name outside the LLaMA-family table.
std::optional<std::string> hf_name_from_gguf(std::string_view gguf_name);
// The GGUF name of a canonical HF name, or nullopt.
std::optional<std::string> gguf_name_from_hf(std::string_view hf_name);

}  // namespace lmp
