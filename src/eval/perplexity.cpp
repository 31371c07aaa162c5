#include "eval/perplexity.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <vector>

#include "core/error.h"
#include "core/progress.h"
#include "model/ops.h"
#include "model/sampler.h"

namespace lmp {

namespace {

struct WindowScore {
  double nll = 0, nll_base = 0, kld = 0;
  int64_t scored = 0, agree = 0;
};

// log-softmax of one row into `out` (double accumulation for the normalizer).
void log_softmax(const float* row, int64_t n, std::vector<double>& out) {
  const double lse = log_sum_exp(row, n);
  out.resize(size_t(n));
  for (int64_t i = 0; i < n; ++i) out[size_t(i)] = double(row[i]) - lse;
}

// One scored position's terms.
struct PositionScore {
  double nll = 0, nll_base = 0, kld = 0;
  bool agree = false;
};

PositionScore score_position(const float* q, const float* p, int32_t target, int64_t vocab,
                             std::vector<double>& lq, std::vector<double>& lp) {
  PositionScore r;
  r.nll = log_sum_exp(q, vocab) - double(q[target]);
  if (!p) return r;
  log_softmax(q, vocab, lq);
  log_softmax(p, vocab, lp);
  for (int64_t i = 0; i < vocab; ++i) r.kld += std::exp(lp[size_t(i)]) * (lp[size_t(i)] - lq[size_t(i)]);
  r.nll_base = -lp[size_t(target)];
  r.agree = argmax(q, vocab) == argmax(p, vocab);
  return r;
}

// Scores positions [first, ctx-1) of one window: logits row j predicts window token j+1. Positions are
// scored in parallel and summed in order, so the totals are the same at any thread count.
WindowScore score_window(std::span<const int32_t> win, const float* logits, const float* base_logits, int64_t vocab,
                         int64_t first) {
  const int64_t ctx = int64_t(win.size());
  std::vector<PositionScore> pos(size_t(std::max<int64_t>(0, ctx - 1 - first)));
#pragma omp parallel
  {
    std::vector<double> lq, lp;
#pragma omp for schedule(static)
    for (int64_t j = first; j < ctx - 1; ++j) {
      const float* p = base_logits ? base_logits + j * vocab : nullptr;
      pos[size_t(j - first)] = score_position(logits + j * vocab, p, win[size_t(j + 1)], vocab, lq, lp);
    }
  }
  WindowScore s;
  for (const PositionScore& r : pos) {
    s.nll += r.nll;
    s.nll_base += r.nll_base;
    s.kld += r.kld;
    s.scored += 1;
    s.agree += r.agree;
  }
  return s;
}

}  // namespace

PerplexityResult evaluate_perplexity(const Model& model, std::span<const int32_t> tokens,
                                     const PerplexityOptions& opt, const Model* base) {
  const auto t0 = std::chrono::steady_clock::now();
  const int64_t ctx = opt.ctx, n = int64_t(tokens.size()), vocab = model.config().vocab_size;
  LMP_CHECK(ctx >= 2, "perplexity: --ctx must be at least 2, found ", ctx);
  LMP_CHECK(model.config().max_position_embeddings <= 0 || ctx <= model.config().max_position_embeddings,
            "perplexity: --ctx ", ctx, " exceeds the model's max_position_embeddings ",
            model.config().max_position_embeddings);
  LMP_CHECK(n >= ctx, "perplexity: the text has ", n, " tokens, fewer than one window of --ctx ", ctx);
  if (base)
    LMP_CHECK(base->config().vocab_size == vocab, "perplexity: base model vocabulary ",
              base->config().vocab_size, " differs from the model's ", vocab);
  int64_t windows = n / ctx;
  if (opt.max_windows > 0) windows = std::min(windows, opt.max_windows);
  const int64_t first = opt.second_half ? ctx / 2 : 0;
  const int32_t bos = model.has_tokenizer() ? model.tokenizer().bos_id() : model.config().bos_token_id;

  PerplexityResult r;
  r.has_base = base != nullptr;
  r.n_tokens = n;
  r.windows = windows;
  r.ctx = ctx;
  WindowScore total;
  Progress progress("perplexity", windows, "windows");
  const int64_t per_pass = std::max<int64_t>(1, opt.windows_per_pass);
  std::vector<int32_t> ids;
  std::vector<float> logits, base_logits;
  for (int64_t w0 = 0; w0 < windows; w0 += per_pass) {
    const int64_t nw = std::min(per_pass, windows - w0);
    ids.assign(tokens.begin() + w0 * ctx, tokens.begin() + (w0 + nw) * ctx);
    if (opt.second_half && bos >= 0)
      for (int64_t k = 0; k < nw; ++k) ids[size_t(k * ctx)] = bos;
    const BatchShape shape{nw, ctx, {}};
    model.forward(ids, shape, logits);
    if (base) base->forward(ids, shape, base_logits);
    for (int64_t k = 0; k < nw; ++k) {
      const std::span<const int32_t> win(ids.data() + k * ctx, size_t(ctx));
      const WindowScore s = score_window(win, logits.data() + k * ctx * vocab,
                                         base ? base_logits.data() + k * ctx * vocab : nullptr, vocab, first);
      total.nll += s.nll;
      total.nll_base += s.nll_base;
      total.kld += s.kld;
      total.scored += s.scored;
      total.agree += s.agree;
    }
    progress.update(w0 + nw);
  }
  progress.finish();

  r.scored_tokens = total.scored;
  r.nll = total.nll / double(total.scored);
  r.ppl = std::exp(r.nll);
  if (base) {
    r.nll_base = total.nll_base / double(total.scored);
    r.ppl_base = std::exp(r.nll_base);
    r.kld_mean = total.kld / double(total.scored);
    r.top1_agreement = double(total.agree) / double(total.scored);
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  r.tokens_per_second = double(windows * ctx) / r.seconds;
  return r;
}

}  // namespace lmp
