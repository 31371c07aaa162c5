#include "compress/super_weights.h"

#include <cmath>

#include "core/error.h"
#include "io/checkpoint.h"

namespace lmp {

namespace {

struct Spike {
  float value = 0;
  int64_t index = 0;
};

Spike top_abs(const float* x, int64_t n, int64_t cols) {
  Spike s;
  for (int64_t i = 0; i < n; ++i)
    if (std::fabs(x[i]) > s.value) s = {std::fabs(x[i]), i % cols};
  return s;
}

// The down_proj output spike from its input x [rows, in]: y = x · Wᵀ, largest |y|.
Spike output_spike(const float* x, int64_t rows, const Tensor& w) {
  const int64_t out = w.dim(0), in = w.dim(1);
  const float* wd = w.f32();
  Spike s;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t o = 0; o < out; ++o) {
      double acc = 0;
      for (int64_t i = 0; i < in; ++i) acc += double(x[r * in + i]) * double(wd[o * in + i]);
      if (std::fabs(acc) > s.value) s = {float(std::fabs(acc)), o};
    }
  return s;
}

}  // namespace

std::vector<SuperWeightLayer> detect_super_weights(const Model& model, const std::vector<int32_t>& ids,
                                                   double threshold) {
  LMP_CHECK(!ids.empty(), "super weights: the prompt has no tokens");
  const ModelConfig& cfg = model.config();
  const int64_t rows = int64_t(ids.size());
  std::vector<float> x(size_t(rows * cfg.hidden_size));
  model.embed(ids, x.data());
  const BatchShape shape{1, rows, {}};
  BlockWorkspace ws;
  std::vector<SuperWeightLayer> found;
  for (int64_t b = 0; b < cfg.num_layers; ++b) {
    const BlockWeights& w = model.block(b);
    Spike in_spike, out_spike;
    const LinearHook hook = [&](const std::string& leaf, const float* a, int64_t n, int64_t cols) {
      if (leaf != "mlp.down_proj") return;
      in_spike = top_abs(a, n * cols, cols);
      out_spike = output_spike(a, n, w.down);
    };
    block_forward(cfg, w, model.rope(), b, x.data(), shape, nullptr, ws, hook);
    model.release_block(b);  // one block in memory at a time; the pipeline loads it again
    if (in_spike.value > threshold && out_spike.value > threshold)
      found.push_back({names::layer(b, "mlp.down_proj.weight"), out_spike.index, in_spike.index, in_spike.value,
                       out_spike.value});
  }
  return found;
}

}  // namespace lmp
