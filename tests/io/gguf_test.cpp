#include <gtest/gtest.h>

#include <cstring>

#include "core/error.h"
#include "io/checkpoint.h"
#include "io/gguf.h"
#include "io/gguf_names.h"
#include "io/gguf_test_writer.h"
#include "io/rope_permute.h"
#include "test_util.h"

namespace lmp {
namespace {

std::string write_tmp(const std::string& tag, const std::string& bytes) {
  const std::string path = test::temp_dir(tag) + "/model.gguf";
  test::write_file(path, bytes);
  return path;
}

TEST(Gguf, StoriesOpensWithConfigAndVocab) {
  LMP_REQUIRE_SHARED();
  const std::string path = test::shared_path("models/stories260K/stories260K.gguf");
  const Checkpoint ck = Checkpoint::open(path);
  EXPECT_EQ(ck.format(), CheckpointFormat::GGUF);
  const ModelConfig& c = ck.config();
  EXPECT_EQ(c.arch, "llama");
  EXPECT_EQ(c.vocab_size, 512);
  EXPECT_EQ(c.hidden_size, 64);
  EXPECT_EQ(c.intermediate_size, 172);
  EXPECT_EQ(c.num_layers, 5);
  EXPECT_EQ(c.num_heads, 8);
  EXPECT_EQ(c.num_kv_heads, 4);
  EXPECT_EQ(c.head_dim, 8);
  EXPECT_EQ(c.max_position_embeddings, 512);
  EXPECT_DOUBLE_EQ(c.rms_norm_eps, 1e-5);
  EXPECT_DOUBLE_EQ(c.rope_theta, 10000.0);
  EXPECT_FALSE(c.tie_word_embeddings);  // output.weight is present
  EXPECT_EQ(c.bos_token_id, 1);
  ASSERT_EQ(c.eos_token_ids.size(), 1u);
  EXPECT_EQ(c.eos_token_ids[0], 2);
  EXPECT_EQ(c.dtype, "float32");
  EXPECT_EQ(ck.info("model.layers.4.mlp.down_proj.weight").file_name, "blk.4.ffn_down.weight");
  EXPECT_EQ(ck.info("model.layers.4.mlp.down_proj.weight").shape, (Shape{64, 172}));
  EXPECT_EQ(ck.info("model.layers.0.self_attn.q_proj.weight").interleaved_heads, 8);
  EXPECT_EQ(ck.info("model.layers.0.self_attn.k_proj.weight").interleaved_heads, 4);
  EXPECT_EQ(ck.info("model.layers.0.self_attn.v_proj.weight").interleaved_heads, 0);
  EXPECT_EQ(ck.tensor_names().size(), 48u);
  ASSERT_EQ(ck.tokenizer_source().kind, TokenizerSource::Kind::Spm);
  const SpmVocab& v = ck.tokenizer_source().spm;
  ASSERT_EQ(v.pieces.size(), 512u);
  EXPECT_EQ(v.pieces[1], "<s>");
  EXPECT_EQ(v.types[3], SpmTokenType::Byte);
  EXPECT_EQ(ck.metadata().at("general.name"), "tinyllamas-stories-260k");
  EXPECT_EQ(ck.metadata().at("tokenizer.ggml.tokens"), "[512 items]");
  EXPECT_EQ(ck.metadata().at("llama.attention.layer_norm_rms_epsilon"), "1e-05");
  EXPECT_EQ(ck.metadata().at("gguf.version"), "3");
}

TEST(Gguf, TinyRandomF16Opens) {
  LMP_REQUIRE_SHARED();
  const Checkpoint ck = Checkpoint::open(test::shared_path("models/llama-2-tiny-random.gguf"));
  EXPECT_EQ(ck.config().vocab_size, 32000);
  EXPECT_EQ(ck.config().hidden_size, 8);
  EXPECT_EQ(ck.config().dtype, "float16");
  EXPECT_EQ(ck.info("model.embed_tokens.weight").dtype, DType::F16);
  EXPECT_EQ(ck.info("model.layers.0.input_layernorm.weight").dtype, DType::F32);
  const Tensor raw = ck.raw("lm_head.weight");
  const Tensor f = ck.load_f32("lm_head.weight");
  ASSERT_EQ(f.shape(), (Shape{32000, 8}));
  const auto* h = static_cast<const uint16_t*>(raw.data());
  for (int64_t i = 0; i < f.numel(); i += 997) EXPECT_EQ(f.f32()[i], f16_to_f32(h[i]));
  ASSERT_EQ(ck.tokenizer_source().kind, TokenizerSource::Kind::Spm);
  const SpmVocab& v = ck.tokenizer_source().spm;
  ASSERT_EQ(v.pieces.size(), 32000u);
  EXPECT_EQ(v.pieces[29871], "▁");
  EXPECT_NE(v.scores[1000], 0.0f);
  EXPECT_EQ(v.unk_id, 0);
}

TEST(Gguf, UndoesQkPermutation) {
  const auto w = test::tiny_llama_gguf();
  const Checkpoint ck = Checkpoint::open(write_tmp("qk", w.build()));
  const Tensor q = ck.load_f32("model.layers.0.self_attn.q_proj.weight");
  const Tensor k = ck.load_f32("model.layers.0.self_attn.k_proj.weight");
  const Tensor v = ck.load_f32("model.layers.0.self_attn.v_proj.weight");
  EXPECT_EQ(std::vector<float>(q.f32(), q.f32() + q.numel()), test::hf_matrix(3, 32, 32));
  EXPECT_EQ(std::vector<float>(k.f32(), k.f32() + k.numel()), test::hf_matrix(4, 16, 32));
  EXPECT_EQ(std::vector<float>(v.f32(), v.f32() + v.numel()), test::hf_matrix(5, 16, 32));
  // raw() keeps the stored (interleaved) order: stored row 1 of head 0 is HF row D/2 = 4.
  const Tensor raw = ck.raw("model.layers.0.self_attn.q_proj.weight");
  EXPECT_EQ(static_cast<const float*>(raw.data())[1 * 32 + 5], test::test_value(3, 4, 5));
  EXPECT_EQ(ck.config().head_dim, 8);
  EXPECT_EQ(ck.tokenizer_source().kind, TokenizerSource::Kind::None);
  EXPECT_EQ(ck.metadata().at("tokenizer.note"), "no embedded tokenizer; pass --tokenizer");
}

TEST(Gguf, LlamaQkBiasesAreUnpermutedToo) {
  auto w = test::tiny_llama_gguf();
  w.tensor_f32("blk.0.attn_q.bias", {32}, test::interleave_rows(test::hf_matrix(13, 32, 1), 32, 1, 4));
  w.tensor_f32("blk.0.attn_k.bias", {16}, test::interleave_rows(test::hf_matrix(14, 16, 1), 16, 1, 2));
  w.tensor_f32("blk.0.attn_v.bias", {16}, test::hf_matrix(15, 16, 1));
  const Checkpoint ck = Checkpoint::open(write_tmp("qbias", w.build()));
  EXPECT_TRUE(ck.config().attention_bias);  // inferred from blk.0.attn_q.bias
  EXPECT_EQ(ck.info("model.layers.0.self_attn.q_proj.bias").interleaved_heads, 4);
  const Tensor b = ck.load_f32("model.layers.0.self_attn.q_proj.bias");
  EXPECT_EQ(std::vector<float>(b.f32(), b.f32() + 32), test::hf_matrix(13, 32, 1));
  const Tensor k = ck.load_f32("model.layers.0.self_attn.k_proj.bias");
  EXPECT_EQ(std::vector<float>(k.f32(), k.f32() + 16), test::hf_matrix(14, 16, 1));
}

TEST(Gguf, Qwen2KeepsStoredOrderAndHasBiases) {
  const Checkpoint ck = Checkpoint::open(write_tmp("qwen2", test::tiny_llama_gguf(true, "qwen2").build()));
  EXPECT_EQ(ck.config().arch, "qwen2");
  EXPECT_TRUE(ck.config().attention_bias);
  EXPECT_FALSE(ck.config().o_proj_bias);
  EXPECT_EQ(ck.info("model.layers.0.self_attn.q_proj.weight").interleaved_heads, 0);
  const Tensor q = ck.load_f32("model.layers.0.self_attn.q_proj.weight");
  EXPECT_EQ(std::vector<float>(q.f32(), q.f32() + q.numel()), test::hf_matrix(3, 32, 32));
  const Tensor kb = ck.load_f32("model.layers.0.self_attn.k_proj.bias");
  EXPECT_EQ(std::vector<float>(kb.f32(), kb.f32() + kb.numel()), test::hf_matrix(14, 1, 16));
}

TEST(Gguf, RowPermutationHelpersAreInverse) {
  for (int64_t D : {2, 4, 8, 64, 128})
    for (int64_t r = 0; r < 3 * D; ++r) {
      EXPECT_EQ(interleaved_row_from_hf(hf_row_from_interleaved(r, D), D), r);
      EXPECT_EQ(hf_row_from_interleaved(2 * (r % D % (D / 2)) + (r % D) / (D / 2) + r / D * D, D), r);
    }
}

TEST(Gguf, NoOutputTensorMeansTied) {
  const Checkpoint ck = Checkpoint::open(write_tmp("tied", test::tiny_llama_gguf(false).build()));
  EXPECT_TRUE(ck.config().tie_word_embeddings);
  EXPECT_FALSE(ck.has("lm_head.weight"));
}

TEST(Gguf, ReaderParsesAllValueTypes) {
  test::GgufWriter w;
  w.version = 2;
  w.alignment = 64;
  w.kv_u32("general.alignment", 64);
  w.kv_i32("a.i32", -7);
  w.kv_u64("a.u64", 1ull << 40);
  w.kv_bool("a.bool", true);
  w.kv_f32("a.f32", 0.1f);
  w.kv_str_array("a.strs", {"x", "yz"});
  w.kv_i32_array("a.ints", {3, -4});
  w.tensor_f32("t", {2, 3}, {1, 2, 3, 4, 5, 6});
  const GgufFile g = read_gguf(write_tmp("types", w.build()));
  EXPECT_EQ(g.version, 2u);
  EXPECT_EQ(g.alignment, 64u);
  EXPECT_EQ(g.data_offset % 64, 0u);
  EXPECT_EQ(g.find("a.i32")->as_int(), -7);
  EXPECT_EQ(g.find("a.u64")->to_string(), "1099511627776");
  EXPECT_EQ(g.find("a.bool")->to_string(), "true");
  EXPECT_EQ(g.find("a.f32")->to_string(), "0.1");
  EXPECT_EQ(g.find("a.strs")->arr.strings[1], "yz");
  EXPECT_EQ(g.find("a.ints")->arr.int_at(1), -4);
  ASSERT_EQ(g.tensors.size(), 1u);
  EXPECT_EQ(g.tensors[0].shape(), (Shape{3, 2}));
  EXPECT_EQ(g.tensors[0].nbytes, 24u);
}

TEST(Gguf, NameMapping) {
  EXPECT_EQ(hf_name_from_gguf("blk.12.attn_output.weight"), "model.layers.12.self_attn.o_proj.weight");
  EXPECT_EQ(hf_name_from_gguf("blk.0.attn_q.bias"), "model.layers.0.self_attn.q_proj.bias");
  EXPECT_EQ(hf_name_from_gguf("blk.3.ffn_norm.weight"), "model.layers.3.post_attention_layernorm.weight");
  EXPECT_EQ(hf_name_from_gguf("output.weight"), "lm_head.weight");
  EXPECT_EQ(hf_name_from_gguf("blk.x.attn_q.weight"), std::nullopt);
  EXPECT_EQ(hf_name_from_gguf("rope_freqs.weight"), std::nullopt);
  EXPECT_EQ(gguf_name_from_hf("model.layers.7.mlp.up_proj.weight"), "blk.7.ffn_up.weight");
  EXPECT_EQ(gguf_name_from_hf("model.embed_tokens.weight"), "token_embd.weight");
}

TEST(Gguf, Version1IsRefused) {
  auto w = test::tiny_llama_gguf();
  w.version = 1;
  const std::string path = write_tmp("v1", w.build());
  EXPECT_EQ(test::error_of([&] { Checkpoint::open(path); }),
            "gguf " + path + ": unsupported GGUF version 1 (v2 and v3 are supported)");
}

TEST(Gguf, UnknownTensorTypeNamesTensorAndType) {
  auto w = test::tiny_llama_gguf();
  w.tensor("blk.0.extra.weight", {256}, 13, std::string(176, '\0'));
  const std::string path = write_tmp("type", w.build());
  EXPECT_EQ(test::error_of([&] { Checkpoint::open(path); }),
            "gguf " + path +
                ": tensor blk.0.extra.weight: unsupported tensor type 13 (Q5_K; supported: F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q6_K)");
}

TEST(Gguf, TruncatedFileIsAnError) {
  const std::string bytes = test::tiny_llama_gguf().build();
  const std::string path = write_tmp("trunc", bytes.substr(0, bytes.size() - 100));
  EXPECT_EQ(test::error_of([&] { Checkpoint::open(path); }),
            "gguf " + path + ": tensor output.weight: bytes [42368, 47488) exceed the data section of 47388 bytes "
                             "(truncated file?)");
  const std::string path2 = write_tmp("trunc2", bytes.substr(0, 400));
  EXPECT_EQ(test::error_of([&] { Checkpoint::open(path2); }),
            "gguf " + path2 + ": truncated while reading token_embd.weight at byte 395: need 8 bytes, 5 left");
}

TEST(Gguf, HugeCountsAreRejectedBeforeAllocating) {
  std::string bytes = test::tiny_llama_gguf().build();
  const uint64_t huge = ~0ull / 2;
  std::memcpy(&bytes[8], &huge, 8);  // tensor count
  const std::string path = write_tmp("huge", bytes);
  EXPECT_EQ(test::error_of([&] { Checkpoint::open(path); }),
            "gguf " + path + ": tensor count 9223372036854775807 exceeds what the file can hold");
}

TEST(Gguf, UnsupportedArchitectureAndRopeScaling) {
  test::GgufWriter w;
  w.kv_str("general.architecture", "gpt2");
  const std::string path = write_tmp("arch", w.build());
  EXPECT_EQ(test::error_of([&] { Checkpoint::open(path); }),
            "gguf " + path + ": general.architecture: expected llama or qwen2, found \"gpt2\"");
  auto w2 = test::tiny_llama_gguf();
  w2.kv_str("llama.rope.scaling.type", "yarn");
  const std::string path2 = write_tmp("yarn", w2.build());
  EXPECT_EQ(test::error_of([&] { Checkpoint::open(path2); }),
            "gguf " + path2 + ": llama.rope.scaling.type: expected none, found \"yarn\"");
}

TEST(Gguf, OtherTokenizerModelsOpenWithANote) {
  auto w = test::tiny_llama_gguf();
  w.kv_str("tokenizer.ggml.model", "gpt2");
  const Checkpoint ck = Checkpoint::open(write_tmp("gpt2tok", w.build()));
  EXPECT_EQ(ck.tokenizer_source().kind, TokenizerSource::Kind::None);
  EXPECT_EQ(ck.metadata().at("tokenizer.note"), "embedded tokenizer model \"gpt2\" is not supported; pass --tokenizer");
}

TEST(Gguf, EmbeddedVocabFields) {
  auto w = test::tiny_llama_gguf();
  w.kv_str("tokenizer.ggml.model", "llama");
  w.kv_str_array("tokenizer.ggml.tokens", {"<unk>", "<s>", "</s>", "▁a", "<0x0A>"});
  w.kv_f32_array("tokenizer.ggml.scores", {0, 0, 0, -1.5f, 0});
  w.kv_i32_array("tokenizer.ggml.token_type", {2, 3, 3, 1, 6});
  w.kv_u32("tokenizer.ggml.bos_token_id", 1);
  w.kv_u32("tokenizer.ggml.eos_token_id", 2);
  w.kv_bool("tokenizer.ggml.add_bos_token", false);
  w.kv_bool("tokenizer.ggml.add_space_prefix", false);
  const Checkpoint ck = Checkpoint::open(write_tmp("vocab", w.build()));
  const SpmVocab& v = ck.tokenizer_source().spm;
  EXPECT_EQ(v.pieces, (std::vector<std::string>{"<unk>", "<s>", "</s>", "▁a", "<0x0A>"}));
  EXPECT_EQ(v.scores[3], -1.5f);
  EXPECT_EQ(v.types[4], SpmTokenType::Byte);
  EXPECT_FALSE(v.add_bos);
  EXPECT_FALSE(v.add_space_prefix);
  auto bad = test::tiny_llama_gguf();
  bad.kv_str("tokenizer.ggml.model", "llama");
  bad.kv_str_array("tokenizer.ggml.tokens", {"a", "b", "c"});
  bad.kv_f32_array("tokenizer.ggml.scores", {0, 0});
  const std::string path = write_tmp("badvocab", bad.build());
  EXPECT_EQ(test::error_of([&] { Checkpoint::open(path); }),
            "gguf " + path + ": tokenizer.ggml.scores: expected 3 numbers (one per token), found [2 items]");
}

}  // namespace
}  // namespace lmp
