// ZipCal (Monaco et al., "Frequency Matters: Fast Model-Agnostic Data Curation for Pruning and
// Quantization", arXiv 2603.16105): greedy lexical coverage over normalized token types. See zipcal.cpp
// for the procedure and its deviations from the reference implementation.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "calib/candidates.h"
#include "calib/selection.h"
#include "calib/token_types.h"

namespace lmp {

// The greedy step on given type sets (sorted unique type ids per candidate, types < num_types): picks
// n of them; at each step a seeded sample of up to `per_step` remaining candidates is scored and the
// one adding the most uncovered types wins (ties: more types in total, then the lower index).
// Returns the picked indices in pick order. n must not exceed type_sets.size().
std::vector<int64_t> zipcal_greedy(const std::vector<std::vector<uint32_t>>& type_sets, size_t num_types,
                                   int64_t n, int64_t per_step, uint64_t seed);

// ZipCal over a pool: one pass (tokenize, candidates' type sets and first L tokens), then the greedy
// step. `scan` (optional) receives the pass's statistics.
Selection select_zipcal(const std::string& pool, const Tokenizer& tok, const TypeTable& types,
                        const SelectOptions& opts, bool progress = true, CandidateScan* scan = nullptr);

}  // namespace lmp
