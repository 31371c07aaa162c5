// Random selection, as GPTQ's data loaders do: uniform candidates (seeded), and from each a seeded
// random window of L tokens.
#pragma once
#include <string>

#include "calib/candidates.h"
#include "calib/selection.h"
#include "calib/token_types.h"

namespace lmp {

// Two passes: the first finds the candidates (documents with at least L tokens; packed samples with
// --pack), the second re-reads the pool up to the last chosen document and tokenizes only the chosen.
// `types` (optional) gets the pool's type counts into `scan`.
Selection select_random(const std::string& pool, const Tokenizer& tok, const TypeTable* types,
                        const SelectOptions& opts, bool progress = true, CandidateScan* scan = nullptr);

}  // namespace lmp
