// Self-calibration (Williams et al., "Self-calibration for Language Model Quantization and Pruning",
// NAACL 2025): the model writes its own calibration data, sampling from BOS with a temperature that
// moves linearly from t_start to t_end.
#pragma once
#include <cstdint>
#include <functional>

#include "calib/selection.h"
#include "model/model.h"
#include "model/sampler.h"

namespace lmp {

// Temperature for the token sampled `step` tokens after the most recent BOS (step 0 = the first token
// after BOS): t_start + (t_end - t_start) * min(step, t_steps) / t_steps; t_end when t_steps == 0.
double temperature_at(int64_t step, const SelectOptions& opt);

// Samples from softmax(logits / temperature) (temperature > 0) with no top-k / top-p cut.
// `scratch` avoids reallocation across calls.
int32_t sample_at_temperature(const float* logits, int64_t vocab, double temperature, Rng& rng,
                              std::vector<float>& scratch);

// The token sampler the generator calls for row `row` at position `pos` (seam for tests).
using SelfSampler = std::function<int32_t(int64_t row, int64_t pos, const float* logits, int64_t vocab,
                                          double temperature, Rng& rng)>;

// N = opt.n sequences of L = opt.seq tokens decoded as one batch; the first token is BOS, an EOS is
// followed by BOS and the schedule restarts. Row r draws from its own Rng seeded by (opt.seed, r).
// A null `sampler` uses sample_at_temperature.
Selection select_self(const Model& model, const SelectOptions& opt, const SelfSampler& sampler);
Selection select_self(const Model& model, const SelectOptions& opt);

}  // namespace lmp
