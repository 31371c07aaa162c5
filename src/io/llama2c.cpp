#include "io/llama2c.h"

#include <cstring>
#include <vector>

#include "core/error.h"
#include "io/byte_reader.h"
#include "io/checked_math.h"
#include "io/llama2c_vocab.h"

namespace lmp {

namespace {

constexpr uint32_t kMagicV1 = 0x616b3432;  // "ak42"
constexpr uint64_t kV1HeaderBytes = 256;

// One f32 array of the file in order; an empty name is skipped (freq_cis tables).
struct Segment {
  std::string name, file_name;
  Shape shape;
};

void read_params(ByteReader& r, Llama2cHeader& h) {
  int64_t* fields[] = {&h.dim, &h.hidden_dim, &h.n_layers, &h.n_heads, &h.n_kv_heads, &h.vocab_size, &h.seq_len};
  for (int64_t* f : fields) *f = r.read<int32_t>("the header");
}

void check_params(const Llama2cHeader& h, const std::string& path) {
  const struct { const char* name; int64_t v; } fields[] = {
      {"dim", h.dim}, {"hidden_dim", h.hidden_dim}, {"n_layers", h.n_layers}, {"n_heads", h.n_heads},
      {"n_kv_heads", h.n_kv_heads}, {"vocab_size", h.vocab_size}, {"seq_len", h.seq_len}};
  for (const auto& f : fields)
    LMP_CHECK(f.v > 0, "llama2c ", path, ": header field ", f.name, ": expected a positive integer, found ", f.v);
  LMP_CHECK(h.dim % h.n_heads == 0 && (h.dim / h.n_heads) % 2 == 0, "llama2c ", path, ": dim ", h.dim,
            " does not split into ", h.n_heads, " heads of even size");
  LMP_CHECK(h.n_heads % h.n_kv_heads == 0, "llama2c ", path, ": n_kv_heads: expected a divisor of n_heads ", h.n_heads,
            ", found ", h.n_kv_heads);
}

void add_layers(std::vector<Segment>& out, const Llama2cHeader& h, const char* file_name, const std::string& leaf,
                Shape shape) {
  for (int64_t l = 0; l < h.n_layers; ++l)
    out.push_back({names::layer(l, leaf), std::string(file_name) + "[" + std::to_string(l) + "]", shape});
}

// The f32 arrays of the file, in order.
std::vector<Segment> layout(const Llama2cHeader& h) {
  const int64_t D = h.dim, H = h.hidden_dim, V = h.vocab_size, KV = h.n_kv_heads * (h.dim / h.n_heads);
  const Segment embed{names::embed(), "token_embedding_table", {V, D}};
  const Segment final_norm{names::final_norm(), "rms_final_weight", {D}};
  std::vector<Segment> s;
  auto norms = [&] {
    add_layers(s, h, "rms_att_weight", "input_layernorm.weight", {D});
  };
  if (h.version == 1) {
    norms();
    add_layers(s, h, "rms_ffn_weight", "post_attention_layernorm.weight", {D});
    s.push_back(final_norm);
    s.push_back(embed);
  } else {
    s.push_back(embed);
    norms();
  }
  add_layers(s, h, "wq", "self_attn.q_proj.weight", {D, D});
  add_layers(s, h, "wk", "self_attn.k_proj.weight", {KV, D});
  add_layers(s, h, "wv", "self_attn.v_proj.weight", {KV, D});
  add_layers(s, h, "wo", "self_attn.o_proj.weight", {D, D});
  if (h.version == 0) add_layers(s, h, "rms_ffn_weight", "post_attention_layernorm.weight", {D});
  add_layers(s, h, "w1", "mlp.gate_proj.weight", {H, D});
  add_layers(s, h, "w2", "mlp.down_proj.weight", {D, H});
  add_layers(s, h, "w3", "mlp.up_proj.weight", {H, D});
  if (h.version == 0) {
    s.push_back(final_norm);
    const int64_t half = h.dim / h.n_heads / 2;
    s.push_back({"", "freq_cis_real", {h.seq_len, half}});
    s.push_back({"", "freq_cis_imag", {h.seq_len, half}});
  }
  if (!h.shared_classifier) s.push_back({names::lm_head(), "wcls", {V, D}});
  return s;
}

// Bytes the header implies (computed before the layout, so a bogus n_layers costs nothing).
std::optional<uint64_t> expected_bytes(const Llama2cHeader& h) {
  using u128 = unsigned __int128;  // every header field is below 2^31: no product below overflows 128 bits
  const u128 D = u128(h.dim), H = u128(h.hidden_dim), V = u128(h.vocab_size), L = u128(h.n_layers);
  const u128 KV = u128(h.n_kv_heads) * u128(h.dim / h.n_heads);
  const u128 per_layer = 2 * D + 2 * D * D + 2 * KV * D + 3 * H * D;
  u128 floats = L * per_layer + V * D + D;
  if (h.version == 0) floats += u128(h.seq_len) * u128(h.dim / h.n_heads);  // freq_cis real + imag
  if (!h.shared_classifier) floats += V * D;
  const u128 bytes = floats * 4 + h.header_bytes;
  if (bytes > u128(UINT64_MAX)) return std::nullopt;
  return uint64_t(bytes);
}

std::string describe(const Llama2cHeader& h) {
  return detail::concat("dim ", h.dim, ", hidden_dim ", h.hidden_dim, ", n_layers ", h.n_layers, ", n_heads ",
                        h.n_heads, ", n_kv_heads ", h.n_kv_heads, ", vocab_size ", h.vocab_size, ", seq_len ",
                        h.seq_len, h.shared_classifier ? ", shared classifier" : ", separate classifier");
}

ModelConfig make_config(const Llama2cHeader& h) {
  ModelConfig c;
  c.arch = "llama";
  c.vocab_size = h.vocab_size;
  c.hidden_size = h.dim;
  c.intermediate_size = h.hidden_dim;
  c.num_layers = h.n_layers;
  c.num_heads = h.n_heads;
  c.num_kv_heads = h.n_kv_heads;
  c.head_dim = h.dim / h.n_heads;
  c.max_position_embeddings = h.seq_len;
  c.rms_norm_eps = 1e-5;
  c.rope_theta = 10000.0;
  c.tie_word_embeddings = h.shared_classifier;
  c.bos_token_id = 1;
  c.eos_token_ids = {2};
  c.dtype = "float32";
  return c;
}

int64_t interleaved_heads(const ModelConfig& c, const std::string& file_name) {
  if (file_name.compare(0, 3, "wq[") == 0) return c.num_heads;
  if (file_name.compare(0, 3, "wk[") == 0) return c.num_kv_heads;
  return 0;
}

void add_tensors(LoadedCheckpoint& c, const Llama2cHeader& h, const std::shared_ptr<const MappedFile>& f) {
  const std::string what = "llama2c " + f->path();
  const std::optional<uint64_t> expected = expected_bytes(h);
  LMP_CHECK(expected, what, ": header (", describe(h), ") implies a size beyond 2^64 bytes");
  LMP_CHECK(*expected == f->size(), what, ": expected ", *expected, " bytes for ", describe(h), ", found ",
            f->size(), " bytes");
  uint64_t offset = h.header_bytes;
  for (const Segment& s : layout(h)) {
    const uint64_t n = uint64_t(shape_numel(s.shape)) * 4;
    if (!s.name.empty()) {
      TensorEntry e;
      e.info = TensorInfo{s.name, s.file_name, DType::F32, s.shape, f->path(), offset, n,
                          interleaved_heads(c.config, s.file_name)};
      e.data = f->data() + offset;
      e.owner = f;
      c.add(std::move(e), what);
    }
    offset += n;
  }
  LMP_CHECK(offset == f->size(), what, ": internal layout error: ", offset, " != ", f->size());
}

}  // namespace

Llama2cHeader read_llama2c_header(const uint8_t* data, size_t size, const std::string& path) {
  ByteReader r(data, size, "llama2c " + path);
  Llama2cHeader h;
  const uint32_t magic = r.read<uint32_t>("the header");
  if (magic == kMagicV1) {
    const int32_t version = r.read<int32_t>("the version");
    LMP_CHECK(version != 2, r.what(), ": version 2 (int8-quantized) llama2.c checkpoints are not supported; ",
              "export version 0 or 1 (fp32)");
    LMP_CHECK(version == 1, r.what(), ": unsupported llama2.c version ", version, " (0 and 1 are supported)");
    h.version = 1;
    read_params(r, h);
    h.shared_classifier = r.read<uint8_t>("the header") != 0;
    r.need(kV1HeaderBytes - r.pos(), "the 256-byte header");
    h.header_bytes = kV1HeaderBytes;
  } else {
    r.seek(0);
    read_params(r, h);
    h.shared_classifier = h.vocab_size > 0;
    h.vocab_size = h.vocab_size < 0 ? -h.vocab_size : h.vocab_size;
    h.header_bytes = r.pos();
  }
  check_params(h, path);
  return h;
}

LoadedCheckpoint open_llama2c_checkpoint(const std::string& path, const OpenOptions& opts) {
  const auto f = MappedFile::open(path);
  const Llama2cHeader h = read_llama2c_header(f->data(), f->size(), path);
  LoadedCheckpoint c;
  c.format = CheckpointFormat::Llama2c;
  c.config_source = "the llama2.c header";
  c.config = make_config(h);
  add_tensors(c, h, f);
  const std::string tok = opts.tokenizer_path.empty() ? find_llama2c_tokenizer(path) : opts.tokenizer_path;
  c.tokenizer.kind = TokenizerSource::Kind::Spm;
  c.tokenizer.spm = read_llama2c_vocab(tok, h.vocab_size);
  c.tokenizer.origin = tok;
  c.metadata = {{"llama2c.version", std::to_string(h.version)},       {"dim", std::to_string(h.dim)},
                {"hidden_dim", std::to_string(h.hidden_dim)},         {"n_layers", std::to_string(h.n_layers)},
                {"n_heads", std::to_string(h.n_heads)},               {"n_kv_heads", std::to_string(h.n_kv_heads)},
                {"vocab_size", std::to_string(h.vocab_size)},         {"seq_len", std::to_string(h.seq_len)},
                {"shared_classifier", h.shared_classifier ? "true" : "false"}, {"tokenizer", tok}};
  return c;
}

}  // namespace lmp
