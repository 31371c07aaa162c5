#include "io/gguf_checkpoint.h"

#include <algorithm>

#include "core/error.h"
#include "io/gguf_names.h"
#include "io/printable.h"

namespace lmp {

namespace {

// Typed access to GGUF metadata with errors naming the file and the key.
struct Meta {
  const GgufFile& g;
  std::string what;  // "gguf <path>"

  const GgufValue* get(const std::string& key) const { return g.find(key); }
  int64_t integer(const std::string& key) const {
    const GgufValue* v = get(key);
    LMP_CHECK(v, what, ": missing metadata key ", key);
    const auto i = v->as_int();
    LMP_CHECK(i, what, ": ", key, ": expected an integer, found ", gguf_type_name(v->type), " ", printable(v->to_string()));
    return *i;
  }
  int64_t integer_or(const std::string& key, int64_t def) const { return get(key) ? integer(key) : def; }
  double number_or(const std::string& key, double def) const {
    const GgufValue* v = get(key);
    if (!v) return def;
    if (v->is_float()) return v->f;
    return double(integer(key));
  }
  bool boolean_or(const std::string& key, bool def) const {
    const GgufValue* v = get(key);
    if (!v) return def;
    LMP_CHECK(v->type == GgufType::BOOL, what, ": ", key, ": expected a bool, found ", gguf_type_name(v->type));
    return v->u != 0;
  }
  std::string string_or(const std::string& key, const std::string& def) const {
    const GgufValue* v = get(key);
    if (!v) return def;
    LMP_CHECK(v->type == GgufType::STRING, what, ": ", key, ": expected a string, found ", gguf_type_name(v->type));
    return std::string(v->s);
  }
  const GgufTensor* tensor(std::string_view name) const {
    for (const auto& t : g.tensors)
      if (t.name == name) return &t;
    return nullptr;
  }
};

std::string dtype_word(DType t) {
  switch (t) {
    case DType::F32: return "float32";
    case DType::F16: return "float16";
    case DType::BF16: return "bfloat16";
    case DType::Q8_0: return "q8_0";
    case DType::Q4_0: return "q4_0";
    case DType::Q4_K: return "q4_k";
    case DType::Q6_K: return "q6_k";
    default: return std::string(dtype_name(t));
  }
}

void read_rope(const Meta& m, const std::string& a, ModelConfig& c) {
  c.rope_theta = m.number_or(a + "rope.freq_base", 10000.0);
  const int64_t rot = m.integer_or(a + "rope.dimension_count", c.head_dim);
  LMP_CHECK(rot == c.head_dim, m.what, ": ", a, "rope.dimension_count: expected the head size ", c.head_dim,
            ", found ", rot, " (partial rotary embeddings are not supported)");
  const std::string scaling = m.string_or(a + "rope.scaling.type", "none");
  LMP_CHECK(scaling == "none", m.what, ": ", a, "rope.scaling.type: expected none, found \"", printable(scaling), "\"");
  LMP_CHECK(!m.tensor("rope_freqs.weight"), m.what,
            ": rope_freqs.weight: RoPE frequency factors (Llama 3.1 scaling in GGUF) are not supported");
}

int32_t token_id(const Meta& m, const std::string& key, int32_t def, uint64_t n_tokens) {
  const int64_t v = m.integer_or(key, def);
  LMP_CHECK(v >= 0 && uint64_t(v) < n_tokens, m.what, ": ", key, ": expected an id below ", n_tokens, ", found ", v);
  return int32_t(v);
}

void read_special_ids(const Meta& m, ModelConfig& c) {
  const GgufValue* tokens = m.get("tokenizer.ggml.tokens");
  const uint64_t n = tokens && tokens->type == GgufType::ARRAY ? tokens->arr.count : uint64_t(c.vocab_size);
  c.bos_token_id = m.get("tokenizer.ggml.bos_token_id") ? token_id(m, "tokenizer.ggml.bos_token_id", 0, n) : -1;
  c.eos_token_ids.clear();
  if (m.get("tokenizer.ggml.eos_token_id")) c.eos_token_ids.push_back(token_id(m, "tokenizer.ggml.eos_token_id", 0, n));
}

ModelConfig read_config(const Meta& m) {
  ModelConfig c;
  c.arch = m.string_or("general.architecture", "");
  LMP_CHECK(c.arch == "llama" || c.arch == "qwen2", m.what, ": general.architecture: expected llama or qwen2, found \"",
            printable(c.arch), "\"");
  const std::string a = c.arch + ".";
  c.hidden_size = m.integer(a + "embedding_length");
  c.num_layers = m.integer(a + "block_count");
  c.intermediate_size = m.integer(a + "feed_forward_length");
  c.num_heads = m.integer(a + "attention.head_count");
  LMP_CHECK(c.num_heads > 0, m.what, ": ", a, "attention.head_count: expected a positive integer, found ", c.num_heads);
  c.num_kv_heads = m.integer_or(a + "attention.head_count_kv", c.num_heads);
  LMP_CHECK(c.num_kv_heads > 0 && c.num_heads % c.num_kv_heads == 0, m.what, ": ", a,
            "attention.head_count_kv: expected a divisor of ", c.num_heads, ", found ", c.num_kv_heads);
  c.head_dim = m.integer_or(a + "attention.key_length", c.hidden_size / c.num_heads);
  LMP_CHECK(c.head_dim > 0 && c.head_dim % 2 == 0, m.what, ": head size: expected a positive even number, found ",
            c.head_dim);
  c.max_position_embeddings = m.integer(a + "context_length");
  c.rms_norm_eps = m.number_or(a + "attention.layer_norm_rms_epsilon", 1e-5);
  read_rope(m, a, c);
  const GgufTensor* embd = m.tensor("token_embd.weight");
  LMP_CHECK(embd, m.what, ": missing tensor token_embd.weight");
  LMP_CHECK(embd->ne.size() == 2, m.what, ": token_embd.weight: expected 2 dimensions, found ", embd->ne.size());
  c.vocab_size = embd->shape()[0];
  c.tie_word_embeddings = !m.tensor("output.weight");
  c.attention_bias = c.arch == "qwen2" || m.tensor("blk.0.attn_q.bias");
  c.o_proj_bias = c.arch == "llama" && m.tensor("blk.0.attn_output.bias");
  c.mlp_bias = m.tensor("blk.0.ffn_gate.bias") != nullptr;
  const GgufTensor* q = m.tensor("blk.0.attn_q.weight");
  c.dtype = dtype_word(q ? q->dtype : embd->dtype);
  read_special_ids(m, c);
  return c;
}

// Rows of a Q/K projection that llama.cpp stored interleaved (arch llama only): the head count.
int64_t interleaved_heads(const ModelConfig& c, const std::string& name) {
  if (c.arch != "llama") return 0;
  auto ends = [&](std::string_view s) { return name.size() >= s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0; };
  if (ends("self_attn.q_proj.weight") || ends("self_attn.q_proj.bias")) return c.num_heads;
  if (ends("self_attn.k_proj.weight") || ends("self_attn.k_proj.bias")) return c.num_kv_heads;
  return 0;
}

void add_tensors(LoadedCheckpoint& c, const GgufFile& g, const std::string& what) {
  for (const GgufTensor& t : g.tensors) {
    const std::string name = hf_name_from_gguf(t.name).value_or(t.name);
    TensorEntry e;
    e.info = TensorInfo{name, t.name, t.dtype, t.shape(), g.path(), t.offset, t.nbytes,
                        interleaved_heads(c.config, name)};
    e.data = g.file->data() + t.offset;
    e.owner = g.file;
    c.add(std::move(e), what);
  }
}

SpmTokenType token_type(int64_t v, uint64_t i, const std::string& what) {
  LMP_CHECK(v >= 0 && v <= 6, what, ": tokenizer.ggml.token_type[", i, "]: expected 0 to 6, found ", v);
  return v == 0 ? SpmTokenType::Normal : SpmTokenType(v);
}

const GgufArray* numeric_array(const Meta& m, const std::string& key, uint64_t n) {
  const GgufValue* v = m.get(key);
  if (!v) return nullptr;
  LMP_CHECK(v->type == GgufType::ARRAY && v->arr.is_numeric() && v->arr.count == n, m.what, ": ", key,
            ": expected ", n, " numbers (one per token), found ",
            v->type == GgufType::ARRAY ? v->to_string() : std::string(gguf_type_name(v->type)));
  return &v->arr;
}

}  // namespace

SpmVocab gguf_spm_vocab(const GgufFile& g) {
  const Meta m{g, "gguf " + g.path()};
  const GgufValue* tokens = m.get("tokenizer.ggml.tokens");
  LMP_CHECK(tokens && tokens->type == GgufType::ARRAY && tokens->arr.type == GgufType::STRING && tokens->arr.count > 0,
            m.what, ": tokenizer.ggml.tokens: expected a non-empty array of strings");
  const uint64_t n = tokens->arr.count;
  SpmVocab v;
  v.pieces.assign(tokens->arr.strings.begin(), tokens->arr.strings.end());
  v.scores.assign(size_t(n), 0.0f);
  if (const GgufArray* s = numeric_array(m, "tokenizer.ggml.scores", n))
    for (uint64_t i = 0; i < n; ++i) v.scores[i] = float(std::clamp(s->float_at(i), -3.0e38, 3.0e38));
  if (const GgufArray* t = numeric_array(m, "tokenizer.ggml.token_type", n)) {
    v.types.resize(size_t(n));
    for (uint64_t i = 0; i < n; ++i) v.types[i] = token_type(t->int_at(i), i, m.what);
  }
  v.bos_id = token_id(m, "tokenizer.ggml.bos_token_id", 1, n);
  v.eos_id = token_id(m, "tokenizer.ggml.eos_token_id", 2, n);
  v.unk_id = token_id(m, "tokenizer.ggml.unknown_token_id", 0, n);
  v.add_bos = m.boolean_or("tokenizer.ggml.add_bos_token", true);
  v.add_space_prefix = m.boolean_or("tokenizer.ggml.add_space_prefix", true);
  return v;
}

LoadedCheckpoint open_gguf_checkpoint(const std::string& path) {
  const GgufFile g = read_gguf(path);
  const Meta m{g, "gguf " + path};
  LoadedCheckpoint c;
  c.format = CheckpointFormat::GGUF;
  c.config_source = "the GGUF metadata";
  c.config = read_config(m);
  add_tensors(c, g, m.what);
  for (const GgufKV& kv : g.kv) c.metadata[kv.key] = kv.value.to_string();
  c.metadata["gguf.version"] = std::to_string(g.version);
  c.metadata["gguf.alignment"] = std::to_string(g.alignment);
  c.metadata["gguf.tensor_count"] = std::to_string(g.tensors.size());
  const std::string model = m.string_or("tokenizer.ggml.model", "");
  if (model == "llama") {
    c.tokenizer.kind = TokenizerSource::Kind::Spm;
    c.tokenizer.spm = gguf_spm_vocab(g);
    c.tokenizer.origin = path;
  } else {
    c.metadata["tokenizer.note"] = model.empty() ? "no embedded tokenizer; pass --tokenizer"
                                                 : "embedded tokenizer model \"" + printable(model) +
                                                       "\" is not supported; pass --tokenizer";
  }
  return c;
}

}  // namespace lmp
