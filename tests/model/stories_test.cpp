// stories260K from GGUF and from llama2.c's .bin: same logits, and the reference greedy story.
#include <gtest/gtest.h>

#include <cmath>

#include "model/decoder.h"
#include "model/model.h"
#include "test_util.h"

using namespace lmp;

namespace {
const char* kStory =
    "Once upon a time, there was a little girl named Lily. She loved to play outside in the park";

std::string greedy(const Model& m, const std::string& prompt, int64_t n) {
  GenerateOptions opt;
  opt.max_new_tokens = n;
  return m.tokenizer().decode(generate(m, {m.tokenizer().encode(prompt, true)}, opt).front());
}
}  // namespace

TEST(Stories260K, GgufAndLlama2cGiveIdenticalLogits) {
  LMP_REQUIRE_SHARED();
  const Model g = Model::open(test::shared_path("models/stories260K/stories260K.gguf"));
  const Model b = Model::open(test::shared_path("models/stories260K/stories260K.bin"));
  const auto ids = g.tokenizer().encode("Once upon a time, there was a little girl", true);
  EXPECT_EQ(ids, b.tokenizer().encode("Once upon a time, there was a little girl", true));
  const BatchShape s{1, int64_t(ids.size()), {}};
  EXPECT_EQ(g.forward(ids, s), b.forward(ids, s));
}

TEST(Stories260K, GreedyStoryMatchesLlama2cFromGguf) {
  LMP_REQUIRE_SHARED();
  const Model m = Model::open(test::shared_path("models/stories260K/stories260K.gguf"));
  const std::string out = greedy(m, "Once upon a time", 64);
  EXPECT_EQ(out.substr(0, std::string(kStory).size()), kStory) << out;
}

TEST(Stories260K, GreedyStoryMatchesLlama2cFromBin) {
  LMP_REQUIRE_SHARED();
  const Model m = Model::open(test::shared_path("models/stories260K/stories260K.bin"));
  const std::string out = greedy(m, "Once upon a time", 64);
  EXPECT_EQ(out.substr(0, std::string(kStory).size()), kStory) << out;
}

TEST(TinyRandomGguf, F16LlamaLoadsAndRuns) {
  LMP_REQUIRE_SHARED();
  const Model m = Model::open(test::shared_path("models/llama-2-tiny-random.gguf"));
  EXPECT_EQ(m.config().vocab_size, 32000);
  const auto ids = m.tokenizer().encode("Hello world", true);
  const auto logits = m.forward(ids, BatchShape{1, int64_t(ids.size()), {}});
  ASSERT_EQ(int64_t(logits.size()), int64_t(ids.size()) * 32000);
  for (float v : logits) ASSERT_TRUE(std::isfinite(v));
  GenerateOptions opt;
  opt.max_new_tokens = 8;
  opt.stop_at_eos = false;
  EXPECT_EQ(generate(m, {ids}, opt).front().size(), ids.size() + 8);
}
