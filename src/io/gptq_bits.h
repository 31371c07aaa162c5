// The bit layout of GPTQ checkpoints (AutoGPTQ's `pack`, kept by transformers, vLLM and GPTQModel):
// 32/bits values per int32 word, value i of a word in bits [i·bits, (i+1)·bits), low bits first.
//   qweight I32 [in·bits/32, out]: the code of input row j, output r is field j mod per of word [j/per, r];
//   qzeros  I32 [n_groups, out·bits/32]: the zero field of group k, output r is field r mod per of word
//           [k, r/per].
// Only widths that divide 32 (2, 4, 8); 3-bit GPTQ packs values across words and is not handled. Shared
// by the reader (io/gptq_checkpoint) and the writer (export/gptq_pack), so both agree by construction.
#pragma once
#include <cstdint>

namespace lmp {

inline bool gptq_bits_supported(int bits) { return bits == 2 || bits == 4 || bits == 8; }
inline int64_t gptq_per_word(int bits) { return 32 / bits; }
inline uint32_t gptq_field_mask(int bits) { return (1u << bits) - 1u; }

// The code of input row j, output r in qweight (`out` columns).
inline uint32_t gptq_code(const int32_t* qweight, int bits, int64_t out, int64_t j, int64_t r) {
  const int64_t per = gptq_per_word(bits);
  return (uint32_t(qweight[(j / per) * out + r]) >> ((j % per) * bits)) & gptq_field_mask(bits);
}

// The stored zero field of group k, output r in qzeros (`out` outputs, out / per words per row).
inline uint32_t gptq_zero_field(const int32_t* qzeros, int bits, int64_t out, int64_t k, int64_t r) {
  const int64_t per = gptq_per_word(bits);
  return (uint32_t(qzeros[k * (out / per) + r / per]) >> ((r % per) * bits)) & gptq_field_mask(bits);
}

// ORs `v` (< 2^bits) into the field of (j, r) in qweight; the word starts at 0.
inline void gptq_put_code(int32_t* qweight, int bits, int64_t out, int64_t j, int64_t r, uint32_t v) {
  const int64_t per = gptq_per_word(bits);
  reinterpret_cast<uint32_t&>(qweight[(j / per) * out + r]) |= v << ((j % per) * bits);
}

// ORs the field `v` (< 2^bits) of (k, r) into qzeros; the word starts at 0.
inline void gptq_put_zero_field(int32_t* qzeros, int bits, int64_t out, int64_t k, int64_t r, uint32_t v) {
  const int64_t per = gptq_per_word(bits);
  reinterpret_cast<uint32_t&>(qzeros[k * (out / per) + r / per]) |= v << ((r % per) * bits);
}

// `checkpoint_format: gptq` (v1) stores zero − 1. Its runtime kernels (AutoGPTQ's QuantLinear, vLLM's
// gptq_gemm "zeros[i] + 1") add the 1 back without wrapping, so a field of 2^bits − 1 would mean a zero
// of 2^bits there — a value no GPTQ quantizer produces (zero = round(−min / scale) lies in [0, 2^bits − 1]).
// That field only arises from storing a zero of 0 as (0 − 1) mod 2^bits, as gptq_pack does, so both
// directions here are mod 2^bits and every zero in range round-trips. `gptq_v2` stores the zero as is.
inline uint32_t gptq_v1_field_of_zero(uint32_t zero, int bits) { return (zero - 1u) & gptq_field_mask(bits); }
inline uint32_t gptq_v1_zero_of_field(uint32_t field, int bits) { return (field + 1u) & gptq_field_mask(bits); }

}  // namespace lmp
