#include "calib/random_select.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "calib/select.h"
#include "calib_fixtures.h"
#include "core/error.h"
#include "data/pool.h"

namespace lmp {
namespace {

std::vector<std::string> pool_texts(const std::string& pool) {
  PoolOptions po;
  po.progress = po.warnings = false;
  std::vector<std::string> texts;
  for_each_document(pool, po, [&](Document&& d) { texts.push_back(d.text); });
  return texts;
}

TEST(RandomSelect, SeededWindowsOfChosenDocuments) {
  LMP_REQUIRE_SHARED();
  const Tokenizer& tok = test::lm_s_tokenizer();
  const std::string pool = test::heldout_pool("random_pool", 40);
  SelectOptions o;
  o.method = "random";
  o.n = 8;
  o.seq = 96;
  o.seed = 11;
  const Selection a = select_random(pool, tok, nullptr, o, false);
  const Selection b = select_random(pool, tok, nullptr, o, false);
  o.seed = 12;
  const Selection c = select_random(pool, tok, nullptr, o, false);
  ASSERT_EQ(a.input_ids.size(), size_t(8 * 96));
  EXPECT_EQ(a.input_ids, b.input_ids);
  EXPECT_EQ(a.source_indices, b.source_indices);
  EXPECT_NE(a.input_ids, c.input_ids);
  std::vector<int64_t> docs = a.source_indices;
  std::sort(docs.begin(), docs.end());
  EXPECT_EQ(std::unique(docs.begin(), docs.end()), docs.end());  // without replacement
  const auto texts = pool_texts(pool);
  bool some_offset = false;
  for (int64_t r = 0; r < a.n; ++r) {
    const auto ids = tok.encode(texts[size_t(a.source_indices[size_t(r)])], true);
    const auto row = std::vector<int32_t>(a.input_ids.begin() + r * 96, a.input_ids.begin() + (r + 1) * 96);
    const auto at = std::search(ids.begin(), ids.end(), row.begin(), row.end());
    EXPECT_NE(at, ids.end()) << "row " << r << " is not a window of document " << a.source_indices[size_t(r)];
    some_offset |= at != ids.begin();
  }
  EXPECT_TRUE(some_offset);
}

TEST(RandomSelect, PackJoinsShortDocumentsIntoExactSamples) {
  LMP_REQUIRE_SHARED();
  const Tokenizer& tok = test::lm_s_tokenizer();
  const std::string pool = test::heldout_pool("random_pack", 20);
  SelectOptions o;
  o.method = "random";
  o.seq = 2048;
  o.n = 6;
  try {
    select_random(pool, tok, nullptr, o, false);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("--n 6 is more than the"), std::string::npos) << m;
    EXPECT_NE(m.find("use --pack or a smaller --seq"), std::string::npos) << m;
  }
  o.pack = true;
  CandidateScan scan;
  const Selection s = select_random(pool, tok, nullptr, o, false, &scan);
  EXPECT_EQ(s.input_ids.size(), size_t(6 * 2048));
  const int64_t packed = std::count_if(scan.candidates.begin(), scan.candidates.end(),
                                       [](const CandidateSummary& c) { return c.doc_index < 0; });
  EXPECT_GT(packed, 0);
  // Packed samples are consecutive short documents: every packed candidate is exactly L tokens.
  int64_t short_tokens = 0;
  for (const auto& t : pool_texts(pool)) {
    const auto n = int64_t(tok.encode(t, true).size());
    if (n < 2048) short_tokens += n;
  }
  EXPECT_EQ(packed, short_tokens / 2048);
}

TEST(RunSelect, ErrorsForBadOptions) {
  LMP_REQUIRE_SHARED();
  const Tokenizer& tok = test::lm_s_tokenizer();
  const TypeTable types(tok);
  const std::string pool = test::heldout_pool("run_select_err", 10);
  SelectOptions o;
  o.method = "bogus";
  EXPECT_THROW(run_select(pool, tok, nullptr, types, o, false, nullptr), Error);
  o.method = "least-ppl";
  try {
    run_select(pool, tok, nullptr, types, o, false, nullptr);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("needs a model"), std::string::npos);
  }
  o.method = "zipcal";
  o.n = 500;
  o.seq = 16;
  EXPECT_THROW(run_select(pool, tok, nullptr, types, o, false, nullptr), Error);
}

}  // namespace
}  // namespace lmp
