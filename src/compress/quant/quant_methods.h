// Factories of the quantization methods, called by compress/registry.cpp. Each validates the spec
// (bits in [2, 8], group -1 or >= 1, damp >= 0, block_size >= 1) and throws lmp::Error with one line
// naming the method and flag ("gptq: --bits must be in [2, 8], found 9").
#pragma once
#include <memory>

#include "compress/linear_method.h"

namespace lmp {

// Round-to-nearest with GPTQ's min-max quantizer, group by group (compress/quant/rtn.cpp).
std::unique_ptr<LinearMethod> make_rtn_method(const MethodSpec& spec);
// bitsandbytes NF4 codebook, absmax per block of 64, optional double quantization (compress/quant/nf4.cpp).
std::unique_ptr<LinearMethod> make_nf4_method(const MethodSpec& spec);
// GPTQ (Frantar et al., ICLR 2023), Alg. 1 with lazy block updates (compress/quant/gptq.cpp).
std::unique_ptr<LinearMethod> make_gptq_method(const MethodSpec& spec);
// EntQuant (Putzky, Genzel et al., arXiv 2601.22787): FP8 E4M3 with rate-aware row scales (compress/quant/entquant.cpp).
std::unique_ptr<LinearMethod> make_entquant_method(const MethodSpec& spec);

}  // namespace lmp
