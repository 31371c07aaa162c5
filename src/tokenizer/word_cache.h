// WordCache: word -> token ids for the words of one encode() call or one encode session (an
// open-addressing table over one byte arena and one id arena; no per-entry allocation), fronted by a
// small direct-mapped table of short words with their ids inline, which keeps the frequent words in
// cache when the main table is large. Bounded: cleared when it grows too large.
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
  bool lookup(std::string_view word, std::vector<int32_t>& out);
  // Remembers ids[begin, end) as the encoding of `word`.
  void insert(std::string_view word, const std::vector<int32_t>& ids, size_t begin, size_t end);

 private:
  struct Entry {
    uint64_t hash = 0;
    uint32_t key_off = 0, key_len = 0, ids_off = 0, ids_len = 0;
  };
  struct Hot {  // one cache line: a short word and its ids inline
    uint64_t hash = 0;
    uint32_t key_len = 0, n_ids = 0;  // key_len == 0: empty
    int32_t ids[4];
    char key[32];
  };
  static constexpr size_t kHotKeyBytes = sizeof(Hot::key), kHotIds = 4, kHotSlots = 2048;
  static uint64_t hash_of(std::string_view s);
  void grow();
  void make_hot(uint64_t h, std::string_view word, const int32_t* ids, size_t n);
  std::vector<Hot> hot_;
  std::vector<Entry> slots_;  // key_len == 0: empty
  std::string keys_;
  std::vector<int32_t> ids_;
  size_t count_ = 0;
};

}  // namespace lmp
