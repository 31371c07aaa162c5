// least-ppl: the model-based baseline of Monaco et al. (arXiv 2603.16105): rank candidates by the
// dense model's perplexity on their first L tokens and keep the N least perplexing. Score = mean NLL of
// tokens 1..L-1 (the same ranking as perplexity); ties go to the lower pool index.
#include "calib/least_ppl.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "core/error.h"
#include "core/progress.h"
#include "model/ops.h"

namespace lmp {

void check_candidates(const Model& model, const std::vector<Candidate>& candidates,
                      const SelectOptions& opt, const char* who) {
  LMP_CHECK(opt.seq >= 2, who, ": --seq must be >= 2 to score a sample, found ", opt.seq);
  const int64_t ctx = model.config().max_position_embeddings;
  LMP_CHECK(ctx <= 0 || opt.seq <= ctx, who, ": --seq ", opt.seq, " exceeds the context of ",
            model.checkpoint().path(), " (", ctx, ")");
  LMP_CHECK(opt.n >= 1, who, ": --n must be >= 1, found ", opt.n);
  LMP_CHECK(int64_t(candidates.size()) >= opt.n, who, ": need ", opt.n, " candidates of >= ", opt.seq,
            " tokens, found ", candidates.size());
  for (const Candidate& c : candidates)
    LMP_CHECK(int64_t(c.tokens.size()) == opt.seq, who, ": candidate (document ", c.doc_index,
              ") expected ", opt.seq, " tokens, found ", c.tokens.size());
}

Selection selection_of(const std::vector<Candidate>& candidates, const std::vector<int64_t>& order,
                       int64_t seq) {
  Selection s;
  s.n = int64_t(order.size());
  s.seq = seq;
  s.input_ids.reserve(size_t(s.n * seq));
  for (int64_t i : order) {
    const Candidate& c = candidates.at(size_t(i));
    s.input_ids.insert(s.input_ids.end(), c.tokens.begin(), c.tokens.end());
    s.source_indices.push_back(c.doc_index);
    s.sources.push_back(c.source);
  }
  return s;
}

namespace {

// Logit rows computed at once: about 64 MB of logits, whatever the vocabulary.
int64_t logit_chunk_rows(int64_t vocab) { return std::max<int64_t>(16, (int64_t(1) << 24) / vocab); }

// Adds, for each sequence of the batch, the NLL of its tokens 1..L-1 given the hidden states
// hidden [B*L, dim] after the last block.
void add_batch_nll(const Model& model, const float* hidden, const int32_t* ids, int64_t B, int64_t L,
                   std::vector<float>& logits, double* nll) {
  const int64_t vocab = model.config().vocab_size, dim = model.config().hidden_size;
  const int64_t chunk = logit_chunk_rows(vocab), rows = B * L;
  std::vector<double> row_nll(size_t(rows), 0.0);
  logits.resize(size_t(std::min(chunk, rows) * vocab));
  for (int64_t r0 = 0; r0 < rows; r0 += chunk) {
    const int64_t n = std::min(chunk, rows - r0);
    model.logits(hidden + r0 * dim, n, logits.data());
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < n; ++i) {
      const int64_t r = r0 + i;
      if (r % L == L - 1) continue;  // the last position predicts nothing inside the sample
      const float* row = logits.data() + i * vocab;
      row_nll[size_t(r)] = log_sum_exp(row, vocab) - double(row[ids[r + 1]]);
    }
  }
  for (int64_t b = 0; b < B; ++b)
    for (int64_t t = 0; t < L - 1; ++t) nll[b] += row_nll[size_t(b * L + t)];
}

}  // namespace

std::vector<double> candidate_nll(const Model& model, const std::vector<Candidate>& candidates,
                                  int64_t batch) {
  LMP_CHECK(batch >= 1, "least-ppl: batch must be >= 1, found ", batch);
  std::vector<double> nll(candidates.size(), 0.0);
  if (candidates.empty()) return nll;
  const int64_t L = int64_t(candidates[0].tokens.size()), dim = model.config().hidden_size;
  LMP_CHECK(L >= 2, "least-ppl: candidates need >= 2 tokens, found ", L);
  std::vector<int32_t> ids;
  std::vector<float> hidden, logits;
  Progress progress("least-ppl: scoring", int64_t(candidates.size()), "samples");
  for (size_t c0 = 0; c0 < candidates.size(); c0 += size_t(batch)) {
    const int64_t B = std::min<int64_t>(batch, int64_t(candidates.size() - c0));
    ids.clear();
    for (int64_t b = 0; b < B; ++b) {
      const auto& t = candidates[c0 + size_t(b)].tokens;
      LMP_CHECK(int64_t(t.size()) == L, "least-ppl: candidate (document ", candidates[c0 + size_t(b)].doc_index,
                ") expected ", L, " tokens, found ", t.size());
      ids.insert(ids.end(), t.begin(), t.end());
    }
    hidden.resize(size_t(B * L * dim));
    model.embed(ids, hidden.data());
    model.forward_blocks(hidden.data(), BatchShape{B, L, {}});
    add_batch_nll(model, hidden.data(), ids.data(), B, L, logits, nll.data() + c0);
    progress.add(B);
  }
  progress.finish();
  for (double& v : nll) v /= double(L - 1);
  return nll;
}

std::vector<int64_t> rank_by_score(const std::vector<double>& score, const std::vector<Candidate>& candidates) {
  LMP_CHECK(score.size() == candidates.size(), "least-ppl: expected ", candidates.size(), " scores, found ",
            score.size());
  auto key = [&](int64_t i) {  // a NaN score (a broken model) ranks last, not undefined
    return std::isnan(score[size_t(i)]) ? std::numeric_limits<double>::infinity() : score[size_t(i)];
  };
  std::vector<int64_t> order(candidates.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
    if (key(a) != key(b)) return key(a) < key(b);
    return candidates[size_t(a)].doc_index < candidates[size_t(b)].doc_index;
  });
  return order;
}

Selection select_least_ppl(const Model& model, const std::vector<Candidate>& candidates,
                           const SelectOptions& opt) {
  check_candidates(model, candidates, opt, "least-ppl");
  std::vector<int64_t> order = rank_by_score(candidate_nll(model, candidates), candidates);
  order.resize(size_t(opt.n));
  return selection_of(candidates, order, opt.seq);
}

}  // namespace lmp
