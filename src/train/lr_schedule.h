// The learning-rate schedule of the AA-SVD reference's block refinement (Sinha & Fleuret, arXiv
// 2604.02119; model_adapter.py finetune_layer, a torch LambdaLR): linear warmup over the first
// int(0.1·total) steps, then a cosine decay from 1 to 0.1 of the base rate:
//   factor(s) = s / warmup                                                   s < warmup
//             = 0.1 + 0.9·0.5·(1 + cos(π·(s − warmup) / (total − warmup)))   otherwise
// Optimizer step s (0-based) runs at base_lr·factor(s), as LambdaLR sets it, so step 0 runs at 0 when
// there is a warmup.
#pragma once
#include <cstdint>

namespace lmp {

struct WarmupCosine {
  int64_t total = 0, warmup = 0;
  double factor(int64_t step) const;
};

// total = epochs·batches_per_epoch, warmup = int(0.1·total) (Python's truncation).
WarmupCosine warmup_cosine(int64_t epochs, int64_t batches_per_epoch);

}  // namespace lmp
