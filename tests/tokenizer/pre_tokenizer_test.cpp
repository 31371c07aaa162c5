// Pre-tokenizers (GPT-2 regex, Split behaviors, Metaspace) and added-token splitting.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "tokenizer/added_tokens.h"
#include "tokenizer/json_view.h"
#include "tokenizer/pre_tokenizer.h"

using namespace lmp;

namespace {

std::vector<std::string> pre_tokenize(const std::string& json, const std::string& text) {
  const auto j = nlohmann::json::parse(json);
  const auto p = parse_pre_tokenizer(JsonView(j, "test.json", "pre_tokenizer"));
  std::vector<PreSplit> splits{{text, true}};
  p->apply(splits);
  std::vector<std::string> out;
  for (const auto& s : splits) out.push_back(s.text);
  return out;
}

std::vector<std::string> cut(const std::string& s, const std::vector<std::pair<size_t, size_t>>& m, SplitBehavior b,
                             bool invert = false) {
  std::vector<std::pair<size_t, size_t>> pieces;
  split_at_matches(s.size(), m, b, invert, pieces);
  std::vector<std::string> out;
  for (auto [x, y] : pieces) out.push_back(s.substr(x, y - x));
  return out;
}

using V = std::vector<std::string>;
const std::string M = "\xE2\x96\x81";  // ▁
const std::string G = "\xC4\xA0";      // Ġ (byte-level space)

}  // namespace

TEST(TokenizerPreTokenizer, Gpt2RegexSplitsLikeGpt2) {
  const std::string bl = R"({"type": "ByteLevel", "add_prefix_space": false, "use_regex": true})";
  EXPECT_EQ(pre_tokenize(bl, "Hello world's  test!!\n"),
            (V{"Hello", G + "world", "'s", G, G + "test", "!!", "\xC4\x8A"}));
  EXPECT_EQ(pre_tokenize(bl, "I'm 2026 ok"), (V{"I", "'m", G + "2026", G + "ok"}));
  // add_prefix_space prepends a space to a piece that does not start with one
  const std::string bl2 = R"({"type": "ByteLevel", "add_prefix_space": true})";
  EXPECT_EQ(pre_tokenize(bl2, "Hi"), (V{G + "Hi"}));
  // Unicode letters stay together (UCP): "naïve" is one \p{L}+ run
  EXPECT_EQ(pre_tokenize(bl, "na\xC3\xAFve").size(), 1u);
}

TEST(TokenizerPreTokenizer, SplitBehaviors) {
  const std::string s = "a--b-c";
  const std::vector<std::pair<size_t, size_t>> m = {{1, 2}, {2, 3}, {4, 5}};  // each '-'
  EXPECT_EQ(cut(s, m, SplitBehavior::Removed), (V{"a", "b", "c"}));
  EXPECT_EQ(cut(s, m, SplitBehavior::Isolated), (V{"a", "-", "-", "b", "-", "c"}));
  EXPECT_EQ(cut(s, m, SplitBehavior::MergedWithPrevious), (V{"a-", "-", "b-", "c"}));
  EXPECT_EQ(cut(s, m, SplitBehavior::MergedWithNext), (V{"a", "-", "-b", "-c"}));
  EXPECT_EQ(cut(s, m, SplitBehavior::Contiguous), (V{"a", "--", "b", "-", "c"}));
  EXPECT_EQ(cut(s, m, SplitBehavior::Removed, true), (V{"-", "-", "-"}));
}

TEST(TokenizerPreTokenizer, SplitAndSequenceFromJson) {
  const std::string llama3_like = R"({"type": "Sequence", "pretokenizers": [
      {"type": "Split", "pattern": {"Regex": "\\p{N}{1,3}| ?\\p{L}+|\\s+"}, "behavior": "Isolated", "invert": false},
      {"type": "ByteLevel", "add_prefix_space": false, "use_regex": false}]})";
  EXPECT_EQ(pre_tokenize(llama3_like, "abc 12345"), (V{"abc", G, "123", "45"}));
  const std::string lit = R"({"type": "Split", "pattern": {"String": " "}, "behavior": "Removed"})";
  EXPECT_EQ(pre_tokenize(lit, "a b  c"), (V{"a", "b", "c"}));
}

TEST(TokenizerPreTokenizer, MetaspaceSchemes) {
  EXPECT_EQ(pre_tokenize(R"({"type": "Metaspace", "replacement": "▁", "prepend_scheme": "always", "split": false})", "Hi  you"),
            (V{M + "Hi" + M + M + "you"}));
  EXPECT_EQ(pre_tokenize(R"({"type": "Metaspace", "prepend_scheme": "always", "split": false})", " Hi"), (V{M + "Hi"}));
  EXPECT_EQ(pre_tokenize(R"({"type": "Metaspace", "prepend_scheme": "always", "split": true})", "Hi  you"),
            (V{M + "Hi", M, M + "you"}));
  EXPECT_EQ(pre_tokenize(R"({"type": "Metaspace", "prepend_scheme": "never", "split": true})", "Hi you"),
            (V{"Hi", M + "you"}));
  // "first": only the piece at the start of the input gets the prefix
  const auto j = nlohmann::json::parse(R"({"type": "Metaspace", "prepend_scheme": "first", "split": false})");
  const auto p = parse_pre_tokenizer(JsonView(j, "t", "p"));
  std::vector<PreSplit> splits{{"a", true}, {"b", false}};
  p->apply(splits);
  EXPECT_EQ(splits[0].text, M + "a");
  EXPECT_EQ(splits[1].text, "b");
}

TEST(TokenizerPreTokenizer, UnknownTypeAndBadRegexFail) {
  EXPECT_THROW(pre_tokenize(R"({"type": "Whitespace"})", "x"), Error);
  EXPECT_THROW(pre_tokenize(R"({"type": "Split", "pattern": {"Regex": "(unclosed"}, "behavior": "Isolated"})", "x"), Error);
  EXPECT_THROW(pre_tokenize(R"({"type": "Split", "pattern": {"Regex": "a"}, "behavior": "Sideways"})", "x"), Error);
  try {
    pre_tokenize(R"({"type": "Metaspace", "split": "yes"})", "x");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "test.json: field 'pre_tokenizer.split': expected boolean, found string");
  }
}

TEST(TokenizerAddedTokens, LeftMostLongestAndFlags) {
  AddedTokenMatcher m({{"<s>", 1, true}, {"</s>", 2, true}, {"<s>x", 7, true}, {"[SEP]", 9, true, true, true}});
  std::vector<TextPiece> p;
  m.split("a<s>b</s><s>xc", p);
  ASSERT_EQ(p.size(), 6u);
  EXPECT_EQ(p[0].text, "a");
  EXPECT_EQ(p[1].id, 1);
  EXPECT_EQ(p[2].text, "b");
  EXPECT_EQ(p[3].id, 2);
  EXPECT_EQ(p[4].id, 7);  // longest at the same position
  EXPECT_EQ(p[5].text, "c");
  // lstrip / rstrip absorb whitespace
  m.split("a  [SEP]  b", p);
  ASSERT_EQ(p.size(), 3u);
  EXPECT_EQ(p[0].text, "a");
  EXPECT_EQ(p[1].text, "  [SEP]  ");
  EXPECT_EQ(p[2].text, "b");
  EXPECT_EQ(p[2].offset, 10u);
  // single_word: only between non-word characters
  AddedTokenMatcher w({{"cat", 5, false, false, false, true}});
  w.split("concat cat", p);
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[0].text, "concat ");
  EXPECT_EQ(p[1].id, 5);
  // nothing to split
  m.split("", p);
  EXPECT_TRUE(p.empty());
}
