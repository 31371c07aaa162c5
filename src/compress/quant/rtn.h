// Round-to-nearest: GPTQ's quantizer applied group by group, no calibration data.
#pragma once
#include <cstdint>

#include "compress/compressed_linear.h"
#include "compress/quant/quantizer.h"

namespace lmp {

// Quantizes w [out, in] in groups of `group` consecutive input columns (the last one partial; -1 = the
// whole row). Returns Kind::Quantized with the grid and the dequantized weight.
CompressedLinear rtn_quantize(const Tensor& w, const QuantConfig& cfg, int64_t group);

}  // namespace lmp
