#include "model/sampler.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace lmp {

double Rng::uniform() { return double(gen_() >> 11) * 0x1.0p-53; }

int32_t argmax(const float* logits, int64_t n) {
  int64_t best = 0;
  for (int64_t i = 1; i < n; ++i)
    if (logits[i] > logits[best]) best = i;
  return int32_t(best);
}

int32_t sample_token(const float* logits, int64_t vocab, const SamplingParams& p, Rng& rng,
                     std::vector<std::pair<float, int32_t>>& cand) {
  LMP_CHECK(p.temperature >= 0 && std::isfinite(p.temperature), "sampler: temperature must be >= 0, found ",
            p.temperature);
  LMP_CHECK(p.top_p > 0 && p.top_p <= 1, "sampler: top_p must be in (0, 1], found ", p.top_p);
  LMP_CHECK(p.top_k >= 0, "sampler: top_k must be >= 0, found ", p.top_k);
  if (p.temperature == 0.0f || p.top_k == 1) return argmax(logits, vocab);

  // Candidates sorted by logit (descending), cut to top-k.
  cand.resize(size_t(vocab));
  for (int64_t i = 0; i < vocab; ++i) cand[size_t(i)] = {logits[i], int32_t(i)};
  const int64_t k = (p.top_k > 0 && p.top_k < vocab) ? p.top_k : vocab;
  auto by_logit = [](const auto& a, const auto& b) { return a.first > b.first || (a.first == b.first && a.second < b.second); };
  std::partial_sort(cand.begin(), cand.begin() + k, cand.end(), by_logit);
  cand.resize(size_t(k));

  // Tempered softmax over the candidates.
  const float mx = cand[0].first;
  double total = 0.0;
  for (auto& c : cand) {
    c.first = float(std::exp(double(c.first - mx) / double(p.temperature)));
    total += c.first;
  }
  // Nucleus: the smallest prefix whose probability mass reaches top_p.
  size_t keep = cand.size();
  if (p.top_p < 1.0f) {
    double acc = 0.0;
    for (size_t i = 0; i < cand.size(); ++i) {
      acc += cand[i].first / total;
      if (acc >= p.top_p) { keep = i + 1; break; }
    }
  }
  double mass = 0.0;
  for (size_t i = 0; i < keep; ++i) mass += cand[i].first;
  double u = rng.uniform() * mass;
  for (size_t i = 0; i < keep; ++i) {
    u -= cand[i].first;
    if (u < 0) return cand[i].second;
  }
  return cand[keep - 1].second;
}

}  // namespace lmp
