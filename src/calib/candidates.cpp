#include "calib/candidates.h"

#include <algorithm>
#include <numeric>

#include "calib/rng.h"
#include "core/error.h"

namespace lmp {

int64_t TokenRows::add(std::span<const int32_t> row) {
  if (narrow_) u16_.resize(u16_.size() + size_t(seq_));
  else i32_.resize(i32_.size() + size_t(seq_));
  set(rows_, row);
  return rows_++;
}

void TokenRows::set(int64_t r, std::span<const int32_t> row) {
  const size_t at = size_t(r * seq_);
  for (int64_t i = 0; i < seq_; ++i) {
    if (narrow_) u16_[at + size_t(i)] = uint16_t(row[size_t(i)]);
    else i32_[at + size_t(i)] = row[size_t(i)];
  }
}

void TokenRows::get(int64_t r, std::vector<int32_t>& out) const {
  const size_t at = size_t(r * seq_);
  for (int64_t i = 0; i < seq_; ++i) out.push_back(narrow_ ? int32_t(u16_[at + size_t(i)]) : i32_[at + size_t(i)]);
}

CandidateScan scan_candidates(const std::string& pool, const Tokenizer& tok, const TypeTable* types,
                              const SelectOptions& opts, bool progress, const CandidateFn& fn) {
  LMP_CHECK(opts.seq >= 1, "select: --seq must be at least 1, found ", opts.seq);
  CandidateScan out;
  if (types) out.type_counts.assign(types->num_types(), 0);
  const size_t L = size_t(opts.seq);
  std::vector<int32_t> packed;  // the packed sample being filled
  auto add = [&](const CandidateSummary& c, std::span<const int32_t> first) {
    out.candidates.push_back(c);
    fn(int64_t(out.candidates.size()) - 1, c, first);
  };
  ScanOptions so;
  so.text_field = opts.text_field;
  so.threads = opts.threads;
  so.progress = progress;
  const ScanResult r = scan_pool(pool, tok, so, [&](TokenizedDoc& d) {
    out.pool_tokens += int64_t(d.tokens.size());
    if (types) types->count(d.tokens, out.type_counts);
    if (d.tokens.size() >= L) {
      add({d.index, d.source, int64_t(d.tokens.size())}, std::span<const int32_t>(d.tokens.data(), L));
      return;
    }
    ++out.short_documents;
    if (!opts.pack) return;
    for (size_t at = 0; at < d.tokens.size();) {
      const size_t take = std::min(L - packed.size(), d.tokens.size() - at);
      packed.insert(packed.end(), d.tokens.begin() + int64_t(at), d.tokens.begin() + int64_t(at + take));
      at += take;
      if (packed.size() == L) {
        add({-1, -1, int64_t(L)}, packed);
        packed.clear();
      }
    }
  });
  out.pool = r.pool;
  out.seconds = r.seconds;
  return out;
}

void check_enough_candidates(const std::string& pool, const CandidateScan& scan, const SelectOptions& opts) {
  const int64_t have = int64_t(scan.candidates.size());
  if (opts.n <= have) return;
  if (opts.pack)
    fail("select: --n ", opts.n, " is more than the ", have, " samples of ", opts.seq, " tokens in pool ", pool,
         " (", scan.pool.documents, " documents, ", scan.pool_tokens, " tokens, packed); use a smaller --seq or --n");
  fail("select: --n ", opts.n, " is more than the ", have, " candidates in pool ", pool, " (documents with at least ",
       opts.seq, " tokens; ", scan.short_documents, " of ", scan.pool.documents,
       " documents are shorter); use --pack or a smaller --seq");
}

std::vector<Candidate> sample_candidates(const std::string& pool, const Tokenizer& tok, const SelectOptions& opts,
                                         bool progress, CandidateScan* scan_out, const TypeTable* types) {
  LMP_CHECK(opts.max_candidates >= opts.n, "select: --max-candidates ", opts.max_candidates,
            " is smaller than --n ", opts.n);
  SelectRng rng(opts.seed);
  TokenRows rows(opts.seq, tok.vocab_size());
  std::vector<int64_t> slot_ordinal;  // candidate ordinal held by each reservoir slot
  const int64_t k = opts.max_candidates;
  CandidateScan scan = scan_candidates(pool, tok, types, opts, progress,
                                       [&](int64_t ord, const CandidateSummary&, std::span<const int32_t> first) {
    if (ord < k) {
      rows.add(first);
      slot_ordinal.push_back(ord);
      return;
    }
    const int64_t j = int64_t(uniform_below(rng, uint64_t(ord + 1)));
    if (j < k) {
      rows.set(j, first);
      slot_ordinal[size_t(j)] = ord;
    }
  });
  check_enough_candidates(pool, scan, opts);
  std::vector<size_t> order(slot_ordinal.size());
  std::iota(order.begin(), order.end(), size_t(0));
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return slot_ordinal[a] < slot_ordinal[b]; });
  std::vector<Candidate> out;
  out.reserve(order.size());
  for (size_t slot : order) {
    const CandidateSummary& c = scan.candidates[size_t(slot_ordinal[slot])];
    Candidate cand;
    cand.doc_index = c.doc_index;
    cand.source = c.source;
    cand.tokens.reserve(size_t(opts.seq));
    rows.get(int64_t(slot), cand.tokens);
    out.push_back(std::move(cand));
  }
  if (scan_out) *scan_out = std::move(scan);
  return out;
}

}  // namespace lmp
