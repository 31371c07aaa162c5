// One tokenizing pass over a document pool: documents are read (decompressed, parsed) on one thread
// and tokenized on `threads` others, then handed to the caller one at a time in pool order. With
// threads <= 1 everything runs on the calling thread. Token sequences start with BOS when the
// tokenizer has one.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "data/pool.h"
#include "tokenizer/tokenizer.h"

namespace lmp {

struct ScanOptions {
  std::string text_field = "text";
  int threads = 1;
  bool progress = true;                     // progress and skip warnings on stderr
  std::function<bool(int64_t)> wanted;      // documents to tokenize (null: all); others get no tokens
  int64_t stop_after = -1;                  // >= 0: stop after the document of this index
};

struct TokenizedDoc {
  int64_t index = -1;
  int32_t source = -1;
  int64_t text_bytes = 0;
  bool tokenized = false;
  std::vector<int32_t> tokens;
};

struct ScanResult {
  PoolStats pool;
  double seconds = 0;
};

ScanResult scan_pool(const std::string& pool, const Tokenizer& tok, const ScanOptions& opts,
                     const std::function<void(TokenizedDoc&)>& fn);

}  // namespace lmp
