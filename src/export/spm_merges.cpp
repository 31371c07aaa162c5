#include "export/spm_merges.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <tuple>

#include "tokenizer/utf8.h"

namespace lmp {
namespace {

struct Candidate {
  float score;
  int32_t left_chars, right_chars;  // lengths in code points
  int32_t id, left_id, right_id;
};

// Rank order: score descending, longer left then longer right first, then vocabulary order.
bool ranks_before(const Candidate& a, const Candidate& b) {
  return std::tie(b.score, b.left_chars, b.right_chars, a.id, a.left_id, a.right_id) <
         std::tie(a.score, a.left_chars, a.right_chars, b.id, b.left_id, b.right_id);
}

bool mergeable(SpmTokenType t) { return t == SpmTokenType::Normal || t == SpmTokenType::UserDefined; }

// The candidates of one piece: each split into two pieces of the vocabulary.
void add_splits(const std::string& p, int32_t id, float score, const SpmTokenizer& tok, std::vector<Candidate>& out) {
  std::vector<size_t> starts;
  for (size_t i = 0; i < p.size();) {
    starts.push_back(i);
    char32_t cp;
    i += utf8::decode(p, i, &cp);
  }
  const auto n = int32_t(starts.size());
  for (int32_t k = 1; k < n; ++k) {
    const int32_t l = tok.token_id(std::string_view(p).substr(0, starts[k]));
    const int32_t r = tok.token_id(std::string_view(p).substr(starts[k]));
    if (l >= 0 && r >= 0) out.push_back(Candidate{score, k, n - k, id, l, r});
  }
}

}  // namespace

std::vector<SpmMerge> spm_merges(const SpmVocab& vocab, const SpmTokenizer& tok) {
  std::vector<Candidate> cands;
  for (int32_t id = 0; id < int32_t(vocab.pieces.size()); ++id) {
    const std::string& p = vocab.pieces[id];
    // Pieces that are not valid UTF-8 never match text; a duplicate piece is its first id's.
    if (!mergeable(tok.type(id)) || utf8::find_invalid(p) >= 0 || tok.token_id(p) != id) continue;
    const float score = vocab.scores.empty() ? 0.0f : vocab.scores[id];
    add_splits(p, id, std::isnan(score) ? -INFINITY : score, tok, cands);  // NaN would break the sort
  }
  std::sort(cands.begin(), cands.end(), ranks_before);
  std::vector<SpmMerge> merges;
  merges.reserve(cands.size());
  for (const Candidate& c : cands) merges.push_back({vocab.pieces[c.left_id], vocab.pieces[c.right_id]});
  return merges;
}

}  // namespace lmp
