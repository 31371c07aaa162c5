// Encoding one tensor into the bytes of a GGUF tensor: F32, F16, or Q8_0 / Q4_0 / Q4_K / Q6_K blocks, with the
// rows of Q/K projections reordered into llama.cpp's interleaved RoPE layout. A quantized linear whose
// grid is exactly a GGUF block format (symmetric, group 32, 4 bits → Q4_0 with q = code; 8 bits → Q8_0
// with q = code − 128) is written from its codes, without re-rounding: d is its scale rounded to f16,
// which changes nothing when the method ran with scales_f16 (the compress verb sets it for GGUF exports).
// No grid is exactly Q4_K or Q6_K (their sub-block scales are quantized against one f16 per 256
// weights): always re-quantized.
#pragma once
#include <cstdint>
#include <string>

#include "compress/compressed_linear.h"
#include "io/gguf_writer.h"

namespace lmp {

// Rows of a tensor as stored: `heads` > 0 means Q/K rows interleaved per head of `head_dim` rows.
struct RowOrder {
  int64_t heads = 0, head_dim = 0;
  int64_t hf_row(int64_t stored_row) const;  // the canonical (HF) row stored at `stored_row`
};

// Whether `grid` is exactly representable as `type` blocks (only Q4_0 or Q8_0 can be).
bool grid_fits_gguf(const QuantGrid& grid, GgmlType type);

// The stored bytes of the f32 tensor `t` (canonical layout, 1-D or 2-D) as `type`; quantized types use
// the scalar reference quantizers (gguf_quantize.h).
std::string encode_gguf_tensor(const Tensor& t, GgmlType type, const RowOrder& order);
// The stored bytes of a grid that grid_fits_gguf(grid, type): the codes are kept as they are.
std::string encode_gguf_grid(const QuantGrid& grid, GgmlType type, const RowOrder& order);

}  // namespace lmp
