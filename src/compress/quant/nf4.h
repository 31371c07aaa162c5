// NF4 (QLoRA, Dettmers et al., 2023): the bitsandbytes 4-bit NormalFloat codebook with one absmax per
// block of 64 consecutive weights (row-major flattening), optionally double-quantized absmax values.
#pragma once
#include <cstdint>
#include <vector>

#include "compress/compressed_linear.h"

namespace lmp {

// The 16 published NF4 values, ascending (bitsandbytes' NF4 table).
const std::vector<float>& nf4_codebook();
// Index of the codebook value nearest to x in [-1, 1] (midpoint thresholds; a tie goes to the lower).
uint8_t nf4_code(float x);
// Quantizes w [out, in]; the last block is partial when 64 does not divide out·in.
CompressedLinear nf4_quantize(const Tensor& w, int64_t block, bool double_quant);

}  // namespace lmp
