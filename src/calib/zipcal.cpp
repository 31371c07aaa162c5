// ZipCal (Monaco et al. 2026, arXiv 2603.16105): greedily add the candidate contributing the most normalized
// token types not yet covered. Deviations (docs/calibration.md): types are decoded single token ids, not words; each
// step scores a seeded sample of <= --zipcal-candidates remaining candidates (linear in the pool); ties -> more types.
#include "calib/zipcal.h"

#include "calib/rng.h"
#include "core/error.h"

namespace lmp {

namespace {

// Types of `set` not yet covered.
int64_t gain(const std::vector<uint32_t>& set, const std::vector<char>& covered) {
  int64_t g = 0;
  for (uint32_t t : set) g += covered[t] ? 0 : 1;
  return g;
}

}  // namespace

std::vector<int64_t> zipcal_greedy(const std::vector<std::vector<uint32_t>>& type_sets, size_t num_types,
                                   int64_t n, int64_t per_step, uint64_t seed) {
  LMP_CHECK(n >= 0 && size_t(n) <= type_sets.size(), "zipcal: asked for ", n, " samples of ", type_sets.size(),
            " candidates");
  LMP_CHECK(per_step >= 1, "zipcal: --zipcal-candidates must be at least 1, found ", per_step);
  SelectRng rng(seed);
  std::vector<char> covered(num_types, 0);
  std::vector<int64_t> remaining(type_sets.size());
  for (size_t i = 0; i < remaining.size(); ++i) remaining[i] = int64_t(i);
  std::vector<int64_t> picked;
  picked.reserve(size_t(n));
  while (int64_t(picked.size()) < n) {
    const size_t m = sample_to_front(remaining, size_t(per_step), rng);
    size_t best = 0;
    int64_t best_gain = -1, best_size = -1;
    for (size_t j = 0; j < m; ++j) {
      const auto& set = type_sets[size_t(remaining[j])];
      const int64_t g = gain(set, covered), sz = int64_t(set.size());
      const bool better = g > best_gain || (g == best_gain && (sz > best_size ||
                                            (sz == best_size && remaining[j] < remaining[best])));
      if (better) best = j, best_gain = g, best_size = sz;
    }
    const int64_t choice = remaining[best];
    for (uint32_t t : type_sets[size_t(choice)]) covered[t] = 1;
    picked.push_back(choice);
    remaining[best] = remaining.back();
    remaining.pop_back();
  }
  return picked;
}

Selection select_zipcal(const std::string& pool, const Tokenizer& tok, const TypeTable& types,
                        const SelectOptions& opts, bool progress, CandidateScan* scan_out) {
  TokenRows rows(opts.seq, tok.vocab_size());
  std::vector<std::vector<uint32_t>> sets;
  CandidateScan scan = scan_candidates(pool, tok, &types, opts, progress,
                                       [&](int64_t, const CandidateSummary&, std::span<const int32_t> first) {
    rows.add(first);
    sets.push_back(types.type_set(first));
  });
  check_enough_candidates(pool, scan, opts);
  const std::vector<int64_t> picked = zipcal_greedy(sets, types.num_types(), opts.n, opts.zipcal_candidates, opts.seed);
  Selection sel;
  sel.n = opts.n;
  sel.seq = opts.seq;
  sel.input_ids.reserve(size_t(opts.n * opts.seq));
  for (int64_t c : picked) {
    rows.get(c, sel.input_ids);
    sel.source_indices.push_back(scan.candidates[size_t(c)].doc_index);
    sel.sources.push_back(scan.candidates[size_t(c)].source);
  }
  if (scan_out) *scan_out = std::move(scan);
  return sel;
}

}  // namespace lmp
