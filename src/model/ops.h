// Elementwise and row-wise operations of the decoder, on row-major f32 buffers.
#pragma once
#include <cstdint>

namespace lmp {

// y[r] = x[r] / sqrt(mean(x[r]²) + eps) * w, for rows r < rows of width n (as HF's LlamaRMSNorm in fp32).
// inv_rms, when given, receives each row's 1 / sqrt(mean(x[r]²) + eps) (the backward's input).
void rms_norm(const float* x, const float* w, float* y, int64_t rows, int64_t n, float eps,
              float* inv_rms = nullptr);
// gate[i] = silu(gate[i]) * up[i]
void silu_mul(float* gate, const float* up, int64_t n);
// x[r, :] += b for every row
void add_bias(float* x, const float* b, int64_t rows, int64_t n);
// y += x
void add_inplace(float* y, const float* x, int64_t n);
// In-place softmax of the first `n` entries of a row; entries n..width are set to 0.
void softmax_prefix(float* row, int64_t n, int64_t width);
// log Σ exp(row) computed stably in double.
double log_sum_exp(const float* row, int64_t n);

}  // namespace lmp
