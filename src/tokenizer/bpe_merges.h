// Rank-based BPE merging (Sennrich et al. 2016, as applied by HF tokenizers' BPE model and, with ranks
// derived from piece scores, by sentencepiece / llama.cpp): repeatedly merge the adjacent pair of
// symbols with the lowest rank, the left-most one on ties, until no adjacent pair has a rule.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace lmp {

struct MergeRule {
  int32_t rank;    // lower merges first
  int32_t result;  // id of the merged symbol
};

// Open-addressing hash map (left id, right id) -> MergeRule.
class PairTable {
 public:
  // Inserts or overwrites the rule of a pair (ids must be >= 0).
  void insert(int32_t left, int32_t right, MergeRule rule);
  const MergeRule* find(int32_t left, int32_t right) const {
    if (slots_.empty() || left < 0 || right < 0) return nullptr;
    const uint64_t key = pack(left, right);
    for (size_t i = slot(key);; i = (i + 1) & mask_) {
      if (slots_[i].key == key) return &slots_[i].rule;
      if (slots_[i].key == kEmpty) return nullptr;
    }
  }
  size_t size() const { return count_; }

 private:
  static constexpr uint64_t kEmpty = ~0ull;
  static uint64_t pack(int32_t l, int32_t r) { return (uint64_t(uint32_t(l)) << 32) | uint32_t(r); }
  size_t slot(uint64_t key) const { return size_t((key * 0x9E3779B97F4A7C15ull) >> 32) & mask_; }
  void grow();
  struct Slot {
    uint64_t key;
    MergeRule rule;
  };
  std::vector<Slot> slots_;  // key and rule side by side: one cache line per probe
  size_t mask_ = 0, count_ = 0;
};

// Reusable buffers of merge_symbols (one per thread / call).
struct MergeScratch {
  std::vector<int32_t> ranks, results, prev, next;
  struct Entry { int32_t rank, pos, result; };
  std::vector<Entry> heap;
};

// Merges `ids` in place by the rules of `table`. Ids < 0 never merge.
void merge_symbols(std::vector<int32_t>& ids, const PairTable& table, MergeScratch& scratch);

}  // namespace lmp
