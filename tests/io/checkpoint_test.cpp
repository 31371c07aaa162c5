#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "io/checkpoint.h"
#include "io/safetensors.h"
#include "test_util.h"

namespace lmp {
namespace {

namespace fs = std::filesystem;

// Copies a shared model folder into a temp dir (files are read-only there).
std::string copy_model(const std::string& model, const std::string& tag) {
  const std::string dir = test::temp_dir(tag);
  for (const auto& e : fs::directory_iterator(test::shared_path("models/" + model))) {
    fs::copy_file(e.path(), fs::path(dir) / e.path().filename());
    fs::permissions(fs::path(dir) / e.path().filename(), fs::perms::owner_write, fs::perm_options::add);
  }
  return dir;
}

size_t expected_count(const ModelConfig& c) {
  size_t per_block = 9 + (c.attention_bias ? 3 : 0) + (c.o_proj_bias ? 1 : 0) + (c.mlp_bias ? 3 : 0);
  return 2 + (c.tie_word_embeddings ? 0 : 1) + size_t(c.num_layers) * per_block;
}

TEST(Checkpoint, LmSShardedBf16) {
  LMP_REQUIRE_SHARED();
  const std::string path = test::shared_path("models/lm-s");
  const Checkpoint ck = Checkpoint::open(path);
  EXPECT_EQ(ck.format(), CheckpointFormat::HF);
  EXPECT_EQ(format_name(ck.format()), "hf-safetensors");
  EXPECT_EQ(ck.config().num_layers, 6);
  EXPECT_EQ(ck.tensor_names().size(), expected_count(ck.config()));
  for (const auto& n : ck.tensor_names()) EXPECT_EQ(ck.info(n).dtype, DType::BF16) << n;
  // Shards resolved through the index.
  EXPECT_EQ(fs::path(ck.info("lm_head.weight").file).filename(), "model-00002-of-00003.safetensors");
  EXPECT_EQ(fs::path(ck.info("model.embed_tokens.weight").file).filename(), "model-00001-of-00003.safetensors");
  EXPECT_EQ(ck.info("model.layers.3.mlp.down_proj.weight").shape, (Shape{256, 704}));
  const Tensor raw = ck.raw("model.layers.3.mlp.down_proj.weight");
  EXPECT_TRUE(raw.is_view());
  const Tensor f = ck.load_f32("model.layers.3.mlp.down_proj.weight");
  const Tensor ref = raw.to_f32();
  ASSERT_EQ(f.nbytes(), ref.nbytes());
  EXPECT_EQ(std::memcmp(f.data(), ref.data(), f.nbytes()), 0);
  EXPECT_EQ(ck.tokenizer_source().kind, TokenizerSource::Kind::HfJson);
  EXPECT_EQ(ck.tokenizer_source().json_path, path + "/tokenizer.json");
  EXPECT_EQ(ck.metadata().at("shards"), "3");
  EXPECT_EQ(ck.metadata().at("dtype"), "bfloat16");
  EXPECT_EQ(ck.metadata().at("format"), "hf-safetensors");
}

TEST(Checkpoint, LmMTied) {
  LMP_REQUIRE_SHARED();
  const Checkpoint ck = Checkpoint::open(test::shared_path("models/lm-m"));
  EXPECT_TRUE(ck.config().tie_word_embeddings);
  EXPECT_EQ(ck.config().hidden_size, 512);
  EXPECT_EQ(ck.config().num_layers, 8);
  EXPECT_EQ(ck.config().intermediate_size, 1408);
  EXPECT_FALSE(ck.has("lm_head.weight"));
  EXPECT_EQ(ck.metadata().at("shards"), "5");
  EXPECT_EQ(ck.tensor_names().size(), expected_count(ck.config()));
}

TEST(Checkpoint, TinyModels) {
  LMP_REQUIRE_SHARED();
  const Checkpoint l3 = Checkpoint::open(test::shared_path("models/tiny-llama3"));
  EXPECT_EQ(l3.config().rope.type, "llama3");
  EXPECT_TRUE(l3.config().tie_word_embeddings);
  EXPECT_EQ(l3.tokenizer_source().kind, TokenizerSource::Kind::None);
  EXPECT_EQ(l3.metadata().at("shards"), "1");
  const Checkpoint q = Checkpoint::open(test::shared_path("models/tiny-qwen2"));
  EXPECT_TRUE(q.has("model.layers.1.self_attn.k_proj.bias"));
  EXPECT_FALSE(q.has("model.layers.1.self_attn.o_proj.bias"));
  EXPECT_EQ(q.info("model.layers.1.self_attn.k_proj.bias").shape, (Shape{32}));
  EXPECT_EQ(q.tensor_names().size(), expected_count(q.config()));
  const Checkpoint m = Checkpoint::open(test::shared_path("models/tiny-mistral"));
  EXPECT_EQ(m.info("model.layers.0.self_attn.k_proj.weight").shape, (Shape{16, 64}));
  for (const Checkpoint* ck : {&l3, &q, &m})
    for (const auto& n : ck->tensor_names()) {
      EXPECT_EQ(ck->info(n).dtype, DType::BF16);
      EXPECT_EQ(ck->load_f32(n).numel(), shape_numel(ck->info(n).shape));
    }
}

TEST(Checkpoint, MissingTensor) {
  LMP_REQUIRE_SHARED();
  const std::string dir = copy_model("lm-s", "ck-missing");
  const std::string index = dir + "/model.safetensors.index.json";
  // Rewrite the shard that holds layer 5's k_proj without it, and drop it from the index.
  auto j = nlohmann::json::parse(test::read_file(index));
  const std::string name = "model.layers.5.self_attn.k_proj.weight";
  const std::string shard = j["weight_map"][name];
  j["weight_map"].erase(name);
  test::write_file(index, j.dump());
  const SafetensorsFile st = read_safetensors(dir + "/" + shard);
  std::vector<std::pair<std::string, Tensor>> keep;
  for (const auto& e : st.entries)
    if (e.name != name) keep.push_back({e.name, st.tensor(e.name)});
  write_safetensors(dir + "/" + shard + ".new", keep, st.metadata);
  fs::rename(dir + "/" + shard + ".new", dir + "/" + shard);
  EXPECT_EQ(test::error_of([&] { Checkpoint::open(dir); }),
            "checkpoint " + dir + ": missing tensor " + name + " (config.json says 6 layers)");
}

TEST(Checkpoint, WrongShape) {
  LMP_REQUIRE_SHARED();
  const std::string dir = copy_model("tiny-mistral", "ck-shape");
  const SafetensorsFile st = read_safetensors(dir + "/model.safetensors");
  std::vector<std::pair<std::string, Tensor>> out;
  for (const auto& e : st.entries) {
    Tensor t = st.tensor(e.name);
    if (e.name == "model.layers.1.mlp.down_proj.weight") t = Tensor::zeros(DType::BF16, {64, 150});
    out.push_back({e.name, t});
  }
  write_safetensors(dir + "/model.safetensors", out, st.metadata);
  EXPECT_EQ(test::error_of([&] { Checkpoint::open(dir); }),
            "checkpoint " + dir + ": model.layers.1.mlp.down_proj.weight: expected shape [64, 160], found [64, 150]");
}

TEST(Checkpoint, IndexNamingAbsentShardOrTensor) {
  LMP_REQUIRE_SHARED();
  const std::string dir = copy_model("lm-s", "ck-index");
  const std::string index = dir + "/model.safetensors.index.json";
  auto j = nlohmann::json::parse(test::read_file(index));
  j["weight_map"]["model.norm.weight"] = "model-00002-of-00003.safetensors";
  test::write_file(index, j.dump());
  EXPECT_EQ(test::error_of([&] { Checkpoint::open(dir); }),
            "checkpoint " + index + ": weight_map puts model.norm.weight in model-00002-of-00003.safetensors, "
                                    "which does not hold it");
  j["weight_map"]["model.norm.weight"] = "model-00009-of-00003.safetensors";
  test::write_file(index, j.dump());
  EXPECT_EQ(test::error_of([&] { Checkpoint::open(dir); }),
            "checkpoint " + index + ": shard model-00009-of-00003.safetensors does not exist in " + dir);
}

TEST(Checkpoint, PathErrors) {
  EXPECT_EQ(test::error_of([] { Checkpoint::open("/nonexistent/model"); }),
            "checkpoint /nonexistent/model: no such file or directory");
  const std::string dir = test::temp_dir("ck-empty");
  EXPECT_EQ(test::error_of([&] { Checkpoint::open(dir); }),
            "checkpoint " + dir + ": no config.json (expected a Hugging Face model directory)");
  test::write_file(dir + "/x.txt", "hello");
  EXPECT_EQ(test::error_of([&] { Checkpoint::open(dir + "/x.txt"); }),
            "checkpoint " + dir + "/x.txt: unrecognized format (expected a model directory, a .gguf or a llama2.c .bin)");
  test::write_file(dir + "/config.json", R"({"model_type":"llama","vocab_size":10,"hidden_size":8,
    "intermediate_size":16,"num_hidden_layers":1,"num_attention_heads":2})");
  EXPECT_EQ(test::error_of([&] { Checkpoint::open(dir); }),
            "checkpoint " + dir + ": no model.safetensors or model.safetensors.index.json (only safetensors "
                                  "checkpoints are supported)");
}

TEST(Checkpoint, UnknownTensorNameIsAnError) {
  LMP_REQUIRE_SHARED();
  const std::string path = test::shared_path("models/tiny-mistral");
  const Checkpoint ck = Checkpoint::open(path);
  EXPECT_EQ(test::error_of([&] { ck.info("nope"); }), "checkpoint " + path + ": no tensor named nope");
  EXPECT_EQ(test::error_of([&] { ck.load_f32("nope"); }), "checkpoint " + path + ": no tensor named nope");
}

TEST(Checkpoint, MovedCheckpointKeepsViewsAlive) {
  LMP_REQUIRE_SHARED();
  Tensor t;
  {
    Checkpoint a = Checkpoint::open(test::shared_path("models/tiny-qwen2"));
    Checkpoint b = std::move(a);
    t = b.raw("model.norm.weight");
  }
  EXPECT_EQ(t.to_f32().numel(), 64);
}

}  // namespace
}  // namespace lmp
