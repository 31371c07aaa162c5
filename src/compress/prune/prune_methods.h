// Pruning methods: factories the registry calls. Each validates the spec (exactly one of
// `sparsity` in (0, 1) or N:M with 0 < N < M) and throws lmp::Error with one line otherwise;
// "M divides the input size" is checked in compress(), where the tensor's name is known.
#pragma once
#include <memory>

#include "compress/linear_method.h"

namespace lmp {

// Magnitude: |w| with one threshold per whole matrix, or the N smallest |w| of every M columns.
std::unique_ptr<LinearMethod> make_magnitude_method(const MethodSpec& spec);
// Wanda (Sun et al., ICLR 2024): |W_ij|·‖X_j‖₂ ranked within each output row (needs col norms).
std::unique_ptr<LinearMethod> make_wanda_method(const MethodSpec& spec);
// SparseGPT (Frantar & Alistarh, ICML 2023): OBS updates with lazy blocks (needs the Hessian).
std::unique_ptr<LinearMethod> make_sparsegpt_method(const MethodSpec& spec);

}  // namespace lmp
