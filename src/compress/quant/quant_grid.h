// Helpers around QuantGrid: allocation, the default group index, and dequantization from the stored
// codes / scales / zeros / g_idx (the one definition of what a grid means, shared by methods and writers).
#pragma once
#include <cstdint>
#include <string>

#include "compress/compressed_linear.h"
#include "compress/quant/quantizer.h"

namespace lmp {

// Groups per row: ceil(in / group), or 1 when group is -1.
int64_t n_groups_for(int64_t in, int64_t group);
// Columns per group as a positive count (`in` when group is -1).
int64_t group_width(int64_t in, int64_t group);
// A zero-filled grid for a weight [out, in] with g_idx[j] = j / group.
QuantGrid make_quant_grid(int64_t out, int64_t in, int bits, int64_t group, bool sym);
// Stores the params of (row, group g).
void set_grid_params(QuantGrid& grid, int64_t row, int64_t g, QuantParams p);
QuantParams grid_params(const QuantGrid& grid, int64_t row, int64_t g);
// F32 [out, in]: scale[r, g_idx[j]] · (codes[r, j] − zero[r, g_idx[j]]).
Tensor dequantize_grid(const QuantGrid& grid);
// True when g_idx is not the default j / group (act-order without static groups).
bool g_idx_is_permuted(const QuantGrid& grid);
// Sparse-then-quantized (a quantizer after a pruner): sets the code of every pruned weight (mask 0) to
// its group's zero point and its value in c.weight to exactly 0, and attaches the mask. Both grids of
// GPTQ's quantizer hold 0 exactly (asymmetric: the min-max range includes 0 and zero = round(−min /
// scale); symmetric: zero = 2^(bits−1)). `mask` is U8 of c.weight's shape; `what` names the error.
void keep_mask_on_grid(const std::string& what, CompressedLinear& c, const Tensor& mask);

}  // namespace lmp
