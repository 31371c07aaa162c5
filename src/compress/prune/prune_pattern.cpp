#include "compress/prune/prune_pattern.h"

#include <cmath>

#include "core/error.h"

namespace lmp {

PrunePattern prune_pattern(const std::string& method, const MethodSpec& spec) {
  const bool has_sparsity = spec.sparsity != 0.0;
  const bool has_nm = spec.nm_n != 0 || spec.nm_m != 0;
  LMP_CHECK(!(has_sparsity && has_nm), method, ": sparsity ", spec.sparsity, " and N:M ", spec.nm_n,
            ":", spec.nm_m, " both set: expected exactly one");
  LMP_CHECK(has_sparsity || has_nm, method,
            ": no sparsity set: expected a sparsity in (0, 1) or N:M with 0 < N < M");
  PrunePattern p;
  if (has_nm) {
    LMP_CHECK(spec.nm_n > 0 && spec.nm_n < spec.nm_m, method, ": N:M ", spec.nm_n, ":", spec.nm_m,
              " invalid: expected 0 < N < M");
    p.n = spec.nm_n;
    p.m = spec.nm_m;
  } else {
    LMP_CHECK(std::isfinite(spec.sparsity) && spec.sparsity > 0.0 && spec.sparsity < 1.0, method,
              ": sparsity ", spec.sparsity, " out of range: expected 0 < sparsity < 1");
    p.sparsity = spec.sparsity;
  }
  return p;
}

void check_prunable(const std::string& method, const std::string& name, const Tensor& weight,
                    const PrunePattern& pattern) {
  LMP_CHECK(weight.dtype() == DType::F32 && weight.ndim() == 2, method, ": ", name,
            ": expected a 2-D F32 weight [out, in], found ", dtype_name(weight.dtype()), " ",
            shape_str(weight.shape()));
  const int64_t in = weight.dim(1);
  LMP_CHECK(!pattern.is_nm() || in % pattern.m == 0, method, ": ", name, ": N:M group ", pattern.m,
            " does not divide input size ", in);
  const float* w = weight.f32();
  for (int64_t i = 0; i < weight.numel(); ++i)
    LMP_CHECK(std::isfinite(w[i]), method, ": ", name, ": weight has a non-finite value ", w[i],
              " at [", i / in, ", ", i % in, "]: expected finite weights");
}

}  // namespace lmp
