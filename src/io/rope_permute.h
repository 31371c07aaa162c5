// Row order of Q and K projections. HF checkpoints use the "rotate-half" RoPE layout: within a head of
// size D, rows [0, D/2) and [D/2, D) are the two halves of each rotated pair. Meta's original checkpoints,
// llama2.c and llama.cpp's GGUF (arch llama) interleave them: stored row 2*i + h holds HF row h*(D/2) + i.
#pragma once
#include <cstdint>

namespace lmp {

// HF row of the weight that an interleaved (Meta / GGUF) checkpoint stores at `stored_row`.
inline int64_t hf_row_from_interleaved(int64_t stored_row, int64_t head_dim) {
  const int64_t head = stored_row / head_dim, j = stored_row % head_dim;
  return head * head_dim + (j % 2) * (head_dim / 2) + j / 2;
}

// Interleaved row that holds HF row `hf_row` (the inverse; used when writing GGUF).
inline int64_t interleaved_row_from_hf(int64_t hf_row, int64_t head_dim) {
  const int64_t head = hf_row / head_dim, j = hf_row % head_dim, half = head_dim / 2;
  return head * head_dim + 2 * (j % half) + j / half;
}

}  // namespace lmp
