// The rank-based merge engine: merge order on hand-made rules, and the heap path (long words) against
// a naive reference.
#include <gtest/gtest.h>

#include <climits>
#include <random>

#include "tokenizer/bpe_merges.h"

using namespace lmp;

namespace {

// Naive reference: merge the lowest-rank adjacent pair, left-most on ties, until none has a rule.
std::vector<int32_t> naive_merge(std::vector<int32_t> ids, const PairTable& t) {
  while (true) {
    int best = -1, best_rank = INT_MAX;
    for (size_t i = 0; i + 1 < ids.size(); ++i)
      if (const MergeRule* r = t.find(ids[i], ids[i + 1]); r && r->rank < best_rank) {
        best_rank = r->rank;
        best = int(i);
      }
    if (best < 0) return ids;
    ids[best] = t.find(ids[best], ids[best + 1])->result;
    ids.erase(ids.begin() + best + 1);
  }
}

}  // namespace

TEST(BpeMerges, LowestRankFirst) {
  // a=0 b=1 c=2 ab=3 bc=4 abc=5
  PairTable t;
  t.insert(1, 2, {0, 4});  // b c -> bc (rank 0)
  t.insert(0, 1, {1, 3});  // a b -> ab
  t.insert(0, 4, {2, 5});  // a bc -> abc
  MergeScratch s;
  std::vector<int32_t> w = {0, 1, 2};
  merge_symbols(w, t, s);
  EXPECT_EQ(w, (std::vector<int32_t>{5}));
  // with a b first, "abc" stops at [ab, c] (no rule ab c)
  PairTable u;
  u.insert(0, 1, {0, 3});
  u.insert(1, 2, {1, 4});
  w = {0, 1, 2};
  merge_symbols(w, u, s);
  EXPECT_EQ(w, (std::vector<int32_t>{3, 2}));
}

TEST(BpeMerges, LeftMostOnTiesAndNegativeIdsNeverMerge) {
  PairTable t;
  t.insert(0, 0, {0, 1});  // a a -> aa
  MergeScratch s;
  std::vector<int32_t> w = {0, 0, 0};
  merge_symbols(w, t, s);
  EXPECT_EQ(w, (std::vector<int32_t>{1, 0}));
  w = {0, -1, 0};
  merge_symbols(w, t, s);
  EXPECT_EQ(w, (std::vector<int32_t>{0, -1, 0}));
  EXPECT_EQ(t.find(-1, 0), nullptr);
}

TEST(BpeMerges, InsertOverwritesAndGrows) {
  PairTable t;
  for (int i = 0; i < 5000; ++i) t.insert(i, i + 1, {i, i});
  t.insert(7, 8, {99, 98});
  EXPECT_EQ(t.size(), 5000u);
  EXPECT_EQ(t.find(7, 8)->rank, 99);
  EXPECT_EQ(t.find(4999, 5000)->result, 4999);
  EXPECT_EQ(t.find(5000, 5001), nullptr);
}

TEST(BpeMerges, HeapPathMatchesNaiveReference) {
  std::mt19937 rng(1234);
  // 4 base symbols, rules over all pairs of ids < 12 with random ranks producing new ids.
  PairTable t;
  int next = 4;
  for (int a = 0; a < 12; ++a)
    for (int b = 0; b < 12; ++b)
      if (rng() % 3 == 0) t.insert(a, b, {int32_t(rng() % 50), int32_t(next++ % 40)});
  MergeScratch s;
  for (int trial = 0; trial < 300; ++trial) {
    std::vector<int32_t> w(1 + rng() % 200);
    for (auto& x : w) x = int32_t(rng() % 4);
    const auto expected = naive_merge(w, t);
    merge_symbols(w, t, s);
    ASSERT_EQ(w, expected) << "trial " << trial;
  }
}
