#include "calib/token_types.h"

#include <gtest/gtest.h>

#include "calib/select_stats.h"
#include "calib_fixtures.h"

namespace lmp {
namespace {

TEST(TokenTypes, Normalize) {
  EXPECT_EQ(TypeTable::normalize(" The"), "the");
  EXPECT_EQ(TypeTable::normalize("\xe2\x96\x81Hello"), "hello");  // ▁Hello
  EXPECT_EQ(TypeTable::normalize("\xc4\xa0World"), "world");      // ĠWorld
  EXPECT_EQ(TypeTable::normalize("\n\t "), "");
  EXPECT_EQ(TypeTable::normalize(" a b "), "ab");
  EXPECT_EQ(TypeTable::normalize("\xc3\x89t\xc3\xa9"), "\xc3\xa9t\xc3\xa9");  // Été -> été
  EXPECT_EQ(TypeTable::normalize("x\n"), "x");
}

TEST(TokenTypes, TableOverLlamaVocabulary) {
  LMP_REQUIRE_SHARED();
  const Tokenizer& tok = test::lm_s_tokenizer();
  const TypeTable t(tok);
  EXPECT_EQ(t.type_of(tok.bos_id()), -1);  // special
  EXPECT_EQ(t.type_of(13), -1);            // <0x0A>: a newline, empty after stripping
  const auto the = tok.encode(" the The THE", false);
  ASSERT_EQ(the.size(), 3u);
  EXPECT_EQ(t.type_of(the[0]), t.type_of(the[1]));
  EXPECT_EQ(t.name(t.type_of(the[0])), "the");
  EXPECT_GT(t.num_types(), 20000u);
  EXPECT_LT(t.num_types(), 32000u);
  const std::vector<int32_t> ids = {the[0], the[1], 13, the[0], 1};
  EXPECT_EQ(t.type_set(ids).size(), 1u);
}

TEST(SelectStats, ZipfExponentOfAnExactPowerLaw) {
  std::vector<int64_t> counts;
  for (int64_t r = 16; r >= 1; --r) counts.push_back((720720 / r) * (720720 / r));  // exact, exponent 2
  counts.push_back(0);
  EXPECT_NEAR(zipf_exponent(counts), 2.0, 1e-9);
  EXPECT_NEAR(zipf_exponent(counts, 2), 2.0, 1e-9);  // top 2 only
  EXPECT_EQ(zipf_exponent({5}), 0.0);
  std::vector<int64_t> flat(3000, 7);
  EXPECT_NEAR(zipf_exponent(flat), 0.0, 1e-12);
}

TEST(SelectStats, SourceCounts) {
  Selection s;
  s.source_indices = {3, 4, -1, 9};
  s.sources = {0, 1, -1, -1};
  const auto c = source_counts(s, {"a", "b"});
  EXPECT_EQ(c.at("a"), 1);
  EXPECT_EQ(c.at("(packed)"), 1);
  EXPECT_EQ(c.at("(none)"), 1);
}

}  // namespace
}  // namespace lmp
