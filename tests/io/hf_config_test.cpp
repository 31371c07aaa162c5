#include <gtest/gtest.h>

#include <functional>

#include "core/error.h"
#include "io/hf_config.h"
#include "test_util.h"

namespace lmp {
namespace {

void expect_same(const ModelConfig& a, const ModelConfig& b) {
  EXPECT_EQ(a.arch, b.arch);
  EXPECT_EQ(a.vocab_size, b.vocab_size);
  EXPECT_EQ(a.hidden_size, b.hidden_size);
  EXPECT_EQ(a.intermediate_size, b.intermediate_size);
  EXPECT_EQ(a.num_layers, b.num_layers);
  EXPECT_EQ(a.num_heads, b.num_heads);
  EXPECT_EQ(a.num_kv_heads, b.num_kv_heads);
  EXPECT_EQ(a.head_dim, b.head_dim);
  EXPECT_EQ(a.max_position_embeddings, b.max_position_embeddings);
  EXPECT_EQ(a.rms_norm_eps, b.rms_norm_eps);
  EXPECT_EQ(a.rope_theta, b.rope_theta);
  EXPECT_EQ(a.rope.type, b.rope.type);
  EXPECT_EQ(a.rope.factor, b.rope.factor);
  EXPECT_EQ(a.rope.low_freq_factor, b.rope.low_freq_factor);
  EXPECT_EQ(a.rope.high_freq_factor, b.rope.high_freq_factor);
  EXPECT_EQ(a.rope.original_max_position_embeddings, b.rope.original_max_position_embeddings);
  EXPECT_EQ(a.tie_word_embeddings, b.tie_word_embeddings);
  EXPECT_EQ(a.attention_bias, b.attention_bias);
  EXPECT_EQ(a.o_proj_bias, b.o_proj_bias);
  EXPECT_EQ(a.mlp_bias, b.mlp_bias);
  EXPECT_EQ(a.bos_token_id, b.bos_token_id);
  EXPECT_EQ(a.eos_token_ids, b.eos_token_ids);
  EXPECT_EQ(a.dtype, b.dtype);
}

const char* kBase = R"({"model_type":"llama","hidden_size":64,"intermediate_size":128,"num_hidden_layers":2,
  "num_attention_heads":4,"vocab_size":100)";

ModelConfig parse(const std::string& extra) { return parse_hf_config(std::string(kBase) + extra + "}", "c.json"); }

TEST(HfConfig, Transformers4FormMatchesTransformers5) {
  LMP_REQUIRE_SHARED();
  for (const char* m : {"lm-s", "tiny-llama3"}) {
    SCOPED_TRACE(m);
    const ModelConfig v5 = read_hf_config(test::shared_path(std::string("models/") + m + "/config.json"));
    const ModelConfig v4 =
        read_hf_config(test::shared_path(std::string("reference/") + m + ".config.transformers4.json"));
    expect_same(v5, v4);
  }
}

TEST(HfConfig, LmS) {
  LMP_REQUIRE_SHARED();
  const ModelConfig c = read_hf_config(test::shared_path("models/lm-s/config.json"));
  EXPECT_EQ(c.arch, "llama");
  EXPECT_EQ(c.hidden_size, 256);
  EXPECT_EQ(c.intermediate_size, 704);
  EXPECT_EQ(c.num_layers, 6);
  EXPECT_EQ(c.num_heads, 8);
  EXPECT_EQ(c.num_kv_heads, 4);
  EXPECT_EQ(c.head_dim, 32);
  EXPECT_EQ(c.vocab_size, 32000);
  EXPECT_EQ(c.max_position_embeddings, 2048);
  EXPECT_EQ(c.rms_norm_eps, 1e-5);
  EXPECT_EQ(c.rope_theta, 10000.0);
  EXPECT_EQ(c.rope.type, "default");
  EXPECT_FALSE(c.tie_word_embeddings);
  EXPECT_FALSE(c.attention_bias);
  EXPECT_EQ(c.bos_token_id, 1);
  EXPECT_EQ(c.eos_token_ids, std::vector<int32_t>{2});
  EXPECT_EQ(c.dtype, "bfloat16");
}

TEST(HfConfig, Llama3Rope) {
  LMP_REQUIRE_SHARED();
  const ModelConfig c = read_hf_config(test::shared_path("models/tiny-llama3/config.json"));
  EXPECT_EQ(c.rope.type, "llama3");
  EXPECT_EQ(c.rope.factor, 8.0);
  EXPECT_EQ(c.rope.low_freq_factor, 1.0);
  EXPECT_EQ(c.rope.high_freq_factor, 4.0);
  EXPECT_EQ(c.rope.original_max_position_embeddings, 64);
  EXPECT_EQ(c.rope_theta, 500000.0);
  EXPECT_TRUE(c.tie_word_embeddings);
}

TEST(HfConfig, Qwen2AndMistral) {
  LMP_REQUIRE_SHARED();
  const ModelConfig q = read_hf_config(test::shared_path("models/tiny-qwen2/config.json"));
  EXPECT_EQ(q.arch, "qwen2");
  EXPECT_TRUE(q.attention_bias);
  EXPECT_FALSE(q.o_proj_bias);
  EXPECT_EQ(q.head_dim, 16);  // hidden / heads: no head_dim field
  EXPECT_EQ(q.rms_norm_eps, 1e-6);
  EXPECT_EQ(q.rope_theta, 1e6);
  EXPECT_EQ(q.bos_token_id, -1);
  EXPECT_TRUE(q.eos_token_ids.empty());
  const ModelConfig m = read_hf_config(test::shared_path("models/tiny-mistral/config.json"));
  EXPECT_EQ(m.arch, "mistral");
  EXPECT_EQ(m.num_kv_heads, 1);
  EXPECT_FALSE(m.attention_bias);
}

TEST(HfConfig, BiasesAndTokenIds) {
  const ModelConfig a = parse(R"(,"attention_bias":true,"mlp_bias":true,"eos_token_id":[2,7],"bos_token_id":null)");
  EXPECT_TRUE(a.attention_bias);
  EXPECT_TRUE(a.o_proj_bias);
  EXPECT_TRUE(a.mlp_bias);
  EXPECT_EQ(a.eos_token_ids, (std::vector<int32_t>{2, 7}));
  EXPECT_EQ(a.bos_token_id, -1);
  EXPECT_EQ(a.head_dim, 16);
  EXPECT_EQ(a.num_kv_heads, 4);
  const ModelConfig b = parse(R"(,"head_dim":32,"rope_scaling":{"type":"default"},"rope_theta":5e5,"torch_dtype":"float16")");
  EXPECT_EQ(b.head_dim, 32);
  EXPECT_EQ(b.rope_theta, 5e5);
  EXPECT_EQ(b.dtype, "float16");
}

TEST(HfConfig, RejectsWhatTheForwardPassCannotRun) {
  EXPECT_EQ(test::error_of([] { parse_hf_config(R"({"model_type":"gpt_neox"})", "c.json"); }),
            "config c.json: model_type: expected llama, mistral or qwen2, found \"gpt_neox\"");
  EXPECT_EQ(test::error_of([] { parse(R"(,"hidden_act":"gelu")"); }),
            "config c.json: hidden_act: expected silu, found \"gelu\"");
  EXPECT_EQ(test::error_of([] { parse(R"(,"rope_parameters":{"rope_type":"yarn","factor":4.0})"); }),
            "config c.json: rope_parameters.rope_type: expected default or llama3, found \"yarn\"");
  EXPECT_EQ(test::error_of([] { parse(R"(,"rope_scaling":{"type":"linear","factor":2.0})"); }),
            "config c.json: rope_scaling.rope_type: expected default or llama3, found \"linear\"");
  EXPECT_EQ(test::error_of([] {
              parse_hf_config(R"({"model_type":"mistral","hidden_size":64,"intermediate_size":128,
                "num_hidden_layers":2,"num_attention_heads":4,"vocab_size":100,"max_position_embeddings":32768,
                "sliding_window":4096})", "c.json");
            }),
            "config c.json: sliding_window: 4096 is smaller than max_position_embeddings 32768 (sliding-window "
            "attention is not supported)");
  EXPECT_EQ(test::error_of([] { parse(R"(,"rope_parameters":{"rope_type":"llama3","factor":8.0})"); }),
            "config c.json: rope_parameters.low_freq_factor: required for rope_type llama3");
  EXPECT_EQ(test::error_of([] { parse(R"(,"layer_types":["full_attention","sliding_attention"])"); }),
            "config c.json: layer_types[1]: expected \"full_attention\", found \"sliding_attention\" (sliding-window "
            "attention is not supported)");
  EXPECT_EQ(test::error_of([] { parse(R"(,"num_key_value_heads":3)"); }),
            "config c.json: num_key_value_heads: expected a divisor of num_attention_heads 4, found 3");
}

TEST(HfConfig, FieldTypeErrors) {
  EXPECT_EQ(test::error_of([] { parse_hf_config(R"({"model_type":"llama","hidden_size":"big"})", "c.json"); }),
            "config c.json: missing field vocab_size");
  EXPECT_EQ(test::error_of([] {
              parse_hf_config(R"({"model_type":"llama","vocab_size":10,"hidden_size":"big"})", "c.json");
            }),
            "config c.json: hidden_size: expected an integer, found \"big\"");
  EXPECT_EQ(test::error_of([] { parse(R"(,"eos_token_id":"x")"); }),
            "config c.json: eos_token_id: expected a token id, found \"x\"");
  EXPECT_EQ(test::error_of([] { parse_hf_config("not json", "c.json"); }), "config c.json: not valid JSON");
  // Qwen2's sliding_window only matters with use_sliding_window.
  EXPECT_NO_THROW(parse_hf_config(R"({"model_type":"qwen2","hidden_size":64,"intermediate_size":128,
    "num_hidden_layers":2,"num_attention_heads":4,"vocab_size":100,"sliding_window":16})", "c.json"));
}

}  // namespace
}  // namespace lmp
