// Validation shared by the quantization factories and methods: one-line errors naming the method and
// the flag or tensor, expected vs found.
#pragma once
#include <string>

#include "compress/linear_method.h"
#include "compress/quant/quantizer.h"
#include "core/tensor.h"

namespace lmp {

// bits in [lo, hi], group -1 or >= 1, damp >= 0, block_size >= 1.
void check_quant_spec(const std::string& method, const MethodSpec& spec, int lo = 2, int hi = 8);
// The grid settings of a RTN / GPTQ spec.
inline QuantConfig quant_config(const MethodSpec& spec) {
  return {spec.bits, spec.sym, spec.scales_f16, spec.mse};
}
// `weight` is a 2-D F32 tensor with finite values.
void check_weight(const std::string& method, const std::string& name, const Tensor& weight);

}  // namespace lmp
