// Random calibration windows as in GPTQ (Frantar et al. 2023, datautils.py loaders): uniform documents,
// a uniform window of L tokens in each. Deviations: documents are drawn without replacement and among
// those with at least L tokens (GPTQ redraws short ones and may repeat); a window may start at token 0.
#include "calib/random_select.h"

#include <algorithm>
#include <unordered_map>

#include "calib/rng.h"
#include "core/error.h"

namespace lmp {

namespace {

struct Pick {
  int64_t ordinal, doc_index, start;
  int32_t source;
  int64_t packed_row;  // row in the packed store, -1 for a document
};

// Fills the rows of the picked documents (pass two).
void fetch_windows(const std::string& pool, const Tokenizer& tok, const SelectOptions& opts, bool progress,
                   const std::vector<Pick>& picks, const CandidateScan& scan,
                   std::unordered_map<int64_t, std::vector<int32_t>>& windows) {
  std::unordered_map<int64_t, size_t> by_doc;
  int64_t last = -1;
  for (size_t i = 0; i < picks.size(); ++i) {
    if (picks[i].packed_row >= 0) continue;
    by_doc[picks[i].doc_index] = i;
    last = std::max(last, picks[i].doc_index);
  }
  if (by_doc.empty()) return;
  ScanOptions so;
  so.text_field = opts.text_field;
  so.threads = opts.threads;
  so.progress = progress;
  so.wanted = [&](int64_t index) { return by_doc.count(index) > 0; };
  so.stop_after = last;
  scan_pool(pool, tok, so, [&](TokenizedDoc& d) {
    if (!d.tokenized) return;
    const Pick& p = picks[by_doc.at(d.index)];
    const int64_t expect = scan.candidates[size_t(p.ordinal)].n_tokens;
    LMP_CHECK(int64_t(d.tokens.size()) == expect, "pool ", pool, ": document ", d.index, " changed while reading (",
              d.tokens.size(), " tokens, expected ", expect, ")");
    windows[d.index].assign(d.tokens.begin() + p.start, d.tokens.begin() + p.start + opts.seq);
  });
  for (const auto& [doc, i] : by_doc)
    LMP_CHECK(windows.count(doc), "pool ", pool, ": document ", doc, " disappeared while reading");
}

}  // namespace

Selection select_random(const std::string& pool, const Tokenizer& tok, const TypeTable* types,
                        const SelectOptions& opts, bool progress, CandidateScan* scan_out) {
  TokenRows packed(opts.seq, tok.vocab_size());
  std::vector<int64_t> packed_row;  // per candidate ordinal: row in `packed`, -1 for documents
  CandidateScan scan = scan_candidates(pool, tok, types, opts, progress,
                                       [&](int64_t, const CandidateSummary& c, std::span<const int32_t> first) {
    packed_row.push_back(c.doc_index < 0 ? packed.add(first) : -1);
  });
  check_enough_candidates(pool, scan, opts);
  SelectRng rng(opts.seed);
  std::vector<int64_t> ordinals(scan.candidates.size());
  for (size_t i = 0; i < ordinals.size(); ++i) ordinals[i] = int64_t(i);
  sample_to_front(ordinals, size_t(opts.n), rng);
  std::vector<Pick> picks;
  for (int64_t i = 0; i < opts.n; ++i) {
    const int64_t o = ordinals[size_t(i)];
    const CandidateSummary& c = scan.candidates[size_t(o)];
    const int64_t start = int64_t(uniform_below(rng, uint64_t(c.n_tokens - opts.seq + 1)));
    picks.push_back({o, c.doc_index, start, c.source, packed_row[size_t(o)]});
  }
  std::unordered_map<int64_t, std::vector<int32_t>> windows;
  fetch_windows(pool, tok, opts, progress, picks, scan, windows);
  Selection sel;
  sel.n = opts.n;
  sel.seq = opts.seq;
  for (const Pick& p : picks) {
    if (p.packed_row >= 0) packed.get(p.packed_row, sel.input_ids);
    else sel.input_ids.insert(sel.input_ids.end(), windows[p.doc_index].begin(), windows[p.doc_index].end());
    sel.source_indices.push_back(p.doc_index);
    sel.sources.push_back(p.source);
  }
  if (scan_out) *scan_out = std::move(scan);
  return sel;
}

}  // namespace lmp
