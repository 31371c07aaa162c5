#include "model/decoder.h"

#include <algorithm>

#include "core/error.h"

namespace lmp {

Decoder::Decoder(const Model& model, int64_t batch, int64_t capacity)
    : model_(model), batch_(batch), cache_(model.config(), batch, capacity) {}

const std::vector<float>& Decoder::prefill(std::span<const int32_t> ids, int64_t seq_len) {
  return run(ids, seq_len);
}

const std::vector<float>& Decoder::step(std::span<const int32_t> tokens) { return run(tokens, 1); }

const std::vector<float>& Decoder::run(std::span<const int32_t> ids, int64_t T) {
  const ModelConfig& c = model_.config();
  LMP_CHECK(int64_t(ids.size()) == batch_ * T, "decoder: expected ", batch_ * T, " ids (", batch_, " x ",
            T, "), found ", ids.size());
  LMP_CHECK(pos_ + T <= cache_.capacity(), "decoder: ", pos_ + T, " tokens exceed the cache capacity ",
            cache_.capacity());
  BatchShape shape{batch_, T, std::vector<int64_t>(size_t(batch_), pos_)};
  const int64_t dim = c.hidden_size;
  x_.resize(size_t(batch_ * T * dim));
  model_.embed(ids, x_.data());
  model_.forward_blocks(x_.data(), shape, &cache_);
  last_.resize(size_t(batch_ * dim));
  for (int64_t b = 0; b < batch_; ++b)
    std::copy_n(x_.data() + ((b + 1) * T - 1) * dim, dim, last_.data() + b * dim);
  logits_.resize(size_t(batch_ * c.vocab_size));
  model_.logits(last_.data(), batch_, logits_.data());
  pos_ += T;
  return logits_;
}

std::vector<std::vector<int32_t>> generate(const Model& model,
                                           const std::vector<std::vector<int32_t>>& prompts,
                                           const GenerateOptions& opt) {
  LMP_CHECK(!prompts.empty(), "generate: no prompts");
  const int64_t B = int64_t(prompts.size()), vocab = model.config().vocab_size;
  size_t min_len = prompts[0].size(), max_len = 0;
  for (const auto& p : prompts) {
    LMP_CHECK(!p.empty(), "generate: empty prompt (give at least BOS)");
    min_len = std::min(min_len, p.size());
    max_len = std::max(max_len, p.size());
  }
  LMP_CHECK(opt.max_new_tokens >= 0, "generate: max tokens must be >= 0, found ", opt.max_new_tokens);
  if (opt.max_new_tokens == 0) return prompts;
  const int64_t capacity = int64_t(max_len) + opt.max_new_tokens;
  const int64_t max_ctx = model.config().max_position_embeddings;
  LMP_CHECK(max_ctx <= 0 || capacity <= max_ctx, "generate: prompt (", max_len, ") + max tokens (",
            opt.max_new_tokens, ") exceeds the model's context ", max_ctx);
  Decoder dec(model, B, capacity);
  std::vector<int32_t> ids;
  for (const auto& p : prompts) ids.insert(ids.end(), p.begin(), p.begin() + int64_t(min_len));
  const std::vector<float>* logits = &dec.prefill(ids, int64_t(min_len));

  std::vector<std::vector<int32_t>> out = prompts;
  std::vector<bool> done(size_t(B), false);
  const auto& eos = model.config().eos_token_ids;
  const int32_t tok_eos = model.has_tokenizer() ? model.tokenizer().eos_id() : -1;
  auto is_eos = [&](int32_t t) {
    return t == tok_eos || std::find(eos.begin(), eos.end(), t) != eos.end();
  };
  Rng rng(opt.seed);
  std::vector<std::pair<float, int32_t>> scratch;
  std::vector<int32_t> next(static_cast<size_t>(B));
  for (int64_t pos = int64_t(min_len);; ++pos) {
    bool all_done = true;
    for (int64_t b = 0; b < B; ++b) {
      const auto& p = prompts[size_t(b)];
      auto& seq = out[size_t(b)];
      if (pos < int64_t(p.size())) {  // still inside this prompt: force its token
        next[size_t(b)] = p[size_t(pos)];
      } else if (!done[size_t(b)]) {
        const int32_t t = sample_token(logits->data() + b * vocab, vocab, opt.sampling, rng, scratch);
        seq.push_back(t);
        next[size_t(b)] = t;
        const int64_t generated = int64_t(seq.size() - p.size());
        if ((opt.stop_at_eos && is_eos(t)) || generated >= opt.max_new_tokens) done[size_t(b)] = true;
      } else {
        next[size_t(b)] = seq.back();  // finished: feed a filler so the batch advances
      }
      all_done = all_done && done[size_t(b)];
    }
    if (all_done || pos + 1 >= capacity) break;
    logits = &dec.step(next);
  }
  return out;
}

}  // namespace lmp
