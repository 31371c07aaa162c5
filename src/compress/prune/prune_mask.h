// Mask selection shared by the pruning methods: the k lowest of a set of scores, and the n lowest of
// every group of m consecutive scores. Ties are broken by position, lowest index pruned first — the
// order of a stable ascending sort (torch.sort(stable=True)), so results are deterministic.
// Masks are U8, 1 = kept, 0 = pruned.
#pragma once
#include <cstdint>

#include "compress/compressed_linear.h"
#include "core/tensor.h"

namespace lmp {

// Sets mask[i] = 0 for exactly the k lowest of score[0..n) (ties: lowest index first), 1 elsewhere.
void mask_lowest(const float* score, int64_t n, int64_t k, uint8_t* mask);

// The reference's threshold rule: t = the value at index k of the ascending sort; mask[i] = 0 for every
// score[i] <= t (k + 1 entries plus any ties with t), 1 elsewhere. Requires 0 <= k < n.
void mask_at_or_below(const float* score, int64_t n, int64_t k, uint8_t* mask);

// For each group of m consecutive scores of score[0..len) (m divides len): mask = 0 for exactly the
// n lowest of the group (ties: lowest index first), 1 elsewhere.
void mask_nm(const float* score, int64_t len, int n, int m, uint8_t* mask);

// The sparse result: `weight` (F32 [out, in]) with exact zeros where `mask` (U8 [out, in]) is 0.
CompressedLinear sparse_linear(Tensor weight, Tensor mask);

}  // namespace lmp
