// GGUF tensor encoding (see gguf_encode.h).
#include "export/gguf_encode.h"

#include <cstring>

#include "core/dtype.h"
#include "core/error.h"
#include "io/gguf_quantize.h"
#include "io/gguf_quantize_k.h"
#include "io/rope_permute.h"

namespace lmp {

int64_t RowOrder::hf_row(int64_t stored_row) const {
  return heads > 0 ? hf_row_from_interleaved(stored_row, head_dim) : stored_row;
}

bool grid_fits_gguf(const QuantGrid& g, GgmlType type) {
  const int bits = type == GgmlType::Q4_0 ? 4 : type == GgmlType::Q8_0 ? 8 : 0;
  if (g.bits != bits || !g.sym || g.group != int64_t(kQuantBlock)) return false;
  const int64_t in = g.codes.dim(1);
  if (in % int64_t(kQuantBlock) != 0 || int64_t(g.g_idx.size()) != in) return false;
  for (int64_t j = 0; j < in; ++j)
    if (g.g_idx[size_t(j)] != j / int64_t(kQuantBlock)) return false;
  const float zero = float(1 << (bits - 1));
  for (int64_t i = 0; i < g.zeros.numel(); ++i)
    if (g.zeros.f32()[i] != zero) return false;
  return true;
}

namespace {

constexpr int64_t kParallelElems = int64_t(1) << 20;  // rows are encoded in parallel from this size on

void encode_row(const float* x, int64_t n, GgmlType type, char* dst) {
  switch (type) {
    case GgmlType::F32: std::memcpy(dst, x, size_t(n) * 4); return;
    case GgmlType::F16:
      for (int64_t j = 0; j < n; ++j) {
        const uint16_t h = f32_to_f16(x[j]);
        std::memcpy(dst + 2 * j, &h, 2);
      }
      return;
    case GgmlType::Q8_0: quantize_q8_0(x, reinterpret_cast<BlockQ8_0*>(dst), size_t(n)); return;
    case GgmlType::Q4_0: quantize_q4_0(x, reinterpret_cast<BlockQ4_0*>(dst), size_t(n)); return;
    case GgmlType::Q4_K: quantize_q4_k(x, reinterpret_cast<BlockQ4_K*>(dst), size_t(n)); return;
    case GgmlType::Q6_K: quantize_q6_k(x, reinterpret_cast<BlockQ6_K*>(dst), size_t(n)); return;
  }
}

// Blocks of one row from its codes and per-group scales (group == 32).
void grid_row(const uint8_t* codes, const float* scales, int64_t in, GgmlType type, char* dst) {
  constexpr int64_t B = int64_t(kQuantBlock);
  for (int64_t b = 0; b < in / B; ++b) {
    const uint8_t* q = codes + b * B;
    if (type == GgmlType::Q8_0) {
      BlockQ8_0 blk;
      blk.d = f32_to_f16(scales[b]);
      for (int64_t j = 0; j < B; ++j) blk.qs[j] = int8_t(int(q[j]) - 128);
      std::memcpy(dst + b * sizeof blk, &blk, sizeof blk);
    } else {
      BlockQ4_0 blk;
      blk.d = f32_to_f16(scales[b]);
      for (int64_t j = 0; j < B / 2; ++j) blk.qs[j] = uint8_t(q[j] | (q[j + B / 2] << 4));
      std::memcpy(dst + b * sizeof blk, &blk, sizeof blk);
    }
  }
}

}  // namespace

std::string encode_gguf_tensor(const Tensor& t, GgmlType type, const RowOrder& order) {
  LMP_CHECK(t.dtype() == DType::F32 && t.ndim() >= 1, "encode_gguf_tensor: expected an f32 tensor");
  const int64_t rows = t.ndim() == 1 ? t.numel() : t.dim(0), n = t.numel() / std::max<int64_t>(rows, 1);
  const uint64_t row_bytes = ggml_row_bytes(type, uint64_t(n));
  std::string out(size_t(row_bytes) * size_t(rows), '\0');
  const bool parallel = rows * n >= kParallelElems;
#pragma omp parallel for schedule(static) if (parallel)
  for (int64_t s = 0; s < rows; ++s) encode_row(t.f32() + order.hf_row(s) * n, n, type, out.data() + s * row_bytes);
  return out;
}

std::string encode_gguf_grid(const QuantGrid& g, GgmlType type, const RowOrder& order) {
  LMP_CHECK(grid_fits_gguf(g, type), "encode_gguf_grid: the grid is not exactly ", ggml_type_str(type));
  const int64_t rows = g.codes.dim(0), in = g.codes.dim(1), ng = g.n_groups();
  const uint64_t row_bytes = ggml_row_bytes(type, uint64_t(in));
  std::string out(size_t(row_bytes) * size_t(rows), '\0');
  const uint8_t* codes = static_cast<const uint8_t*>(g.codes.data());
  for (int64_t s = 0; s < rows; ++s) {
    const int64_t r = order.hf_row(s);
    grid_row(codes + r * in, g.scales.f32() + r * ng, in, type, out.data() + s * row_bytes);
  }
  return out;
}

}  // namespace lmp
