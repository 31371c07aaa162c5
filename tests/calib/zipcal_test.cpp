#include "calib/zipcal.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>

#include "calib/random_select.h"
#include "calib/select_stats.h"
#include "calib/token_types.h"
#include "calib_fixtures.h"
#include "data/pool.h"

namespace lmp {
namespace {

// The greedy choice by brute force: the remaining candidate with the most uncovered types, then the
// most types, then the lowest index.
std::vector<int64_t> brute_force_greedy(const std::vector<std::vector<uint32_t>>& sets, int64_t n) {
  std::set<uint32_t> covered;
  std::vector<bool> used(sets.size(), false);
  std::vector<int64_t> out;
  for (int64_t step = 0; step < n; ++step) {
    int64_t best = -1, best_gain = -1, best_size = -1;
    for (size_t i = 0; i < sets.size(); ++i) {
      if (used[i]) continue;
      int64_t g = 0;
      for (uint32_t t : sets[i]) g += covered.count(t) ? 0 : 1;
      const int64_t sz = int64_t(sets[i].size());
      if (g > best_gain || (g == best_gain && sz > best_size)) best = int64_t(i), best_gain = g, best_size = sz;
    }
    used[size_t(best)] = true;
    covered.insert(sets[size_t(best)].begin(), sets[size_t(best)].end());
    out.push_back(best);
  }
  return out;
}

TEST(ZipCal, HandMadePoolPicksWhatCoverageSays) {
  const std::vector<std::vector<uint32_t>> sets = {{0, 1, 2}, {2, 3}, {4, 5, 6, 7}, {0, 1, 2, 3, 4}, {7}};
  // {0..4} adds 5; then {4,5,6,7} adds 3; then {0,1,2} and {2,3} add 0 each (tie -> more types wins) ...
  EXPECT_EQ(zipcal_greedy(sets, 8, 4, 2000, 0), (std::vector<int64_t>{3, 2, 0, 1}));
  EXPECT_EQ(zipcal_greedy(sets, 8, 4, 2000, 0), brute_force_greedy(sets, 4));
}

TEST(ZipCal, GreedyMatchesBruteForceWhenEveryCandidateIsScored) {
  std::mt19937 gen(7);
  for (int trial = 0; trial < 20; ++trial) {
    std::vector<std::vector<uint32_t>> sets(60);
    for (auto& s : sets) {
      std::set<uint32_t> u;
      const int k = int(gen() % 12);
      for (int i = 0; i < k; ++i) u.insert(uint32_t(gen() % 80));
      s.assign(u.begin(), u.end());
    }
    EXPECT_EQ(zipcal_greedy(sets, 80, 25, 60, uint64_t(trial)), brute_force_greedy(sets, 25)) << trial;
  }
}

TEST(ZipCal, SampledStepIsSeededAndPicksDistinct) {
  std::vector<std::vector<uint32_t>> sets(200);
  for (size_t i = 0; i < sets.size(); ++i) sets[i] = {uint32_t(i % 50), uint32_t(50 + i % 7)};
  const auto a = zipcal_greedy(sets, 57, 30, 5, 1), b = zipcal_greedy(sets, 57, 30, 5, 1),
             c = zipcal_greedy(sets, 57, 30, 5, 2);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  EXPECT_EQ(std::set<int64_t>(a.begin(), a.end()).size(), a.size());
  // Each pick is at least as good as... the first step always adds 2 new types.
  EXPECT_EQ(sets[size_t(a[0])].size(), 2u);
}

TEST(ZipCal, PoolSelectionIsDeterministicAndUsesFirstTokens) {
  LMP_REQUIRE_SHARED();
  const Tokenizer& tok = test::lm_s_tokenizer();
  const TypeTable types(tok);
  const std::string pool = test::heldout_pool("zipcal_pool", 60);
  SelectOptions o;
  o.method = "zipcal";
  o.n = 6;
  o.seq = 64;
  o.zipcal_candidates = 8;
  o.seed = 3;
  const Selection a = select_zipcal(pool, tok, types, o, false);
  const Selection b = select_zipcal(pool, tok, types, o, false);
  o.seed = 4;
  const Selection c = select_zipcal(pool, tok, types, o, false);
  ASSERT_EQ(a.input_ids.size(), size_t(6 * 64));
  EXPECT_EQ(a.input_ids, b.input_ids);
  EXPECT_EQ(a.source_indices, b.source_indices);
  EXPECT_NE(a.source_indices, c.source_indices);
  // Each row is the first L tokens of its document, BOS first.
  PoolOptions po;
  po.progress = po.warnings = false;
  std::vector<std::string> texts;
  for_each_document(pool, po, [&](Document&& d) { texts.push_back(d.text); });
  for (int64_t r = 0; r < a.n; ++r) {
    const auto ids = tok.encode(texts[size_t(a.source_indices[size_t(r)])], true);
    EXPECT_EQ(std::vector<int32_t>(a.input_ids.begin() + r * 64, a.input_ids.begin() + (r + 1) * 64),
              std::vector<int32_t>(ids.begin(), ids.begin() + 64));
    EXPECT_EQ(a.input_ids[size_t(r * 64)], tok.bos_id());
  }
}

TEST(ZipCal, FirstPickIsTheLargestTypeSetAndCoverageBeatsRandom) {
  LMP_REQUIRE_SHARED();
  const Tokenizer& tok = test::lm_s_tokenizer();
  const TypeTable types(tok);
  const std::string pool = test::heldout_pool("zipcal_cover", 80);
  SelectOptions o;
  o.n = 5;
  o.seq = 128;
  size_t largest = 0;
  scan_candidates(pool, tok, nullptr, o, false, [&](int64_t, const CandidateSummary&, std::span<const int32_t> first) {
    largest = std::max(largest, types.type_set(first).size());
  });
  const Selection z = select_zipcal(pool, tok, types, o, false);  // 2000 per step: every candidate scored
  EXPECT_EQ(types.type_set(std::span<const int32_t>(z.input_ids.data(), 128)).size(), largest);
  const Selection r = select_random(pool, tok, nullptr, o, false);
  EXPECT_GT(set_stats(z.input_ids, types).types_covered, set_stats(r.input_ids, types).types_covered);
}

}  // namespace
}  // namespace lmp
