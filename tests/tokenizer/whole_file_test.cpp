// Whole-file token counts against shared/reference/lm-s.reference.json (n_tokens), and the exactness of
// the word-cutting fast path against the reference path on real text.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "test_util.h"
#include "tokenizer/hf_bpe_tokenizer.h"

using namespace lmp;

namespace {

// The window protocol's text of a .jsonl file: the "text" fields joined by "\n\n".
std::string jsonl_text(const std::string& path) {
  std::istringstream in(test::read_file(path));
  std::string line, out;
  bool first = true;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    out += (first ? "" : "\n\n") + nlohmann::json::parse(line)["text"].get<std::string>();
    first = false;
  }
  return out;
}

int64_t reference_n_tokens(const std::string& key) {
  const auto ref = nlohmann::json::parse(test::read_file(test::shared_path("reference/lm-s.reference.json")));
  return ref[key]["n_tokens"].get<int64_t>();
}

}  // namespace

TEST(TokenizerWholeFile, HeldoutDevMatchesReferenceCount) {
  LMP_REQUIRE_SHARED();
  const auto tok = load_hf_tokenizer(test::shared_path("models/lm-s/tokenizer.json"));
  const auto ids = tok->encode(jsonl_text(test::shared_path("data/corpus/heldout_dev.jsonl")), true);
  EXPECT_EQ(int64_t(ids.size()), 249100);
  EXPECT_EQ(int64_t(ids.size()), reference_n_tokens("lm-s/heldout_dev/ctx512"));
  EXPECT_EQ(ids[0], 1);
}

TEST(TokenizerWholeFile, WikitextTestMatchesReferenceCount) {
  LMP_REQUIRE_SHARED();
  const auto tok = load_hf_tokenizer(test::shared_path("models/lm-s/tokenizer.json"));
  const auto ids = tok->encode(test::read_file(test::shared_path("data/text/wikitext-2-raw/wiki.test.raw")), true);
  EXPECT_EQ(int64_t(ids.size()), 335688);
  EXPECT_EQ(int64_t(ids.size()), reference_n_tokens("lm-s/wikitext2_test/ctx512"));
}

// The fast path (words cut where no merge can span, per-call cache) gives the same ids as encoding each segment as
// one word with no cache, document by document and on the joined text.
TEST(TokenizerWholeFile, WordCuttingIsExactOnHeldoutDev) {
  LMP_REQUIRE_SHARED();
  const std::string path = test::shared_path("models/lm-s/tokenizer.json");
  const auto fast = HfBpeTokenizer::load(path);
  ASSERT_TRUE(fast->cuts_words());
  const auto slow = HfBpeTokenizer::load(path, HfTokenizerOptions{.split_words = false, .cache_words = false});
  ASSERT_FALSE(slow->cuts_words());
  std::istringstream in(test::read_file(test::shared_path("data/corpus/heldout_dev.jsonl")));
  std::string line;
  int docs = 0;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    const std::string text = nlohmann::json::parse(line)["text"];
    ASSERT_EQ(fast->encode(text), slow->encode(text)) << "document " << docs;
    ++docs;
  }
  EXPECT_EQ(docs, 160);
  const std::string all = jsonl_text(test::shared_path("data/corpus/heldout_dev.jsonl"));
  EXPECT_EQ(fast->encode(all), slow->encode(all));
}
