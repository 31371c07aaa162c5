#include "calib/candidates.h"

#include <gtest/gtest.h>

#include "calib_fixtures.h"
#include "core/error.h"

namespace lmp {
namespace {

TEST(Candidates, SampleIsSeededUniformSubsetInPoolOrder) {
  LMP_REQUIRE_SHARED();
  const Tokenizer& tok = test::lm_s_tokenizer();
  const std::string pool = test::heldout_pool("cands", 50);
  SelectOptions o;
  o.n = 4;
  o.seq = 32;
  o.max_candidates = 10;
  o.seed = 5;
  CandidateScan scan;
  const auto a = sample_candidates(pool, tok, o, false, &scan);
  const auto b = sample_candidates(pool, tok, o, false);
  o.seed = 6;
  const auto c = sample_candidates(pool, tok, o, false);
  ASSERT_EQ(a.size(), 10u);
  ASSERT_GT(scan.candidates.size(), 10u);
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].tokens.size(), 32u);
    EXPECT_EQ(a[i].doc_index, b[i].doc_index);
    if (i) {
      EXPECT_LT(a[i - 1].doc_index, a[i].doc_index);
    }
  }
  bool differs = false;
  for (size_t i = 0; i < a.size(); ++i) differs |= a[i].doc_index != c[i].doc_index;
  EXPECT_TRUE(differs);
  o.max_candidates = 1000;  // all of them
  const auto all = sample_candidates(pool, tok, o, false);
  EXPECT_EQ(all.size(), scan.candidates.size());
  o.max_candidates = 2;
  EXPECT_THROW(sample_candidates(pool, tok, o, false), Error);  // fewer than --n
}

TEST(Candidates, TokenRowsNarrowAndWide) {
  TokenRows narrow(3, 32000), wide(3, 100000);
  const std::vector<int32_t> r0 = {1, 31999, 7}, r1 = {99999, 0, 65536};
  narrow.add(r0);
  wide.add(r0);
  wide.add(r1);
  std::vector<int32_t> out;
  narrow.get(0, out);
  EXPECT_EQ(out, r0);
  out.clear();
  wide.get(1, out);
  EXPECT_EQ(out, r1);
}

}  // namespace
}  // namespace lmp
