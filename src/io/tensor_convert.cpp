#include "io/tensor_convert.h"

#include "core/error.h"
#include "io/gguf_quant.h"
#include "io/rope_permute.h"

namespace lmp {

namespace {

void convert_span(DType t, const uint8_t* src, float* dst, size_t n) {
  if (t == DType::Q8_0) dequantize_q8_0(src, dst, n);
  else if (t == DType::Q4_0) dequantize_q4_0(src, dst, n);
  else if (t == DType::Q4_K) dequantize_q4_k(src, dst, n);
  else if (t == DType::Q6_K) dequantize_q6_k(src, dst, n);
  else convert_to_f32(t, src, dst, n);
}

constexpr int64_t kParallelElems = int64_t(1) << 20;

}  // namespace

bool convertible_to_f32(DType t) {
  return dtype_is_float(t) || t == DType::Q8_0 || t == DType::Q4_0 || t == DType::Q4_K || t == DType::Q6_K;
}

void convert_rows_to_f32(DType t, const void* src, int64_t rows, int64_t cols, int64_t interleaved_heads,
                         float* dst) {
  LMP_CHECK(convertible_to_f32(t), "convert: dtype ", dtype_name(t), " cannot be converted to f32");
  LMP_CHECK(cols % int64_t(dtype_block_elems(t)) == 0, "convert: row length ", cols, " is not a multiple of the ",
            dtype_name(t), " block size");
  const int64_t head_dim = interleaved_heads > 0 ? rows / interleaved_heads : 0;
  LMP_CHECK(interleaved_heads <= 0 || (head_dim % 2 == 0 && head_dim * interleaved_heads == rows),
            "convert: ", rows, " rows do not split into ", interleaved_heads, " heads of even size");
  const auto* s = static_cast<const uint8_t*>(src);
  const size_t row_bytes = dtype_nbytes(t, size_t(cols));
  const bool parallel = rows * cols >= kParallelElems;
#pragma omp parallel for schedule(static) if (parallel)
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t out = head_dim ? hf_row_from_interleaved(r, head_dim) : r;
    convert_span(t, s + size_t(r) * row_bytes, dst + out * cols, size_t(cols));
  }
}

}  // namespace lmp

