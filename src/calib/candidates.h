// Candidates: the pool documents that can serve as a sample of L tokens (at least L tokens, BOS first
// when the tokenizer has one) and, with --pack, packed samples: documents shorter than L concatenated
// in pool order and cut into samples of exactly L tokens (a document may straddle two; the remainder
// at the end of the pool is dropped). One pass keeps a summary per candidate, not its text.
#pragma once
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "calib/pool_scan.h"
#include "calib/selection.h"
#include "calib/token_types.h"

namespace lmp {

struct CandidateSummary {
  int64_t doc_index = -1;  // -1: packed sample
  int32_t source = -1;
  int64_t n_tokens = 0;    // tokens of the document (L for packed samples)
};

struct CandidateScan {
  PoolStats pool;
  double seconds = 0;
  std::vector<CandidateSummary> candidates;  // in pool order
  int64_t short_documents = 0;               // documents with fewer than L tokens
  int64_t pool_tokens = 0;                   // tokens of all documents (BOS included)
  std::vector<int64_t> type_counts;          // normalized-type counts over all documents
};

// Called per candidate in pool order: its ordinal in `candidates`, summary and first L tokens.
using CandidateFn = std::function<void(int64_t, const CandidateSummary&, std::span<const int32_t>)>;

// One pass over the pool: forms the candidates, counts the types of every token (when `types` is not
// null) and calls `fn` for each candidate.
CandidateScan scan_candidates(const std::string& pool, const Tokenizer& tok, const TypeTable* types,
                              const SelectOptions& opts, bool progress, const CandidateFn& fn);

// Rows of exactly L token ids, 16-bit when the vocabulary allows.
class TokenRows {
 public:
  TokenRows(int64_t seq, int64_t vocab_size) : seq_(seq), narrow_(vocab_size <= 65536) {}
  int64_t add(std::span<const int32_t> row);           // returns the row index
  void set(int64_t r, std::span<const int32_t> row);
  void get(int64_t r, std::vector<int32_t>& out) const;  // appends the row
  int64_t size() const { return rows_; }

 private:
  int64_t seq_, rows_ = 0;
  bool narrow_;
  std::vector<uint16_t> u16_;
  std::vector<int32_t> i32_;
};

// The pool's candidates for the model-based selectors: a seeded uniform subset of at most
// opts.max_candidates of them (reservoir sampling, so one pass), in pool order, with their first L
// tokens. Fails, with the counts, when the pool has fewer than opts.n candidates or max_candidates < n.
// `types` (optional) gets the pool's type counts into `scan`.
std::vector<Candidate> sample_candidates(const std::string& pool, const Tokenizer& tok, const SelectOptions& opts,
                                         bool progress = true, CandidateScan* scan = nullptr,
                                         const TypeTable* types = nullptr);

// Fails unless n samples can be drawn from `scan`'s candidates (the message has the counts and a hint).
void check_enough_candidates(const std::string& pool, const CandidateScan& scan, const SelectOptions& opts);

}  // namespace lmp
