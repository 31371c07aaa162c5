// least-ppl: keep the N candidates the dense model finds least perplexing — the model-based baseline
// of Monaco et al., "Frequency Matters: Fast Model-Agnostic Data Curation for Pruning and
// Quantization" (arXiv 2603.16105).
#pragma once
#include <vector>

#include "calib/selection.h"
#include "model/model.h"

namespace lmp {

// Checks what every model-based selector needs: 1 <= opt.n <= candidates, opt.seq >= 2 within the
// model's context, each candidate exactly opt.seq tokens. `who` names the selector in errors.
void check_candidates(const Model& model, const std::vector<Candidate>& candidates,
                      const SelectOptions& opt, const char* who);
// The Selection made of candidates[order[0]], candidates[order[1]], ... (order.size() rows).
Selection selection_of(const std::vector<Candidate>& candidates, const std::vector<int64_t>& order,
                       int64_t seq);

// Mean NLL (nats) of each candidate's tokens 1..L-1, each given the tokens before it. Candidates run
// `batch` at a time; logits are computed in row chunks, so memory does not grow with batch × vocab.
std::vector<double> candidate_nll(const Model& model, const std::vector<Candidate>& candidates,
                                  int64_t batch = 8);

// Candidate indices by increasing score; ties go to the lower doc_index, NaN scores last.
std::vector<int64_t> rank_by_score(const std::vector<double>& score, const std::vector<Candidate>& candidates);

// The opt.n candidates with the lowest mean NLL (ties: lower doc_index), in that order.
Selection select_least_ppl(const Model& model, const std::vector<Candidate>& candidates,
                           const SelectOptions& opt);

}  // namespace lmp
