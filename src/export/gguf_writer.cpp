// GGUF export (see gguf_writer.h).
#include "export/gguf_writer.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "core/error.h"
#include "export/gguf_vocab.h"
#include "io/gguf_names.h"
#include "io/gguf_quant.h"

namespace fs = std::filesystem;

namespace lmp {

namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool is_block_linear_weight(const std::string& name) {
  for (const std::string& leaf : names::block_linears())
    if (ends_with(name, "." + leaf + ".weight")) return true;
  return false;
}

// Layer index of a canonical name, -1 before the blocks (embeddings), INT64_MAX after (norm, lm_head).
int64_t layer_of(const std::string& name) {
  const std::string p = "model.layers.";
  if (name.rfind(p, 0) == 0) return std::stoll(name.substr(p.size()));
  return name == names::embed() ? -1 : INT64_MAX;
}

bool is_k_quant(GgmlType t) { return t == GgmlType::Q4_K || t == GgmlType::Q6_K; }
bool is_block_type(GgmlType t) { return t == GgmlType::Q4_0 || t == GgmlType::Q8_0 || is_k_quant(t); }

std::string arch_of(const ModelConfig& c) { return c.arch == "qwen2" ? "qwen2" : "llama"; }

// general.file_type: llama.cpp's llama_ftype of the export.
uint32_t file_type(GgmlType t, bool q4_k_m) {
  if (q4_k_m) return 15;  // LLAMA_FTYPE_MOSTLY_Q4_K_M
  switch (t) {
    case GgmlType::F32: return 0;
    case GgmlType::F16: return 1;
    case GgmlType::Q4_0: return 2;
    case GgmlType::Q8_0: return 7;
    case GgmlType::Q4_K: return 14;  // LLAMA_FTYPE_MOSTLY_Q4_K_S: every linear Q4_K
    case GgmlType::Q6_K: return 18;  // LLAMA_FTYPE_MOSTLY_Q6_K
  }
  return 1;
}

}  // namespace

GgmlType parse_gguf_type(const std::string& s) {
  if (s == "f32") return GgmlType::F32;
  if (s == "f16") return GgmlType::F16;
  if (s == "q8_0") return GgmlType::Q8_0;
  if (s == "q4_0") return GgmlType::Q4_0;
  if (s == "q4_k" || s == "q4_k_m") return GgmlType::Q4_K;
  if (s == "q6_k") return GgmlType::Q6_K;
  fail("export gguf: --gguf-type must be f32, f16, q8_0, q4_0, q4_k, q6_k or q4_k_m, found '", s, "'");
}

// llama.cpp's Q4_K_M mix (src/llama-quant.cpp, llama_tensor_get_type_impl for LLAMA_FTYPE_MOSTLY_Q4_K_M):
// Q4_K, except attn_v (v_proj) and ffn_down (down_proj) in the layers i of n where use_more_bits(i, n)
// holds — the first and last eighth of the layers and every third layer between — which get Q6_K.
// Not replicated: llama.cpp's Q4_K token_embd and Q6_K output.weight (this writer keeps the
// uncompressed matrices F16, and a compressed lm_head takes the linears' Q4_K); its special cases for
// models lmpress does not export (8 experts: attn_v / attn_k Q8_0, attn_output Q5_K; LLM_TYPE_70B:
// attn_v Q5_K; Falcon; fused attn_qkv Q5_K); and Q5_0 as the fallback of Q4_K (Q8_0 here).
GgmlType q4_k_m_type(const std::string& name, int64_t n_layers) {
  const bool v_or_down = ends_with(name, ".self_attn.v_proj.weight") || ends_with(name, ".mlp.down_proj.weight");
  if (!v_or_down) return GgmlType::Q4_K;
  const int64_t i = layer_of(name), n = n_layers;
  const bool use_more_bits = i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2;
  return use_more_bits ? GgmlType::Q6_K : GgmlType::Q4_K;
}

GgufWriter::GgufWriter(const Checkpoint& input, std::string out_path, const std::string& type, bool force, bool head)
    : in_(input), out_(std::move(out_path)), type_(parse_gguf_type(type)), q4_k_m_(type == "q4_k_m"), head_(head) {
  std::error_code ec;
  LMP_CHECK(force || !fs::exists(out_, ec), "export gguf: output '", out_, "' exists (use --force to replace it)");
  LMP_CHECK(!fs::is_directory(out_, ec), "export gguf: output '", out_, "' is a directory, expected a .gguf file path");
  const ModelConfig& c = input.config();
  LMP_CHECK(c.rope.type == "default", "export gguf: ", input.path(), ": RoPE scaling '", c.rope.type,
            "' cannot be written to GGUF yet (expected default)");
  declare_tensors();
  write_metadata();
  file_->begin_data();
  for (const auto& [name, g] : gguf_name_)
    if (!is_compressed(name)) write(name, input.load_f32(name), nullptr);
}

bool GgufWriter::is_compressed(const std::string& name) const {
  return is_block_linear_weight(name) || (head_ && name == names::lm_head());
}

void GgufWriter::declare_tensors() {
  std::vector<std::string> order = in_.tensor_names();
  const bool tied = std::find(order.begin(), order.end(), names::lm_head()) == order.end();
  if (head_ && tied) order.push_back(names::lm_head());  // untied: the compressed head is its own tensor
  std::stable_sort(order.begin(), order.end(),
                   [](const std::string& a, const std::string& b) { return layer_of(a) < layer_of(b); });
  file_ = std::make_unique<GgufFileWriter>(out_);
  for (const std::string& name : order) {
    const auto g = gguf_name_from_hf(name);
    LMP_CHECK(g, "export gguf: ", in_.path(), ": tensor ", name, " has no llama.cpp name");
    const Shape& shape = in_.info(name == names::lm_head() && tied ? names::embed() : name).shape;
    const GgmlType t = shape.size() == 1 ? GgmlType::F32 : linear_type(name, shape);
    gguf_name_[name] = *g;
    types_[name] = t;
    file_->add_tensor(*g, shape, t);
  }
  if (stats_.q8_0_fallback > 0)
    std::fprintf(stderr, "export gguf: %lld linears have an input size that is not a multiple of 256 (one %s "
                 "block); written as Q8_0\n", (long long)stats_.q8_0_fallback, ggml_type_str(type_));
  if (stats_.f16_fallback > 0)
    std::fprintf(stderr, "export gguf: %lld linears have an input size that is not a multiple of 32; written as F16\n",
                 (long long)stats_.f16_fallback);
}

// The stored type of a 2-D tensor: --gguf-type (q4_k_m: q4_k_m_type); F16 for the uncompressed
// matrices of a block type; for linears that do not fit the block: Q8_0 in place of Q4_K / Q6_K (input
// not a multiple of 256 — llama.cpp falls back likewise for Q6_K, and to Q5_0, which lmpress does not
// write, for Q4_K), F16 in place of the others (input not a multiple of 32).
GgmlType GgufWriter::linear_type(const std::string& name, const Shape& shape) {
  if (!is_block_type(type_)) return type_;
  if (!is_compressed(name)) return GgmlType::F16;
  const GgmlType t = q4_k_m_ ? q4_k_m_type(name, in_.config().num_layers) : type_;
  const int64_t in = shape.back();
  if (in % int64_t(is_k_quant(t) ? kSuperBlock : kQuantBlock) == 0) return t;
  if (in % int64_t(kQuantBlock) == 0) {
    ++stats_.q8_0_fallback;
    return GgmlType::Q8_0;
  }
  ++stats_.f16_fallback;
  return GgmlType::F16;
}

void GgufWriter::write_metadata() {
  const ModelConfig& c = in_.config();
  const std::string a = arch_of(c) + ".";
  GgufFileWriter& f = *file_;
  f.kv_str("general.architecture", arch_of(c));
  f.kv_str("general.name", fs::path(in_.path()).filename().string());
  f.kv_u32("general.alignment", uint32_t(GgufFileWriter::kAlignment));
  f.kv_u32("general.file_type", file_type(type_, q4_k_m_));
  if (is_block_type(type_)) f.kv_u32("general.quantization_version", 2);
  f.kv_u32(a + "vocab_size", uint32_t(c.vocab_size));
  f.kv_u32(a + "context_length", uint32_t(c.max_position_embeddings));
  f.kv_u32(a + "embedding_length", uint32_t(c.hidden_size));
  f.kv_u32(a + "block_count", uint32_t(c.num_layers));
  f.kv_u32(a + "feed_forward_length", uint32_t(c.intermediate_size));
  f.kv_u32(a + "attention.head_count", uint32_t(c.num_heads));
  f.kv_u32(a + "attention.head_count_kv", uint32_t(c.num_kv_heads));
  f.kv_u32(a + "attention.key_length", uint32_t(c.head_dim));
  f.kv_u32(a + "attention.value_length", uint32_t(c.head_dim));
  f.kv_f32(a + "attention.layer_norm_rms_epsilon", float(c.rms_norm_eps));
  f.kv_f32(a + "rope.freq_base", float(c.rope_theta));
  f.kv_u32(a + "rope.dimension_count", uint32_t(c.head_dim));
  write_gguf_vocab(in_, f);
}

RowOrder GgufWriter::row_order(const std::string& name) const {
  const ModelConfig& c = in_.config();
  if (arch_of(c) != "llama") return {};  // qwen2 GGUFs keep the HF row order
  const bool q = ends_with(name, "self_attn.q_proj.weight") || ends_with(name, "self_attn.q_proj.bias");
  const bool k = ends_with(name, "self_attn.k_proj.weight") || ends_with(name, "self_attn.k_proj.bias");
  return RowOrder{q ? c.num_heads : k ? c.num_kv_heads : 0, c.head_dim};
}

void GgufWriter::write(const std::string& name, const Tensor& f32, const CompressedLinear* cl) {
  const GgmlType t = types_.at(name);
  const RowOrder order = row_order(name);
  std::string bytes;
  if (cl && cl->quant && grid_fits_gguf(*cl->quant, t)) {
    bytes = encode_gguf_grid(*cl->quant, t, order);
    ++stats_.from_codes;
  } else {
    if (cl && is_block_type(t)) ++stats_.requantized;
    bytes = encode_gguf_tensor(f32, t, order);
  }
  file_->write_tensor(gguf_name_.at(name), bytes.data(), bytes.size());
}

void GgufWriter::add_block(const CompressedBlock& block) {
  LMP_CHECK(block.tensors.empty(), "export gguf: block ", block.index, " has refined norms or biases (",
            block.tensors.begin()->first, ", ...), which the gguf export does not write yet; use --format hf or lmp");
  for (const std::string& leaf : names::block_linears()) {
    const std::string name = names::layer(block.index, leaf + ".weight");
    const auto it = block.linears.find(leaf);
    if (it != block.linears.end()) write(name, it->second.weight, &it->second);
    else write(name, in_.load_f32(name), nullptr);  // skipped by --ignore: the input's values
  }
}

void GgufWriter::add_head(const CompressedLinear& head) {
  LMP_CHECK(head_, "export gguf: add_head() on a writer made without a compressed head");
  write(names::lm_head(), head.weight, &head);
}

void GgufWriter::finish() {
  file_->finish();
  if (stats_.requantized > 0 && is_k_quant(type_))
    std::fprintf(stderr, "export gguf: %lld linears quantized to %s from their values (llama.cpp's reference method)\n",
                 (long long)stats_.requantized, q4_k_m_ ? "Q4_K and Q6_K" : ggml_type_str(type_));
  else if (stats_.requantized > 0)
    std::fprintf(stderr,
                 "export gguf: %lld linears did not fit %s exactly (it needs 4-bit (Q4_0) or 8-bit (Q8_0) symmetric "
                 "groups of 32); re-quantized from their values\n",
                 (long long)stats_.requantized, ggml_type_str(type_));
}

}  // namespace lmp
