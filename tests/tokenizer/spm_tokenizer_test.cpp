// SentencePiece-semantics (score merging) tokenizer: hand-made vocabularies and the real LLaMA-2 /
// stories260K vocabularies read through io's Checkpoint.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "core/error.h"
#include "io/checkpoint.h"
#include "test_util.h"
#include "tokenizer/spm_tokenizer.h"
#include "spm_vocab_fixture.h"

using namespace lmp;

namespace {

const std::string M = "\xE2\x96\x81";  // ▁

}  // namespace

TEST(SpmTokenizer, MergesByHighestScoreLeftmostOnTies) {
  // ids: 3 ▁, 4 a, 5 b, 6 ab, 7 ▁a, 8 ▁ab
  const auto tok = make_spm_tokenizer(test::small_spm_vocab({{M, -1}, {"a", -2}, {"b", -3}, {"ab", -5}, {M + "a", -4}, {M + "ab", -6}}));
  // "▁ab": ▁a (-4) beats ab (-5), then ▁a + b = ▁ab.
  EXPECT_EQ(tok->encode("ab"), (std::vector<int32_t>{1, 8}));
  EXPECT_EQ(tok->encode("ab", false), (std::vector<int32_t>{8}));
  // "▁aba": same, then a alone.
  EXPECT_EQ(tok->encode("aba", false), (std::vector<int32_t>{8, 4}));
  // equal scores: the left-most pair merges first
  const auto tie = make_spm_tokenizer(test::small_spm_vocab({{M, 0}, {"a", 0}, {"aa", -1}}));
  EXPECT_EQ(tie->encode("aaa", false), (std::vector<int32_t>{3, 5, 4}));
}

TEST(SpmTokenizer, ByteFallbackUnkAndDecode) {
  const auto tok = make_spm_tokenizer(test::small_spm_vocab({{M, -1}, {"a", -2}}));
  // "é" is not a piece: its two UTF-8 bytes become <0xC3> <0xA9> (ids 3 + 3 + byte).
  const int32_t base = 5;
  EXPECT_EQ(tok->encode("\xC3\xA9", false), (std::vector<int32_t>{3, base + 0xC3, base + 0xA9}));
  EXPECT_EQ(tok->decode(tok->encode("a \xC3\xA9 a")), "a \xC3\xA9 a");
  // No byte pieces: unknown characters become <unk>.
  const auto nob = make_spm_tokenizer(test::small_spm_vocab({{M, -1}, {"a", -2}}, false));
  EXPECT_EQ(nob->encode("a\xC3\xA9", false), (std::vector<int32_t>{3, 4, 0}));
  // decode skips control and unknown pieces, strips one leading space
  EXPECT_EQ(tok->decode(std::vector<int32_t>{1, 3, 4, 2, 0}), "a");
  EXPECT_TRUE(tok->is_special(1));
  EXPECT_TRUE(tok->is_special(0));
  EXPECT_FALSE(tok->is_special(3));
  EXPECT_EQ(tok->bos_id(), 1);
  EXPECT_EQ(tok->eos_id(), 2);
}

TEST(SpmTokenizer, InvalidVocabAndInputFailCleanly) {
  SpmVocab v = test::small_spm_vocab({{"a", 0}});
  v.scores.pop_back();
  EXPECT_THROW(make_spm_tokenizer(v), Error);
  SpmVocab w = test::small_spm_vocab({{"a", 0}});
  w.bos_id = 100000;
  EXPECT_THROW(make_spm_tokenizer(w), Error);
  EXPECT_THROW(make_spm_tokenizer(SpmVocab{}), Error);
  const auto tok = make_spm_tokenizer(test::small_spm_vocab({{"a", 0}}));
  EXPECT_THROW(tok->encode("a\xFF"), Error);
  EXPECT_THROW(tok->piece(-1), Error);
  EXPECT_EQ(tok->decode(std::vector<int32_t>{-5, 1000000}), "");
}

// The LLaMA-2 vocabulary embedded in a GGUF, with its sentencepiece scores, against HF's ids. The 16
// whitespace-run pieces ("▁▁", "▁▁▁▁", ...) have score -1e9 there but are the first merges of
// tokenizer.json, so runs of spaces tokenize differently: exactly the cases listed below.
TEST(SpmTokenizer, Llama2GgufVocabMatchesHfExceptWhitespaceRuns) {
  LMP_REQUIRE_SHARED();
  const Checkpoint ck = Checkpoint::open(test::shared_path("models/llama-2-tiny-random.gguf"));
  ASSERT_EQ(ck.tokenizer_source().kind, TokenizerSource::Kind::Spm);
  const auto tok = make_spm_tokenizer(ck.tokenizer_source().spm);
  EXPECT_EQ(tok->vocab_size(), 32000);
  const auto ref = nlohmann::json::parse(test::read_file(test::shared_path("reference/tokenizer_parity.json")));
  std::vector<std::string> differ;
  for (const auto& c : ref["cases"]) {
    const std::string text = c["text"];
    const auto ids = tok->encode(text);
    if (ids != c["ids"].get<std::vector<int32_t>>()) differ.push_back(text);
    else EXPECT_EQ(tok->decode(ids), c["decoded"].get<std::string>()) << text;
  }
  EXPECT_EQ(differ, (std::vector<std::string>{" Hello  world ", "    indented code();"}));
}

// README: score merging gives 248,509 tokens on heldout_dev (HF: 249,100).
TEST(SpmTokenizer, Llama2GgufVocabHeldoutDevCount) {
  LMP_REQUIRE_SHARED();
  const Checkpoint ck = Checkpoint::open(test::shared_path("models/llama-2-tiny-random.gguf"));
  const auto tok = make_spm_tokenizer(ck.tokenizer_source().spm);
  std::istringstream in(test::read_file(test::shared_path("data/corpus/heldout_dev.jsonl")));
  std::string line, text;
  while (std::getline(in, line))
    if (!line.empty()) text += (text.empty() ? "" : "\n\n") + nlohmann::json::parse(line)["text"].get<std::string>();
  EXPECT_EQ(tok->encode(text).size(), 248509u);
}

TEST(SpmTokenizer, Stories260KLlama2cVocab) {
  LMP_REQUIRE_SHARED();
  const Checkpoint ck = Checkpoint::open(test::shared_path("models/stories260K/stories260K.bin"));
  ASSERT_EQ(ck.tokenizer_source().kind, TokenizerSource::Kind::Spm);
  const auto tok = make_spm_tokenizer(ck.tokenizer_source().spm);
  EXPECT_EQ(tok->vocab_size(), 512);
  const auto ids = tok->encode("Once upon a time");
  ASSERT_FALSE(ids.empty());
  EXPECT_EQ(ids[0], 1);
  for (int32_t id : ids) EXPECT_NE(id, 0) << "unk in encoding";
  EXPECT_EQ(tok->decode(ids), "Once upon a time");
}
