// WordCache: word -> token ids for the words of one encode() call (an open-addressing table over one
// byte arena and one id arena; no per-entry allocation). Bounded: cleared when it grows too large.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace lmp {

class WordCache {
 public:
  static constexpr size_t kMaxWordBytes = 256;  // longer words are not cached

  // Appends the cached ids of `word` to `out` and returns true, or returns false.
  bool lookup(std::string_view word, std::vector<int32_t>& out) const;
  // Remembers ids[begin, end) as the encoding of `word`.
  void insert(std::string_view word, const std::vector<int32_t>& ids, size_t begin, size_t end);

 private:
  struct Entry {
    uint64_t hash = 0;
    uint32_t key_off = 0, key_len = 0, ids_off = 0, ids_len = 0;
  };
  static uint64_t hash_of(std::string_view s);
  void grow();
  std::vector<Entry> slots_;  // key_len == 0: empty
  std::string keys_;
  std::vector<int32_t> ids_;
  size_t count_ = 0;
};

}  // namespace lmp
