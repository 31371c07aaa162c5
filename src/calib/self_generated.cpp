// Self-calibration (Williams et al., NAACL 2025, §3): calibration text sampled by the model itself from
// BOS, temperature scheduled linearly from t_start to t_end. The paper's schedule values are not public
// (defaults 1.5 -> 0.8 over 50 tokens are ours); no top-k / top-p; EOS is followed by BOS and the
// schedule restarts, so every sample is exactly L tokens.
#include "calib/self_generated.h"

#include <omp.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "core/progress.h"
#include "model/decoder.h"

namespace lmp {

double temperature_at(int64_t step, const SelectOptions& opt) {
  if (opt.t_steps <= 0 || step >= opt.t_steps) return opt.t_end;
  const double f = double(std::max<int64_t>(step, 0)) / double(opt.t_steps);
  return opt.t_start + (opt.t_end - opt.t_start) * f;
}

int32_t sample_at_temperature(const float* logits, int64_t vocab, double temperature, Rng& rng,
                              std::vector<float>& w) {
  LMP_CHECK(temperature > 0 && std::isfinite(temperature), "self-calibration: temperature must be > 0, found ",
            temperature);
  const float mx = *std::max_element(logits, logits + vocab);
  const float inv = float(1.0 / temperature);
  w.resize(size_t(vocab));
  float* p = w.data();
  double total = 0.0;
  for (int64_t c = 0; c < vocab; c += 1024) {  // f32 sums over chunks, double across them
    const int64_t end = std::min(vocab, c + 1024);
    float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
    for (int64_t i = c; i < end; ++i) {
      p[i] = std::exp((logits[i] - mx) * inv);
      sum += p[i];
    }
    total += double(sum);
  }
  double u = rng.uniform() * total;
  int64_t last = 0;
  for (int64_t i = 0; i < vocab; ++i) {
    if (p[i] <= 0.0f) continue;
    last = i;
    if ((u -= p[i]) < 0.0) return int32_t(i);
  }
  return int32_t(last);  // rounding left u >= 0: the last token with any weight
}

namespace {

// SplitMix64 finalizer: decorrelates the per-row seeds derived from one user seed.
uint64_t mix(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

int32_t bos_of(const Model& model) {
  const int32_t bos = model.has_tokenizer() ? model.tokenizer().bos_id() : model.config().bos_token_id;
  LMP_CHECK(bos >= 0, "self-calibration: model ", model.checkpoint().path(),
            " has no BOS token to start sampling from (expected a BOS id, found none)");
  return bos;
}

std::vector<int32_t> eos_of(const Model& model) {
  std::vector<int32_t> eos = model.config().eos_token_ids;
  if (model.has_tokenizer() && model.tokenizer().eos_id() >= 0) eos.push_back(model.tokenizer().eos_id());
  return eos;
}

void check_options(const Model& model, const SelectOptions& opt) {
  LMP_CHECK(opt.n >= 1, "self-calibration: --n must be >= 1, found ", opt.n);
  LMP_CHECK(opt.seq >= 1, "self-calibration: --seq must be >= 1, found ", opt.seq);
  const int64_t ctx = model.config().max_position_embeddings;
  LMP_CHECK(ctx <= 0 || opt.seq <= ctx, "self-calibration: --seq ", opt.seq, " exceeds the context of ",
            model.checkpoint().path(), " (", ctx, ")");
  LMP_CHECK(opt.t_start > 0 && std::isfinite(opt.t_start), "self-calibration: --t-start must be > 0, found ",
            opt.t_start);
  LMP_CHECK(opt.t_end > 0 && std::isfinite(opt.t_end), "self-calibration: --t-end must be > 0, found ",
            opt.t_end);
  LMP_CHECK(opt.t_steps >= 0, "self-calibration: --t-steps must be >= 0, found ", opt.t_steps);
  // The batch's KV cache and logits must fit in memory: refuse instead of dying in the allocator.
  const ModelConfig& c = model.config();
  const double need = 4.0 * double(opt.n) * (2.0 * double(c.num_layers) * double(opt.seq) * double(c.kv_dim()) +
                                             double(c.vocab_size) + double(opt.seq));
  const double have = double(sysconf(_SC_PHYS_PAGES)) * double(sysconf(_SC_PAGE_SIZE));
  LMP_CHECK(have <= 0 || need < have, "self-calibration: ", opt.n, " x ", opt.seq, " tokens need ",
            need / 1e9, " GB of KV cache and logits, more than this machine's ", have / 1e9,
            " GB; lower --n or --seq");
}

// Per-row generation state: tokens since the last BOS, and whether the next token is a forced BOS.
struct RowState {
  int64_t since_bos = 0;
  bool force_bos = false;
};

}  // namespace

Selection select_self(const Model& model, const SelectOptions& opt) { return select_self(model, opt, nullptr); }

Selection select_self(const Model& model, const SelectOptions& opt, const SelfSampler& sampler) {
  check_options(model, opt);
  const int32_t bos = bos_of(model);
  const std::vector<int32_t> eos = eos_of(model);
  const int64_t N = opt.n, L = opt.seq, vocab = model.config().vocab_size;
  Selection s;
  s.n = N;
  s.seq = L;
  s.input_ids.assign(size_t(N * L), bos);
  s.source_indices.assign(size_t(N), -1);
  s.sources.assign(size_t(N), -1);
  if (L == 1) return s;

  std::vector<Rng> rngs;
  for (int64_t r = 0; r < N; ++r) rngs.emplace_back(mix(opt.seed ^ mix(uint64_t(r))));
  std::vector<RowState> state(static_cast<size_t>(N));
  std::vector<std::vector<float>> scratch(static_cast<size_t>(omp_get_max_threads()));
  std::vector<int32_t> next(size_t(N), bos);
  Decoder dec(model, N, L);
  const std::vector<float>* logits = &dec.prefill(next, 1);
  Progress progress("self-calibration: generating", L - 1, "tokens");
  for (int64_t pos = 1; pos < L; ++pos) {
    auto draw = [&](int64_t r, std::vector<float>& w) {
      const RowState& st = state[size_t(r)];
      if (st.force_bos) return bos;
      const double temp = temperature_at(st.since_bos, opt);
      const float* row = logits->data() + r * vocab;
      return sampler ? sampler(r, pos, row, vocab, temp, rngs[size_t(r)])
                     : sample_at_temperature(row, vocab, temp, rngs[size_t(r)], w);
    };
    if (sampler) {  // a caller's sampler may not be thread-safe (and may throw)
      for (int64_t r = 0; r < N; ++r) next[size_t(r)] = draw(r, scratch[0]);
    } else {
#pragma omp parallel for schedule(static) if (N * vocab >= (int64_t(1) << 16))
      for (int64_t r = 0; r < N; ++r) next[size_t(r)] = draw(r, scratch[size_t(omp_get_thread_num())]);
    }
    for (int64_t r = 0; r < N; ++r) {
      const int32_t t = next[size_t(r)];
      LMP_CHECK(t >= 0 && t < vocab, "self-calibration: sampled token ", t, " outside the vocabulary [0, ",
                vocab, ")");
      RowState& st = state[size_t(r)];
      st.force_bos = std::find(eos.begin(), eos.end(), t) != eos.end();
      st.since_bos = (t == bos) ? 0 : st.since_bos + 1;
      s.input_ids[size_t(r * L + pos)] = t;
    }
    if (pos + 1 < L) logits = &dec.step(next);
    progress.update(pos);
  }
  progress.finish();
  return s;
}

}  // namespace lmp
