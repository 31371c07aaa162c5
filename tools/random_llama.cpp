// random_llama OUT_DIR [--shape llama2-7b|llama3-8b|llama2-70b] [--layers 32 --hidden 4096
//                       --intermediate 11008 --heads 32 --kv-heads 32 --vocab 32000 --seed 1]
// (--shape sets all sizes to that model's, --layers included; the options after it change them: e.g.
// `--shape llama2-70b --layers 4` for a 70B-wide model of four blocks.)
// Writes a LLaMA-shaped HF checkpoint (config.json + bf16 safetensors shards + index) with random
// weights of real scale, for throughput benchmarks at real model sizes (the defaults are LLaMA-7B's
// shapes). Quality is irrelevant: linears are Gaussian with std 0.02 (HF's initializer_range) times a
// per-row factor in [0.5, 2] and a few 30σ outliers per matrix, norms are 1. Deterministic in --seed
// and independent of the thread count; one shard per block keeps memory at one block's size.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/dtype.h"
#include "core/error.h"
#include "core/tensor.h"
#include "io/safetensors.h"

namespace fs = std::filesystem;
using namespace lmp;

namespace {

struct Shape7b {
  int64_t layers = 32, hidden = 4096, inter = 11008, heads = 32, kv_heads = 32, vocab = 32000;
  uint64_t seed = 1;
};

uint64_t splitmix(uint64_t& s) {
  uint64_t z = (s += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

double uniform(uint64_t& s) { return double(splitmix(s) >> 11) * (1.0 / 9007199254740992.0); }

// A [rows, cols] bf16 matrix; row r's generator is seeded from (seed, tensor id, r).
Tensor random_matrix(int64_t rows, int64_t cols, uint64_t seed, uint64_t id) {
  Tensor t = Tensor::zeros(DType::BF16, {rows, cols});
  uint16_t* d = static_cast<uint16_t*>(t.mutable_data());
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < rows; ++r) {
    uint64_t s = seed * 0x100000001b3ull ^ (id << 32) ^ uint64_t(r);
    const double row_scale = 0.02 * std::exp2(uniform(s) * 2.0 - 1.0);
    for (int64_t c = 0; c < cols; c += 2) {  // Box-Muller: two normals per pair of uniforms
      const double u1 = std::max(uniform(s), 1e-300), u2 = uniform(s);
      const double m = std::sqrt(-2.0 * std::log(u1));
      d[r * cols + c] = f32_to_bf16(float(row_scale * m * std::cos(6.283185307179586 * u2)));
      if (c + 1 < cols) d[r * cols + c + 1] = f32_to_bf16(float(row_scale * m * std::sin(6.283185307179586 * u2)));
    }
    if (splitmix(s) % 1024 == 0) d[r * cols + int64_t(splitmix(s) % uint64_t(cols))] = f32_to_bf16(float(30 * row_scale));
  }
  return t;
}

Tensor ones(int64_t n) {
  Tensor t = Tensor::zeros(DType::BF16, {n});
  uint16_t* d = static_cast<uint16_t*>(t.mutable_data());
  for (int64_t i = 0; i < n; ++i) d[i] = f32_to_bf16(1.0f);
  return t;
}

nlohmann::json config_json(const Shape7b& s) {
  return {{"architectures", {"LlamaForCausalLM"}}, {"model_type", "llama"}, {"hidden_size", s.hidden},
          {"intermediate_size", s.inter}, {"num_hidden_layers", s.layers}, {"num_attention_heads", s.heads},
          {"num_key_value_heads", s.kv_heads}, {"head_dim", s.hidden / s.heads}, {"vocab_size", s.vocab},
          {"max_position_embeddings", 4096}, {"rms_norm_eps", 1e-5}, {"rope_theta", 10000.0},
          {"hidden_act", "silu"}, {"tie_word_embeddings", false}, {"bos_token_id", 1}, {"eos_token_id", 2},
          {"torch_dtype", "bfloat16"}};
}

void write_model(const std::string& out, const Shape7b& s) {
  fs::create_directories(out);
  nlohmann::json weight_map = nlohmann::json::object();
  uint64_t id = 0, total = 0;
  const auto shard = [&](const std::string& file, std::vector<std::pair<std::string, Tensor>> t) {
    for (const auto& [name, tensor] : t) {
      weight_map[name] = file;
      total += uint64_t(tensor.nbytes());
    }
    write_safetensors(out + "/" + file, t, {{"format", "pt"}});
    std::fprintf(stderr, "wrote %s\n", file.c_str());
  };
  const int64_t kv = s.hidden / s.heads * s.kv_heads;
  const int64_t shards = s.layers + 1;
  const auto shard_name = [&](int64_t i) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "model-%05lld-of-%05lld.safetensors", (long long)i + 1, (long long)shards);
    return std::string(buf);
  };
  for (int64_t b = 0; b < s.layers; ++b) {
    const std::string p = "model.layers." + std::to_string(b) + ".";
    shard(shard_name(b), {{p + "self_attn.q_proj.weight", random_matrix(s.hidden, s.hidden, s.seed, ++id)},
                          {p + "self_attn.k_proj.weight", random_matrix(kv, s.hidden, s.seed, ++id)},
                          {p + "self_attn.v_proj.weight", random_matrix(kv, s.hidden, s.seed, ++id)},
                          {p + "self_attn.o_proj.weight", random_matrix(s.hidden, s.hidden, s.seed, ++id)},
                          {p + "mlp.gate_proj.weight", random_matrix(s.inter, s.hidden, s.seed, ++id)},
                          {p + "mlp.up_proj.weight", random_matrix(s.inter, s.hidden, s.seed, ++id)},
                          {p + "mlp.down_proj.weight", random_matrix(s.hidden, s.inter, s.seed, ++id)},
                          {p + "input_layernorm.weight", ones(s.hidden)},
                          {p + "post_attention_layernorm.weight", ones(s.hidden)}});
  }
  shard(shard_name(s.layers), {{"model.embed_tokens.weight", random_matrix(s.vocab, s.hidden, s.seed, ++id)},
                               {"model.norm.weight", ones(s.hidden)},
                               {"lm_head.weight", random_matrix(s.vocab, s.hidden, s.seed, ++id)}});
  std::ofstream(out + "/model.safetensors.index.json")
      << nlohmann::json{{"metadata", {{"total_size", total}}}, {"weight_map", weight_map}}.dump(1);
  std::ofstream(out + "/config.json") << config_json(s).dump(1);
}

Shape7b preset(const std::string& name) {
  Shape7b s;  // llama2-7b
  if (name == "llama2-7b") return s;
  if (name == "llama3-8b") {
    s.inter = 14336;
    s.kv_heads = 8;
    s.vocab = 128256;
    return s;
  }
  if (name == "llama2-70b") {
    s.layers = 80;
    s.hidden = 8192;
    s.inter = 28672;
    s.heads = 64;
    s.kv_heads = 8;
    return s;
  }
  fail("random_llama: --shape must be llama2-7b, llama3-8b or llama2-70b, found '", name, "'");
}

int64_t arg_int(int& i, int argc, char** argv) {
  LMP_CHECK(i + 1 < argc, "random_llama: ", argv[i], " needs a value");
  return std::stoll(argv[++i]);
}

}  // namespace

int main(int argc, char** argv) {
  try {
    Shape7b s;
    std::string out;
    for (int i = 1; i < argc; ++i) {
      const std::string a = argv[i];
      if (a == "--shape") {
        LMP_CHECK(i + 1 < argc, "random_llama: --shape needs a value");
        const uint64_t seed = s.seed;
        s = preset(argv[++i]);
        s.seed = seed;
      } else if (a == "--layers") s.layers = arg_int(i, argc, argv);
      else if (a == "--hidden") s.hidden = arg_int(i, argc, argv);
      else if (a == "--intermediate") s.inter = arg_int(i, argc, argv);
      else if (a == "--heads") s.heads = arg_int(i, argc, argv);
      else if (a == "--kv-heads") s.kv_heads = arg_int(i, argc, argv);
      else if (a == "--vocab") s.vocab = arg_int(i, argc, argv);
      else if (a == "--seed") s.seed = uint64_t(arg_int(i, argc, argv));
      else if (!a.empty() && a[0] != '-' && out.empty()) out = a;
      else fail("random_llama: unknown argument '", a, "' (usage: random_llama OUT_DIR [--shape NAME --layers N --hidden H "
                "--intermediate I --heads A --kv-heads K --vocab V --seed S])");
    }
    LMP_CHECK(!out.empty(), "random_llama: give OUT_DIR");
    LMP_CHECK(s.layers > 0 && s.hidden > 0 && s.inter > 0 && s.heads > 0 && s.hidden % s.heads == 0 &&
              s.kv_heads > 0 && s.heads % s.kv_heads == 0 && s.vocab > 0,
              "random_llama: shapes must be positive, --hidden a multiple of --heads, --heads of --kv-heads");
    write_model(out, s);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
