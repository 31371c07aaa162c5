// PrunePattern: which zeros a pruning method must produce — an unstructured fraction, or N of every M
// consecutive input columns of a row — validated once from a MethodSpec, plus the per-tensor checks
// (shape, dtype, finiteness, M dividing the input size) every pruning method runs first.
#pragma once
#include <cstdint>
#include <string>

#include "compress/linear_method.h"
#include "core/tensor.h"

namespace lmp {

struct PrunePattern {
  double sparsity = 0.0;  // unstructured fraction of zeros, in (0, 1)
  int n = 0, m = 0;       // N:M (m > 0): n zeros in every group of m consecutive columns of a row
  bool is_nm() const { return m > 0; }
};

// Exactly one of `sparsity` in (0, 1) or N:M with 0 < N < M; throws one line naming `method` otherwise.
PrunePattern prune_pattern(const std::string& method, const MethodSpec& spec);

// Checks that `weight` is a finite 2-D f32 [out, in] and, for N:M, that M divides in.
void check_prunable(const std::string& method, const std::string& name, const Tensor& weight,
                    const PrunePattern& pattern);

}  // namespace lmp
