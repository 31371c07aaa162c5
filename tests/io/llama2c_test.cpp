#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <functional>

#include "core/error.h"
#include "io/checkpoint.h"
#include "test_util.h"

namespace lmp {
namespace {

namespace fs = std::filesystem;

std::string stories(const std::string& f) { return test::shared_path("models/stories260K/" + f); }

// A temp dir holding `bin_bytes` as model.bin and, when `with_tok`, a copy of tok512.bin.
std::string temp_model(const std::string& tag, const std::string& bin_bytes, bool with_tok = true) {
  const std::string dir = test::temp_dir(tag);
  test::write_file(dir + "/model.bin", bin_bytes);
  if (with_tok) test::write_file(dir + "/tok512.bin", test::read_file(stories("tok512.bin")));
  return dir + "/model.bin";
}

bool bitwise_equal(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && a.nbytes() == b.nbytes() && std::memcmp(a.data(), b.data(), a.nbytes()) == 0;
}

TEST(Llama2c, StoriesOpens) {
  LMP_REQUIRE_SHARED();
  const Checkpoint ck = Checkpoint::open(stories("stories260K.bin"));
  EXPECT_EQ(ck.format(), CheckpointFormat::Llama2c);
  const ModelConfig& c = ck.config();
  EXPECT_EQ(c.hidden_size, 64);
  EXPECT_EQ(c.intermediate_size, 172);
  EXPECT_EQ(c.num_layers, 5);
  EXPECT_EQ(c.num_heads, 8);
  EXPECT_EQ(c.num_kv_heads, 4);
  EXPECT_EQ(c.vocab_size, 512);
  EXPECT_EQ(c.max_position_embeddings, 512);
  EXPECT_TRUE(c.tie_word_embeddings);
  EXPECT_EQ(c.bos_token_id, 1);
  EXPECT_EQ(c.eos_token_ids, std::vector<int32_t>{2});
  EXPECT_EQ(c.rms_norm_eps, 1e-5);
  EXPECT_EQ(ck.info("model.layers.2.mlp.gate_proj.weight").file_name, "w1[2]");
  EXPECT_EQ(ck.info("model.layers.2.mlp.down_proj.weight").file_name, "w2[2]");
  EXPECT_EQ(ck.info("model.layers.2.mlp.up_proj.weight").file_name, "w3[2]");
  EXPECT_EQ(ck.info("model.layers.0.self_attn.k_proj.weight").shape, (Shape{32, 64}));
  EXPECT_EQ(ck.tokenizer_source().kind, TokenizerSource::Kind::Spm);
  EXPECT_EQ(ck.tokenizer_source().origin, stories("tok512.bin"));
  EXPECT_EQ(ck.metadata().at("shared_classifier"), "true");
}

TEST(Llama2c, MatchesGgufBitwise) {
  LMP_REQUIRE_SHARED();
  const Checkpoint bin = Checkpoint::open(stories("stories260K.bin"));
  const Checkpoint gguf = Checkpoint::open(stories("stories260K.gguf"));
  int compared = 0;
  for (const std::string& name : bin.tensor_names()) {
    ASSERT_TRUE(gguf.has(name)) << name;
    EXPECT_TRUE(bitwise_equal(bin.load_f32(name), gguf.load_f32(name))) << name;
    ++compared;
  }
  EXPECT_EQ(compared, 2 + 5 * 9);
  // The .bin shares its classifier with the embedding; the GGUF stores it as output.weight.
  EXPECT_TRUE(bitwise_equal(bin.load_f32("model.embed_tokens.weight"), gguf.load_f32("lm_head.weight")));
  // Same stored (interleaved) bytes, too.
  const Tensor a = bin.raw("model.layers.1.self_attn.q_proj.weight"), b = gguf.raw("model.layers.1.self_attn.q_proj.weight");
  EXPECT_EQ(std::memcmp(a.data(), b.data(), a.nbytes()), 0);
}

TEST(Llama2c, VocabMatchesGguf) {
  LMP_REQUIRE_SHARED();
  const SpmVocab b = Checkpoint::open(stories("stories260K.bin")).tokenizer_source().spm;
  const SpmVocab g = Checkpoint::open(stories("stories260K.gguf")).tokenizer_source().spm;
  ASSERT_EQ(b.pieces.size(), 512u);
  ASSERT_EQ(g.pieces.size(), 512u);
  int score_diffs = 0;
  for (size_t i = 0; i < 512; ++i) {
    EXPECT_EQ(b.pieces[i], g.pieces[i]) << "id " << i;
    EXPECT_EQ(b.types[i], g.types[i]) << "id " << i;
    if (b.scores[i] != g.scores[i]) ++score_diffs;
  }
  EXPECT_EQ(score_diffs, 0);
  EXPECT_EQ(b.bos_id, g.bos_id);
  EXPECT_EQ(b.eos_id, g.eos_id);
  EXPECT_EQ(b.pieces[1], "<s>");
  EXPECT_EQ(b.types[0], SpmTokenType::Unknown);
  EXPECT_EQ(b.types[2], SpmTokenType::Control);
}

TEST(Llama2c, SizeMismatch) {
  LMP_REQUIRE_SHARED();
  const std::string bytes = test::read_file(stories("stories260K.bin"));
  const std::string path = temp_model("l2c-size", bytes.substr(0, bytes.size() - 8));
  EXPECT_EQ(test::error_of([&] { Checkpoint::open(path); }),
            "llama2c " + path + ": expected 1056540 bytes for dim 64, hidden_dim 172, n_layers 5, n_heads 8, "
                                "n_kv_heads 4, vocab_size 512, seq_len 512, shared classifier, found 1056532 bytes");
}

TEST(Llama2c, BadHeaders) {
  LMP_REQUIRE_SHARED();
  std::string bytes = test::read_file(stories("stories260K.bin"));
  const int32_t heads = 7;
  std::memcpy(&bytes[12], &heads, 4);
  const std::string path = temp_model("l2c-heads", bytes);
  EXPECT_EQ(test::error_of([&] { Checkpoint::open(path); }),
            "llama2c " + path + ": dim 64 does not split into 7 heads of even size");
  std::string v2(256, '\0');
  const uint32_t magic = 0x616b3432;
  const int32_t version = 2;
  std::memcpy(&v2[0], &magic, 4);
  std::memcpy(&v2[4], &version, 4);
  const std::string p2 = temp_model("l2c-v2", v2);
  EXPECT_EQ(test::error_of([&] { Checkpoint::open(p2); }),
            "llama2c " + p2 + ": version 2 (int8-quantized) llama2.c checkpoints are not supported; export version 0 "
                              "or 1 (fp32)");
  const std::string p3 = temp_model("l2c-short", "abc");
  EXPECT_EQ(test::error_of([&] { Checkpoint::open(p3); }),
            "llama2c " + p3 + ": truncated while reading the header at byte 0: need 4 bytes, 3 left");
}

TEST(Llama2c, SeparateClassifier) {
  LMP_REQUIRE_SHARED();
  std::string bytes = test::read_file(stories("stories260K.bin"));
  const int32_t neg = -512;
  std::memcpy(&bytes[20], &neg, 4);
  bytes += std::string(512 * 64 * 4, '\0');
  const float marker = 3.25f;
  std::memcpy(&bytes[bytes.size() - 4], &marker, 4);
  const Checkpoint ck = Checkpoint::open(temp_model("l2c-cls", bytes));
  EXPECT_FALSE(ck.config().tie_word_embeddings);
  EXPECT_EQ(ck.info("lm_head.weight").file_name, "wcls");
  EXPECT_EQ(ck.load_f32("lm_head.weight").f32()[512 * 64 - 1], 3.25f);
}

// Version 1 ("ak42"): 256-byte header, norms first, no freq_cis. Built from the legacy file's arrays.
TEST(Llama2c, Version1MatchesLegacy) {
  LMP_REQUIRE_SHARED();
  const Checkpoint legacy = Checkpoint::open(stories("stories260K.bin"));
  std::string v1(256, '\0');
  const int32_t hdr[] = {0x616b3432, 1, 64, 172, 5, 8, 4, 512, 512};
  std::memcpy(&v1[0], hdr, sizeof hdr);
  v1[36] = 1;  // shared classifier
  auto put = [&](const std::string& name) {
    const Tensor t = legacy.raw(name);
    v1.append(static_cast<const char*>(t.data()), t.nbytes());
  };
  auto layers = [&](const std::string& leaf) {
    for (int l = 0; l < 5; ++l) put("model.layers." + std::to_string(l) + "." + leaf);
  };
  layers("input_layernorm.weight");
  layers("post_attention_layernorm.weight");
  put("model.norm.weight");
  put("model.embed_tokens.weight");
  for (const char* leaf : {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
                           "mlp.gate_proj", "mlp.down_proj", "mlp.up_proj"})
    layers(std::string(leaf) + ".weight");
  const Checkpoint ck = Checkpoint::open(temp_model("l2c-v1", v1));
  EXPECT_EQ(ck.metadata().at("llama2c.version"), "1");
  for (const auto& n : legacy.tensor_names())
    EXPECT_TRUE(bitwise_equal(ck.load_f32(n), legacy.load_f32(n))) << n;
}

TEST(Llama2c, TokenizerDiscovery) {
  LMP_REQUIRE_SHARED();
  const std::string bytes = test::read_file(stories("stories260K.bin"));
  const std::string path = temp_model("l2c-notok", bytes, false);
  const std::string dir = fs::path(path).parent_path().string();
  EXPECT_EQ(test::error_of([&] { Checkpoint::open(path); }),
            "llama2c " + path + ": no tokenizer beside the model (looked for tok*.bin and tokenizer.bin in " + dir +
                "); pass --tokenizer");
  OpenOptions opts;
  opts.tokenizer_path = stories("tok512.bin");
  EXPECT_EQ(Checkpoint::open(path, opts).tokenizer_source().spm.pieces.size(), 512u);
  test::write_file(dir + "/tok512.bin", test::read_file(stories("tok512.bin")));
  test::write_file(dir + "/tokenizer.bin", test::read_file(stories("tok512.bin")));
  EXPECT_EQ(test::error_of([&] { Checkpoint::open(path); }),
            "llama2c " + path + ": several tokenizers beside the model (tok512.bin, tokenizer.bin); pass --tokenizer "
                                "to choose one");
  opts.tokenizer_path = dir + "/short.bin";
  test::write_file(opts.tokenizer_path, test::read_file(stories("tok512.bin")).substr(0, 100));
  EXPECT_EQ(test::error_of([&] { Checkpoint::open(path, opts); }),
            "llama2c tokenizer " + opts.tokenizer_path + ": the model's vocab of 512 tokens does not fit in the "
                                                         "file's 100 bytes");
}

}  // namespace
}  // namespace lmp
