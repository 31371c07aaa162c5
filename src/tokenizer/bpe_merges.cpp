#include "tokenizer/bpe_merges.h"

#include <algorithm>
#include <climits>

namespace lmp {

void PairTable::grow() {
  std::vector<Slot> old = std::move(slots_);
  const size_t cap = old.empty() ? 1024 : old.size() * 2;
  slots_.assign(cap, Slot{kEmpty, MergeRule{0, 0}});
  mask_ = cap - 1;
  count_ = 0;
  for (const Slot& s : old)
    if (s.key != kEmpty) insert(int32_t(s.key >> 32), int32_t(uint32_t(s.key)), s.rule);
}

void PairTable::insert(int32_t left, int32_t right, MergeRule rule) {
  if ((count_ + 1) * 2 > slots_.size()) grow();
  const uint64_t key = pack(left, right);
  size_t i = slot(key);
  while (slots_[i].key != kEmpty && slots_[i].key != key) i = (i + 1) & mask_;
  if (slots_[i].key == kEmpty) ++count_;
  slots_[i] = Slot{key, rule};
}

namespace {

// Words of up to this many symbols are merged by scanning an array of pair ranks (no heap).
constexpr size_t kSmallWord = 48;

void merge_small(std::vector<int32_t>& ids, const PairTable& table, MergeScratch& s) {
  size_t n = ids.size();
  auto& ranks = s.ranks;
  auto& results = s.results;
  ranks.resize(n);
  results.resize(n);
  auto rule_at = [&](size_t i) {
    const MergeRule* r = table.find(ids[i], ids[i + 1]);
    ranks[i] = r ? r->rank : INT32_MAX;
    results[i] = r ? r->result : -1;
  };
  for (size_t i = 0; i + 1 < n; ++i) rule_at(i);
  while (n > 1) {
    size_t best = 0;
    for (size_t i = 1; i + 1 < n; ++i)
      if (ranks[i] < ranks[best]) best = i;
    if (ranks[best] == INT32_MAX) break;
    ids[best] = results[best];
    for (size_t i = best + 1; i + 1 < n; ++i) {
      ids[i] = ids[i + 1];
      ranks[i] = ranks[i + 1];
      results[i] = results[i + 1];
    }
    --n;
    ids.resize(n);
    if (best > 0) rule_at(best - 1);
    if (best + 1 < n) rule_at(best);
  }
}

// Heap order: lowest rank first, then left-most position.
bool heap_after(const MergeScratch::Entry& a, const MergeScratch::Entry& b) {
  return a.rank != b.rank ? a.rank > b.rank : a.pos > b.pos;
}

void merge_large(std::vector<int32_t>& ids, const PairTable& table, MergeScratch& s) {
  const int32_t n = static_cast<int32_t>(ids.size());
  auto& prev = s.prev;
  auto& next = s.next;
  auto& heap = s.heap;
  prev.resize(n);
  next.resize(n);
  heap.clear();
  auto push = [&](int32_t pos) {
    const int32_t right = next[pos];
    if (right < 0) return;
    if (const MergeRule* r = table.find(ids[pos], ids[right])) {
      heap.push_back({r->rank, pos, r->result});
      std::push_heap(heap.begin(), heap.end(), heap_after);
    }
  };
  for (int32_t i = 0; i < n; ++i) {
    prev[i] = i - 1;
    next[i] = i + 1 < n ? i + 1 : -1;
  }
  for (int32_t i = 0; i + 1 < n; ++i) push(i);
  std::vector<char> alive(n, 1);
  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), heap_after);
    const auto top = heap.back();
    heap.pop_back();
    if (!alive[top.pos]) continue;
    const int32_t right = next[top.pos];
    if (right < 0) continue;
    const MergeRule* r = table.find(ids[top.pos], ids[right]);
    if (!r || r->result != top.result) continue;  // stale: the pair changed since it was queued
    ids[top.pos] = top.result;
    alive[right] = 0;
    next[top.pos] = next[right];
    if (next[right] >= 0) prev[next[right]] = top.pos;
    if (prev[top.pos] >= 0) push(prev[top.pos]);
    push(top.pos);
  }
  size_t w = 0;
  for (int32_t i = 0; i < n; ++i)
    if (alive[i]) ids[w++] = ids[i];
  ids.resize(w);
}

}  // namespace

void merge_symbols(std::vector<int32_t>& ids, const PairTable& table, MergeScratch& scratch) {
  if (ids.size() < 2) return;
  if (ids.size() <= kSmallWord) {
    merge_small(ids, table, scratch);
  } else {
    merge_large(ids, table, scratch);
  }
}

}  // namespace lmp
