// Perplexity under the window protocol of shared/README.md: the token stream is cut into
// non-overlapping windows of `ctx` tokens (a trailing partial window is dropped); in each window every
// token but the first is scored given the earlier tokens of that window; ppl = exp(total NLL / scored).
// llama.cpp mode (`second_half`): each window starts with BOS and only its second half is scored, as
// llama.cpp's perplexity tool does. With a base model, also the KL divergence KL(P_base ‖ Q_model) per
// scored position and top-1 agreement (llama.cpp's gate for new quantizations).
#pragma once
#include <cstdint>
#include <span>

#include "model/model.h"

namespace lmp {

struct PerplexityOptions {
  int64_t ctx = 512;
  int64_t max_windows = 0;   // 0 = all
  bool second_half = false;  // llama.cpp-comparable scoring
  // Windows run through the model together (one forward of [windows_per_pass, ctx]): with streamed
  // blocks each block is converted once per pass instead of once per window. Each window is still its
  // own sequence (attention never crosses windows); the logits agree with one-window passes to
  // rounding (BLAS blocks the rows differently).
  int64_t windows_per_pass = 1;
};

struct PerplexityResult {
  double ppl = 0, nll = 0;  // nll: mean negative log-likelihood per scored token (nats)
  int64_t n_tokens = 0, windows = 0, scored_tokens = 0, ctx = 0;
  double seconds = 0, tokens_per_second = 0;
  bool has_base = false;  // fields below are set when a base model was given
  double ppl_base = 0, nll_base = 0, kld_mean = 0, top1_agreement = 0;
};

// `base`: optional reference model (same vocabulary) for KLD.
PerplexityResult evaluate_perplexity(const Model& model, std::span<const int32_t> tokens,
                                     const PerplexityOptions& opt, const Model* base = nullptr);

}  // namespace lmp
