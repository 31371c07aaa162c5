#include "tokenizer/word_cache.h"

#include <cstring>

namespace lmp {

uint64_t WordCache::hash_of(std::string_view s) {
  // 64-bit multiply-xorshift over 8-byte chunks; any decent mix works, the table checks keys.
  uint64_t h = 0x9E3779B97F4A7C15ull ^ s.size();
  size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    h = (h ^ w) * 0xBF58476D1CE4E5B9ull;
    h ^= h >> 31;
  }
  uint64_t w = 0;
  std::memcpy(&w, s.data() + i, s.size() - i);
  h = (h ^ w) * 0x94D049BB133111EBull;
  return h ^ (h >> 29);
}

void WordCache::make_hot(uint64_t h, std::string_view word, const int32_t* ids, size_t n) {
  if (word.size() > kHotKeyBytes || n > kHotIds) return;
  if (hot_.empty()) hot_.resize(kHotSlots);
  Hot& e = hot_[(h >> 20) & (kHotSlots - 1)];
  e.hash = h;
  e.key_len = uint32_t(word.size());
  e.n_ids = uint32_t(n);
  std::memcpy(e.key, word.data(), word.size());
  std::memcpy(e.ids, ids, n * sizeof(int32_t));
}

bool WordCache::lookup(std::string_view word, std::vector<int32_t>& out) {
  if (slots_.empty() || word.empty() || word.size() > kMaxWordBytes) return false;
  const uint64_t h = hash_of(word);
  if (word.size() <= kHotKeyBytes && !hot_.empty()) {
    const Hot& e = hot_[(h >> 20) & (kHotSlots - 1)];
    if (e.hash == h && e.key_len == word.size() && std::memcmp(e.key, word.data(), word.size()) == 0) {
      out.insert(out.end(), e.ids, e.ids + e.n_ids);
      return true;
    }
  }
  const size_t mask = slots_.size() - 1;
  for (size_t i = h & mask;; i = (i + 1) & mask) {
    const Entry& e = slots_[i];
    if (e.key_len == 0) return false;
    if (e.hash == h && e.key_len == word.size() && std::memcmp(keys_.data() + e.key_off, word.data(), word.size()) == 0) {
      out.insert(out.end(), ids_.begin() + e.ids_off, ids_.begin() + e.ids_off + e.ids_len);
      make_hot(h, word, ids_.data() + e.ids_off, e.ids_len);
      return true;
    }
  }
}

void WordCache::grow() {
  std::vector<Entry> old = std::move(slots_);
  slots_.assign(old.empty() ? 4096 : old.size() * 2, Entry{});
  const size_t mask = slots_.size() - 1;
  for (const Entry& e : old) {
    if (e.key_len == 0) continue;
    size_t i = e.hash & mask;
    while (slots_[i].key_len != 0) i = (i + 1) & mask;
    slots_[i] = e;
  }
}

void WordCache::insert(std::string_view word, const std::vector<int32_t>& ids, size_t begin, size_t end) {
  if (word.empty() || word.size() > kMaxWordBytes) return;
  constexpr size_t kMaxEntries = size_t(1) << 20;
  if (count_ >= kMaxEntries) {  // bounded memory: start over
    slots_.clear();
    keys_.clear();
    ids_.clear();
    hot_.clear();
    count_ = 0;
  }
  if ((count_ + 1) * 2 > slots_.size()) grow();
  const uint64_t h = hash_of(word);
  const size_t mask = slots_.size() - 1;
  size_t i = h & mask;
  while (slots_[i].key_len != 0) i = (i + 1) & mask;
  slots_[i] = Entry{h, uint32_t(keys_.size()), uint32_t(word.size()), uint32_t(ids_.size()), uint32_t(end - begin)};
  keys_.append(word);
  ids_.insert(ids_.end(), ids.begin() + begin, ids.begin() + end);
  ++count_;
  make_hot(h, word, ids.data() + begin, end - begin);
}

}  // namespace lmp
