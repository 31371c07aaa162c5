// Spec and weight validation for the quantization methods.
#include "compress/quant/spec_check.h"

#include <cmath>

#include "core/error.h"

namespace lmp {

void check_quant_spec(const std::string& method, const MethodSpec& spec, int lo, int hi) {
  LMP_CHECK(spec.bits >= lo && spec.bits <= hi, method, ": --bits must be in [", lo, ", ", hi,
            "], found ", spec.bits);
  LMP_CHECK(spec.group == -1 || spec.group >= 1, method, ": --group must be -1 or >= 1, found ",
            spec.group);
  LMP_CHECK(std::isfinite(spec.damp) && spec.damp >= 0, method, ": --damp must be >= 0, found ",
            spec.damp);
  LMP_CHECK(spec.block_size >= 1, method, ": block size must be >= 1, found ", spec.block_size);
}

void check_weight(const std::string& method, const std::string& name, const Tensor& weight) {
  LMP_CHECK(weight.dtype() == DType::F32 && weight.ndim() == 2, method, ": ", name,
            ": expected a 2-D f32 weight, found ", dtype_name(weight.dtype()), " ",
            shape_str(weight.shape()));
  const float* w = weight.f32();
  for (int64_t i = 0; i < weight.numel(); ++i)
    LMP_CHECK(std::isfinite(w[i]), method, ": ", name, ": non-finite weight at [", i / weight.dim(1),
              ", ", i % weight.dim(1), "] = ", w[i]);
}

}  // namespace lmp
