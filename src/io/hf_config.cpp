#include "io/hf_config.h"
#include "io/printable.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/error.h"

namespace lmp {

namespace {

using json = nlohmann::json;

// Field access on one JSON object with errors that name the file and the field.
struct Fields {
  const json& j;
  const std::string& path;

  std::string shown(const json& v) const {
    std::string s = v.dump();
    return s.size() > 60 ? s.substr(0, 57) + "..." : s;
  }
  bool present(const char* k) const { return j.contains(k) && !j[k].is_null(); }

  int64_t integer(const char* k) const {
    LMP_CHECK(j.contains(k), "config ", path, ": missing field ", k);
    const json& v = j[k];
    LMP_CHECK(v.is_number_integer(), "config ", path, ": ", k, ": expected an integer, found ", shown(v));
    return v.get<int64_t>();
  }
  int64_t positive(const char* k) const {
    const int64_t v = integer(k);
    LMP_CHECK(v > 0, "config ", path, ": ", k, ": expected a positive integer, found ", v);
    return v;
  }
  int64_t positive_or(const char* k, int64_t def) const { return present(k) ? positive(k) : def; }
  double number_or(const char* k, double def) const {
    if (!present(k)) return def;
    const json& v = j[k];
    LMP_CHECK(v.is_number(), "config ", path, ": ", k, ": expected a number, found ", shown(v));
    return v.get<double>();
  }
  bool boolean_or(const char* k, bool def) const {
    if (!present(k)) return def;
    LMP_CHECK(j[k].is_boolean(), "config ", path, ": ", k, ": expected true or false, found ", shown(j[k]));
    return j[k].get<bool>();
  }
  std::string string_or(const char* k, const std::string& def) const {
    if (!present(k)) return def;
    LMP_CHECK(j[k].is_string(), "config ", path, ": ", k, ": expected a string, found ", shown(j[k]));
    return j[k].get<std::string>();
  }
};

void parse_arch(const Fields& f, ModelConfig& c) {
  c.arch = f.string_or("model_type", "");
  LMP_CHECK(c.arch == "llama" || c.arch == "mistral" || c.arch == "qwen2", "config ", f.path,
            ": model_type: expected llama, mistral or qwen2, found \"", printable(c.arch), "\"");
  const std::string act = f.string_or("hidden_act", "silu");
  LMP_CHECK(act == "silu", "config ", f.path, ": hidden_act: expected silu, found \"", printable(act), "\"");
}

void parse_sizes(const Fields& f, ModelConfig& c) {
  c.vocab_size = f.positive("vocab_size");
  c.hidden_size = f.positive("hidden_size");
  c.intermediate_size = f.positive("intermediate_size");
  c.num_layers = f.positive("num_hidden_layers");
  c.num_heads = f.positive("num_attention_heads");
  c.num_kv_heads = f.positive_or("num_key_value_heads", c.num_heads);
  LMP_CHECK(c.num_heads % c.num_kv_heads == 0, "config ", f.path, ": num_key_value_heads: expected a divisor of num_attention_heads ",
            c.num_heads, ", found ", c.num_kv_heads);
  if (f.present("head_dim")) {
    c.head_dim = f.positive("head_dim");
  } else {
    LMP_CHECK(c.hidden_size % c.num_heads == 0, "config ", f.path, ": hidden_size ", c.hidden_size,
              " is not a multiple of num_attention_heads ", c.num_heads, " and head_dim is absent");
    c.head_dim = c.hidden_size / c.num_heads;
  }
  LMP_CHECK(c.head_dim % 2 == 0, "config ", f.path, ": head_dim: expected an even number, found ", c.head_dim);
  const int64_t default_ctx = c.arch == "llama" ? 2048 : c.arch == "mistral" ? 131072 : 32768;
  c.max_position_embeddings = f.positive_or("max_position_embeddings", default_ctx);
  c.rms_norm_eps = f.number_or("rms_norm_eps", 1e-6);
  LMP_CHECK(c.rms_norm_eps > 0, "config ", f.path, ": rms_norm_eps: expected a positive number, found ", c.rms_norm_eps);
}

// The rope object: transformers-5's rope_parameters (possibly keyed by layer type) or -4's rope_scaling.
const json* rope_object(const json& j, const char*& name) {
  name = "rope_parameters";
  if (j.contains("rope_parameters") && j["rope_parameters"].is_object()) {
    const json& r = j["rope_parameters"];
    if (r.contains("full_attention") && r["full_attention"].is_object()) return &r["full_attention"];
    return &r;
  }
  name = "rope_scaling";
  if (j.contains("rope_scaling") && !j["rope_scaling"].is_null()) return &j["rope_scaling"];
  return nullptr;
}

void parse_rope(const Fields& f, ModelConfig& c) {
  c.rope_theta = f.number_or("rope_theta", 10000.0);
  const char* name = nullptr;
  const json* r = rope_object(f.j, name);
  if (!r) return;
  LMP_CHECK(r->is_object(), "config ", f.path, ": ", name, ": expected an object or null, found ", f.shown(*r));
  const Fields rf{*r, f.path};
  c.rope_theta = rf.number_or("rope_theta", c.rope_theta);
  LMP_CHECK(c.rope_theta > 0, "config ", f.path, ": rope_theta: expected a positive number, found ", c.rope_theta);
  std::string type = rf.string_or("rope_type", rf.string_or("type", "default"));
  LMP_CHECK(type == "default" || type == "llama3", "config ", f.path, ": ", name,
            ".rope_type: expected default or llama3, found \"", printable(type), "\"");
  c.rope.type = type;
  if (type != "llama3") return;
  for (const char* k : {"factor", "low_freq_factor", "high_freq_factor", "original_max_position_embeddings"})
    LMP_CHECK(rf.present(k), "config ", f.path, ": ", name, ".", k, ": required for rope_type llama3");
  c.rope.factor = rf.number_or("factor", 1.0);
  c.rope.low_freq_factor = rf.number_or("low_freq_factor", 1.0);
  c.rope.high_freq_factor = rf.number_or("high_freq_factor", 4.0);
  c.rope.original_max_position_embeddings = rf.positive("original_max_position_embeddings");
  LMP_CHECK(c.rope.factor > 0 && c.rope.low_freq_factor > 0 && c.rope.high_freq_factor > c.rope.low_freq_factor,
            "config ", f.path, ": ", name, ": expected factor > 0 and high_freq_factor > low_freq_factor > 0, found ",
            c.rope.factor, ", ", c.rope.high_freq_factor, ", ", c.rope.low_freq_factor);
}

void check_sliding_window(const Fields& f, const ModelConfig& c) {
  if (!f.present("sliding_window")) return;
  if (c.arch == "qwen2" && !f.boolean_or("use_sliding_window", false)) return;
  const int64_t w = f.integer("sliding_window");
  LMP_CHECK(w >= c.max_position_embeddings, "config ", f.path, ": sliding_window: ", w,
            " is smaller than max_position_embeddings ", c.max_position_embeddings,
            " (sliding-window attention is not supported)");
}

// transformers-5 lists each layer's attention kind; only full attention is supported.
void check_layer_types(const Fields& f, const ModelConfig& c) {
  if (!f.present("layer_types")) return;
  const json& t = f.j["layer_types"];
  LMP_CHECK(t.is_array(), "config ", f.path, ": layer_types: expected an array, found ", f.shown(t));
  for (size_t i = 0; i < t.size(); ++i)
    LMP_CHECK(t[i] == "full_attention", "config ", f.path, ": layer_types[", i, "]: expected \"full_attention\", found ",
              f.shown(t[i]), " (sliding-window attention is not supported)");
}

void parse_biases(const Fields& f, ModelConfig& c) {
  if (c.arch == "qwen2") {
    c.attention_bias = true;
    c.o_proj_bias = false;
  } else if (c.arch == "llama") {
    c.attention_bias = f.boolean_or("attention_bias", false);
    c.o_proj_bias = c.attention_bias;
  }
  if (c.arch == "llama") c.mlp_bias = f.boolean_or("mlp_bias", false);
}

int32_t token_id(const Fields& f, const json& v, const char* k) {
  LMP_CHECK(v.is_number_integer() && v.get<int64_t>() >= 0 && v.get<int64_t>() < INT32_MAX, "config ", f.path,
            ": ", k, ": expected a token id, found ", f.shown(v));
  return int32_t(v.get<int64_t>());
}

void parse_special_tokens(const Fields& f, ModelConfig& c) {
  c.bos_token_id = f.present("bos_token_id") ? token_id(f, f.j["bos_token_id"], "bos_token_id") : -1;
  c.eos_token_ids.clear();
  if (!f.present("eos_token_id")) return;
  const json& e = f.j["eos_token_id"];
  if (e.is_array()) {
    for (const auto& v : e) c.eos_token_ids.push_back(token_id(f, v, "eos_token_id"));
  } else {
    c.eos_token_ids.push_back(token_id(f, e, "eos_token_id"));
  }
}

}  // namespace

ModelConfig parse_hf_config(const std::string& json_text, const std::string& path) {
  const json j = json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  LMP_CHECK(!j.is_discarded(), "config ", path, ": not valid JSON");
  LMP_CHECK(j.is_object(), "config ", path, ": expected a JSON object");
  const Fields f{j, path};
  ModelConfig c;
  parse_arch(f, c);
  parse_sizes(f, c);
  parse_rope(f, c);
  check_sliding_window(f, c);
  check_layer_types(f, c);
  parse_biases(f, c);
  parse_special_tokens(f, c);
  c.tie_word_embeddings = f.boolean_or("tie_word_embeddings", false);
  c.dtype = f.string_or("dtype", f.string_or("torch_dtype", "float32"));
  return c;
}

ModelConfig read_hf_config(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  LMP_CHECK(in, "config ", path, ": cannot open");
  std::ostringstream ss;
  ss << in.rdbuf();
  return parse_hf_config(ss.str(), path);
}

std::map<std::string, std::string> config_metadata(const ModelConfig& c) {
  auto num = [](double v) { std::ostringstream s; s << v; return s.str(); };
  std::map<std::string, std::string> m = {
      {"arch", c.arch},
      {"vocab_size", std::to_string(c.vocab_size)},
      {"hidden_size", std::to_string(c.hidden_size)},
      {"intermediate_size", std::to_string(c.intermediate_size)},
      {"num_layers", std::to_string(c.num_layers)},
      {"num_heads", std::to_string(c.num_heads)},
      {"num_kv_heads", std::to_string(c.num_kv_heads)},
      {"head_dim", std::to_string(c.head_dim)},
      {"max_position_embeddings", std::to_string(c.max_position_embeddings)},
      {"rms_norm_eps", num(c.rms_norm_eps)},
      {"rope_theta", num(c.rope_theta)},
      {"rope_type", c.rope.type},
      {"tie_word_embeddings", c.tie_word_embeddings ? "true" : "false"},
      {"dtype", c.dtype},
  };
  return m;
}

}  // namespace lmp
