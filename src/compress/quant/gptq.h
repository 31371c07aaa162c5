// GPTQ (Frantar et al., ICLR 2023): quantize a linear column by column, feeding each column's error
// back into the columns not yet quantized through the inverse Hessian of its inputs.
#pragma once
#include <cstdint>
#include <string>

#include "compress/compressed_linear.h"
#include "compress/linear_stats.h"
#include "compress/quant/quantizer.h"

namespace lmp {

struct GptqOptions {
  QuantConfig cfg;
  int64_t group = 128;         // -1: one group per row
  bool act_order = false;      // columns by decreasing diag(H)
  bool static_groups = false;  // group params from the original W of consecutive original columns
  double damp = 0.01;          // fraction of mean(diag H) added to the diagonal
  int64_t block_size = 128;    // lazy-update block
};

// `stats.hessian` is Σ xᵀx [in, in]. Returns Kind::Quantized with the grid (codes in the original
// column order, g_idx the group of each original column) and the dequantized weight.
// `mask` (U8 [out, in], 1 = kept; empty = none) is the mask of a pruning stage before GPTQ: the masked
// weights are held at 0 during the sweep — their value (0 at the start, moved by the feedback of earlier
// columns) is their error, fed forward like any other column entry — group grids are found as if they
// were 0, and the result carries the mask (codes of pruned weights = the zero point).
CompressedLinear gptq_quantize(const std::string& name, const Tensor& w, const LinearStats& stats,
                               const GptqOptions& opt, const Tensor& mask = Tensor());
// The same with the statistics handed over: the Hessian is factorized in its own buffer (no in² copy).
CompressedLinear gptq_quantize(const std::string& name, const Tensor& w, LinearStats&& stats,
                               const GptqOptions& opt, const Tensor& mask = Tensor());

}  // namespace lmp
