// Conversion of stored tensor bytes to f32: scalar floats (F32, F16, BF16, F64) and ggml blocks (Q8_0,
// Q4_0, Q4_K, Q6_K), optionally undoing the interleaved RoPE row order of Q/K projections on the way.
#pragma once
#include <cstdint>

#include "core/dtype.h"

namespace lmp {

// True for the dtypes convert_rows_to_f32 accepts.
bool convertible_to_f32(DType t);

// Converts a [rows, cols] matrix of dtype `t` at `src` to f32 at `dst`. Block-quantized rows must hold a
// whole number of blocks. When `interleaved_heads` > 0 the rows are stored in interleaved RoPE order
// for that many heads (head_dim = rows / interleaved_heads) and are written to `dst` in HF order.
void convert_rows_to_f32(DType t, const void* src, int64_t rows, int64_t cols, int64_t interleaved_heads,
                         float* dst);

}  // namespace lmp
