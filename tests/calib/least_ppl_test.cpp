// least-ppl: batched, chunked NLL equals a direct per-candidate forward; the selector keeps exactly
// the N lowest-NLL candidates, ties to the lower pool index; deterministic; bad input is an error.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <numeric>
#include <sstream>

#include "calib/least_ppl.h"
#include "core/error.h"
#include "model/ops.h"
#include "test_util.h"

using namespace lmp;

namespace {

const Model& stories() {
  static const Model m = Model::open(test::shared_path("models/stories260K/stories260K.gguf"));
  return m;
}

// Candidates = the first L tokens of TinyStories validation stories (blank-line separated) long enough.
std::vector<Candidate> story_candidates(const Model& m, int64_t count, int64_t L) {
  std::ifstream in(test::shared_path("data/text/tinystories_val.txt"));
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string text = ss.str();
  std::vector<Candidate> out;
  size_t pos = 0;
  for (int64_t doc = 0; int64_t(out.size()) < count && pos < text.size(); ++doc) {
    size_t end = text.find("\n\n", pos);
    if (end == std::string::npos) end = text.size();
    std::vector<int32_t> ids = m.tokenizer().encode(text.substr(pos, end - pos), true);
    pos = end + 2;
    if (int64_t(ids.size()) < L) continue;
    ids.resize(size_t(L));
    out.push_back({doc, int32_t(doc % 3), ids});
  }
  return out;
}

// Mean NLL of tokens 1..L-1 from one unbatched Model::forward.
double direct_nll(const Model& m, const std::vector<int32_t>& ids) {
  const int64_t L = int64_t(ids.size()), V = m.config().vocab_size;
  const std::vector<float> logits = m.forward(ids, BatchShape{1, L, {}});
  double s = 0.0;
  for (int64_t t = 0; t + 1 < L; ++t) s += log_sum_exp(&logits[size_t(t * V)], V) - logits[size_t(t * V + ids[size_t(t + 1)])];
  return s / double(L - 1);
}

SelectOptions options(int64_t n, int64_t L) {
  SelectOptions o;
  o.method = "least-ppl";
  o.n = n;
  o.seq = L;
  return o;
}

}  // namespace

TEST(LeastPpl, BatchedNllMatchesDirectForward) {
  LMP_REQUIRE_SHARED();
  const auto cands = story_candidates(stories(), 11, 40);
  ASSERT_EQ(cands.size(), 11u);
  const std::vector<double> nll = candidate_nll(stories(), cands, 4);  // batches 4, 4, 3
  for (size_t i = 0; i < cands.size(); ++i) EXPECT_NEAR(nll[i], direct_nll(stories(), cands[i].tokens), 1e-4) << i;
  const std::vector<double> one = candidate_nll(stories(), cands, 1);
  for (size_t i = 0; i < cands.size(); ++i) EXPECT_NEAR(nll[i], one[i], 1e-5) << i;
}

TEST(LeastPpl, KeepsExactlyTheNLowestNll) {
  LMP_REQUIRE_SHARED();
  const auto cands = story_candidates(stories(), 20, 48);
  std::vector<double> direct;
  for (const auto& c : cands) direct.push_back(direct_nll(stories(), c.tokens));
  std::vector<size_t> order(cands.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return direct[a] < direct[b]; });
  ASSERT_GT(direct[order[6]] - direct[order[5]], 1e-3) << "the cut must not sit on a near-tie";

  const Selection s = select_least_ppl(stories(), cands, options(6, 48));
  ASSERT_EQ(s.n, 6);
  ASSERT_EQ(s.seq, 48);
  ASSERT_EQ(s.input_ids.size(), 6u * 48u);
  ASSERT_EQ(s.source_indices.size(), 6u);
  for (size_t k = 0; k < 6; ++k) {
    const Candidate& want = cands[order[k]];
    EXPECT_EQ(s.source_indices[k], want.doc_index) << k;
    EXPECT_EQ(s.sources[k], want.source) << k;
    EXPECT_TRUE(std::equal(want.tokens.begin(), want.tokens.end(), s.input_ids.begin() + int64_t(k) * 48)) << k;
  }
  const Selection again = select_least_ppl(stories(), cands, options(6, 48));
  EXPECT_EQ(again.input_ids, s.input_ids);
  EXPECT_EQ(again.source_indices, s.source_indices);
}

TEST(LeastPpl, RankingBreaksTiesByDocumentIndexAndPutsNanLast) {
  std::vector<Candidate> cands(5);
  const int64_t docs[] = {9, 4, 7, 2, 5};
  for (size_t i = 0; i < 5; ++i) cands[i].doc_index = docs[i];
  const std::vector<double> score = {1.5, 1.5, NAN, 3.0, 1.5};
  EXPECT_EQ(rank_by_score(score, cands), (std::vector<int64_t>{1, 4, 0, 3, 2}));
  EXPECT_THROW(rank_by_score({1.0}, cands), Error);
}

TEST(LeastPpl, IdenticalCandidatesScoreAlikeAndTheLowerIndexWins) {
  LMP_REQUIRE_SHARED();
  auto cands = story_candidates(stories(), 1, 32);
  cands.push_back(cands[0]);
  cands[0].doc_index = 9;
  cands[1].doc_index = 4;
  const std::vector<double> nll = candidate_nll(stories(), cands);
  EXPECT_NEAR(nll[0], nll[1], 1e-6);  // a batch row's position may change the last bits
  if (nll[0] == nll[1]) {
    EXPECT_EQ(select_least_ppl(stories(), cands, options(1, 32)).source_indices, std::vector<int64_t>{4});
  }
}

TEST(LeastPpl, RejectsBadInput) {
  LMP_REQUIRE_SHARED();
  const auto cands = story_candidates(stories(), 3, 32);
  EXPECT_THROW(select_least_ppl(stories(), cands, options(4, 32)), Error);  // N > candidates
  EXPECT_THROW(select_least_ppl(stories(), cands, options(0, 32)), Error);
  EXPECT_THROW(select_least_ppl(stories(), cands, options(2, 31)), Error);  // wrong length
  EXPECT_THROW(select_least_ppl(stories(), cands, options(2, 1)), Error);
  try {
    select_least_ppl(stories(), cands, options(4, 32));
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("need 4 candidates"), std::string::npos) << e.what();
    EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos);
  }
}
