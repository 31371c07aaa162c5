// AA-SVD's block-level refinement (Sinha & Fleuret, arXiv 2604.02119; reference code atulkumarin/AA-SVD,
// model_adapter.py finetune_layer with loss_type 'mse'): after a block's linears are factorized, train
// the whole block end to end so that, on the compressed model's own stream x̂ (the shifted inputs), its
// output matches the original block's output y on the original inputs:
//   min  mean (block(x̂) − y)²   over every factor, dense linear, bias and both RMSNorm weights,
// with AdamW (wd 0.01), clip_grad_norm_(1.0) and the warmup-cosine schedule (train/lr_schedule.h), one
// step per batch of sequences, batches in order without shuffling, as the reference does.
// Deviation: a non-finite loss or gradient norm stops with an error (the reference would go on).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "model/block_weights.h"
#include "model/model_config.h"
#include "model/rope.h"

namespace lmp {

struct RefineOptions {
  int64_t epochs = 25;        // the reference's num_steps (passes over the calibration set)
  double lr = 1e-4;
  double weight_decay = 0.01;
  int64_t batch = 32;         // sequences per optimizer step (the last batch may be smaller)
  double max_grad_norm = 1.0;
  // Trainable tensors (trainable_tensors() names, e.g. "mlp.down_proj.weight") left as they are: a
  // quantized or pruned linear beside the factored ones keeps its representation.
  std::vector<std::string> frozen;
};

struct RefineReport {
  std::vector<double> epoch_loss;  // per epoch: the sum of its batch losses (the reference's epoch_loss)
  double mse_before = 0, mse_after = 0;  // mean (block(x̂) − y)² over the whole set, first and final weights
  int64_t steps = 0;                     // optimizer steps taken
  size_t tape_bytes = 0;                 // the largest batch's tape
};

// Trains w in place. x_hat and y are [n·seq, hidden], n sequences of seq tokens at positions 0..seq-1.
// On an error (a non-finite loss names the block, epoch and step) w is left exactly as it was given.
RefineReport refine_block(const ModelConfig& cfg, const Rope& rope, int64_t layer, BlockWeights& w,
                          const float* x_hat, const float* y, int64_t n, int64_t seq,
                          const RefineOptions& opts = {});

}  // namespace lmp
