// Test helper: builds GGUF files byte by byte (v2/v3 layout), and a tiny complete LLaMA model in GGUF.
#pragma once
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace lmp::test {

class GgufWriter {
 public:
  uint32_t version = 3;
  uint64_t alignment = 32;

  template <typename T>
  static void put(std::string& s, T v) {
    s.append(reinterpret_cast<const char*>(&v), sizeof v);
  }
  static void put_str(std::string& s, const std::string& v) {
    put<uint64_t>(s, v.size());
    s += v;
  }

  void kv_u32(const std::string& k, uint32_t v) { key(k, 4); put(kv_, v); }
  void kv_i32(const std::string& k, int32_t v) { key(k, 5); put(kv_, v); }
  void kv_f32(const std::string& k, float v) { key(k, 6); put(kv_, v); }
  void kv_bool(const std::string& k, bool v) { key(k, 7); put<uint8_t>(kv_, v); }
  void kv_str(const std::string& k, const std::string& v) { key(k, 8); put_str(kv_, v); }
  void kv_u64(const std::string& k, uint64_t v) { key(k, 10); put(kv_, v); }
  void kv_str_array(const std::string& k, const std::vector<std::string>& v) {
    key(k, 9);
    put<uint32_t>(kv_, 8);
    put<uint64_t>(kv_, v.size());
    for (const auto& s : v) put_str(kv_, s);
  }
  void kv_f32_array(const std::string& k, const std::vector<float>& v) {
    key(k, 9);
    put<uint32_t>(kv_, 6);
    put<uint64_t>(kv_, v.size());
    for (float f : v) put(kv_, f);
  }
  void kv_i32_array(const std::string& k, const std::vector<int32_t>& v) {
    key(k, 9);
    put<uint32_t>(kv_, 5);
    put<uint64_t>(kv_, v.size());
    for (int32_t x : v) put(kv_, x);
  }
  // `ne` innermost first; `bytes` the stored data.
  void tensor(const std::string& name, std::vector<uint64_t> ne, uint32_t type, std::string bytes) {
    tensors_.push_back({name, std::move(ne), type, std::move(bytes)});
    ++n_tensors_;
  }
  void tensor_f32(const std::string& name, std::vector<uint64_t> ne, const std::vector<float>& v) {
    tensor(name, std::move(ne), 0, std::string(reinterpret_cast<const char*>(v.data()), v.size() * 4));
  }

  std::string build() const {
    std::string s = "GGUF";
    put(s, version);
    put<uint64_t>(s, n_tensors_);
    put<uint64_t>(s, n_kv_);
    s += kv_;
    uint64_t offset = 0;
    for (const auto& t : tensors_) {
      put_str(s, t.name);
      put<uint32_t>(s, uint32_t(t.ne.size()));
      for (uint64_t d : t.ne) put(s, d);
      put(s, t.type);
      put(s, offset);
      offset += (t.bytes.size() + alignment - 1) / alignment * alignment;
    }
    s.append((alignment - s.size() % alignment) % alignment, '\0');
    for (const auto& t : tensors_) {
      s += t.bytes;
      s.append((alignment - t.bytes.size() % alignment) % alignment, '\0');
    }
    return s;
  }

 private:
  struct T {
    std::string name;
    std::vector<uint64_t> ne;
    uint32_t type;
    std::string bytes;
  };
  void key(const std::string& k, uint32_t type) {
    put_str(kv_, k);
    put(kv_, type);
    ++n_kv_;
  }
  std::string kv_;
  std::vector<T> tensors_;
  uint64_t n_kv_ = 0, n_tensors_ = 0;
};

// A deterministic value for element (r, c) of tensor number `salt`.
inline float test_value(int salt, int64_t r, int64_t c) { return float(salt * 10000 + r * 100 + c) * 0.001f; }

// HF-layout [rows, cols] f32 values.
inline std::vector<float> hf_matrix(int salt, int64_t rows, int64_t cols) {
  std::vector<float> v(size_t(rows * cols));
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) v[size_t(r * cols + c)] = test_value(salt, r, c);
  return v;
}

// Rows of an HF Q/K matrix reordered into the interleaved (Meta / llama.cpp) layout, written from the
// definition: interleaved row head*D + 2*i + h holds HF row head*D + h*(D/2) + i.
inline std::vector<float> interleave_rows(const std::vector<float>& hf, int64_t rows, int64_t cols, int64_t heads) {
  const int64_t D = rows / heads;
  std::vector<float> out(hf.size());
  for (int64_t head = 0; head < heads; ++head)
    for (int64_t i = 0; i < D / 2; ++i)
      for (int64_t h = 0; h < 2; ++h) {
        const int64_t stored = head * D + 2 * i + h, src = head * D + h * (D / 2) + i;
        std::memcpy(&out[size_t(stored * cols)], &hf[size_t(src * cols)], size_t(cols) * 4);
      }
  return out;
}

// The llama.* hyperparameters of a test model of `layers` blocks (context 64).
inline void llama_header(GgufWriter& w, uint32_t hidden, uint32_t ffn, uint32_t heads, uint32_t kv_heads,
                         uint32_t layers = 1) {
  w.kv_str("general.architecture", "llama");
  w.kv_u32("llama.embedding_length", hidden);
  w.kv_u32("llama.block_count", layers);
  w.kv_u32("llama.feed_forward_length", ffn);
  w.kv_u32("llama.attention.head_count", heads);
  w.kv_u32("llama.attention.head_count_kv", kv_heads);
  w.kv_u32("llama.context_length", 64);
}

// Tiny LLaMA in GGUF: hidden 32, 4 heads (head_dim 8), 2 KV heads, ffn 64, vocab 40, 1 layer, F32,
// Q/K stored interleaved; HF values are hf_matrix(salt, ...) with salts 1.. in the order written.
// With arch "qwen2": Q/K stored in HF order (llama.cpp does not permute them) and q/k/v biases (salts 13-15).
inline GgufWriter tiny_llama_gguf(bool with_output = true, const std::string& arch = "llama") {
  const int64_t D = 32, I = 64, V = 40, H = 4, KV = 2, hd = 8;
  const bool llama = arch == "llama";
  GgufWriter w;
  w.kv_str("general.architecture", arch);
  w.kv_u32(arch + ".embedding_length", D);
  w.kv_u32(arch + ".block_count", 1);
  w.kv_u32(arch + ".feed_forward_length", I);
  w.kv_u32(arch + ".attention.head_count", H);
  w.kv_u32(arch + ".attention.head_count_kv", KV);
  w.kv_f32(arch + ".attention.layer_norm_rms_epsilon", 1e-5f);
  w.kv_u32(arch + ".context_length", 128);
  auto mat = [&](const std::string& name, int salt, int64_t rows, int64_t cols, int64_t heads) {
    auto v = hf_matrix(salt, rows, cols);
    if (heads) v = interleave_rows(v, rows, cols, heads);
    if (rows == 1) w.tensor_f32(name, {uint64_t(cols)}, v);  // norms are 1-D
    else w.tensor_f32(name, {uint64_t(cols), uint64_t(rows)}, v);
  };
  mat("token_embd.weight", 1, V, D, 0);
  mat("blk.0.attn_norm.weight", 2, 1, D, 0);
  mat("blk.0.attn_q.weight", 3, H * hd, D, llama ? H : 0);
  mat("blk.0.attn_k.weight", 4, KV * hd, D, llama ? KV : 0);
  if (!llama) {
    w.tensor_f32("blk.0.attn_q.bias", {uint64_t(H * hd)}, hf_matrix(13, 1, H * hd));
    w.tensor_f32("blk.0.attn_k.bias", {uint64_t(KV * hd)}, hf_matrix(14, 1, KV * hd));
    w.tensor_f32("blk.0.attn_v.bias", {uint64_t(KV * hd)}, hf_matrix(15, 1, KV * hd));
  }
  mat("blk.0.attn_v.weight", 5, KV * hd, D, 0);
  mat("blk.0.attn_output.weight", 6, D, H * hd, 0);
  mat("blk.0.ffn_norm.weight", 7, 1, D, 0);
  mat("blk.0.ffn_gate.weight", 8, I, D, 0);
  mat("blk.0.ffn_up.weight", 9, I, D, 0);
  mat("blk.0.ffn_down.weight", 10, D, I, 0);
  mat("output_norm.weight", 11, 1, D, 0);
  if (with_output) mat("output.weight", 12, V, D, 0);
  return w;
}

}  // namespace lmp::test
