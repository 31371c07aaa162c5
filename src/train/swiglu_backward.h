// Backward of the SwiGLU gate (Shazeer, arXiv 2002.05202, FFN_SwiGLU): h = silu(g)·u, silu(g) = g·σ(g).
//   du = dh·silu(g);   dg = dh·u·σ(g)·(1 + g·(1 − σ(g))).
#pragma once
#include <cstdint>

namespace lmp {

// gate, up: the pre-activations [n]; dh: dL/dh [n]. Writes d_gate and d_up (either may alias dh).
void swiglu_backward(const float* gate, const float* up, const float* dh, float* d_gate, float* d_up, int64_t n);

}  // namespace lmp
