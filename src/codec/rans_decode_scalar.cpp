// rANS decoding of one chunk, the portable reference (Duda, arXiv 1311.2540, eq. (9): x' = f(s) *
// (x >> p) + (x mod 2^p) - c(s), then 16-bit renormalization; 32 states interleaved as Giesen,
// arXiv 1402.3392, section 3). Also the kernel dispatch.
#include <cstring>

#include "codec/rans_kernel.h"

namespace lmp {

bool rans_kernel_available(RansKernel k) {
  switch (k) {
    case RansKernel::automatic:
    case RansKernel::scalar: return true;
    case RansKernel::avx2:
#if defined(__x86_64__)
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("popcnt");
#else
      return false;
#endif
    case RansKernel::avx512:
#if defined(__x86_64__)
      return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("popcnt");
#else
      return false;
#endif
  }
  return false;
}

RansKernel rans_resolve_kernel(RansKernel k) {
  if (k != RansKernel::automatic) return k;
  for (RansKernel fast : {RansKernel::avx512, RansKernel::avx2})
    if (rans_kernel_available(fast)) return fast;
  return RansKernel::scalar;
}

const char* rans_kernel_name(RansKernel k) {
  switch (k) {
    case RansKernel::automatic: return "automatic";
    case RansKernel::scalar: return "scalar";
    case RansKernel::avx2: return "avx2";
    case RansKernel::avx512: return "avx512";
  }
  return "?";
}

std::unique_ptr<RansDecodeTables> make_decode_tables() { return std::make_unique<RansDecodeTables>(); }

void build_decode_tables(const SymbolFreqs& freq, int precision, RansDecodeTables& t) {
  t.precision = precision;
  uint32_t cum = 0;
  for (int s = 0; s < 256; ++s) {
    const uint32_t f = freq[s];
    t.freq_cum[s] = f | (cum << 16);
    if (f) std::memset(t.sym + cum, s, f);
    if (precision <= 12)
      for (uint32_t k = 0; k < f; ++k) t.packed[cum + k] = uint32_t(s) | (k << 8) | (f << 20);
    cum += f;
  }
  std::memset(t.sym + cum, 0, 4);
}

bool rans_decode_scalar(RansChunkDecoder& d) {
  const RansDecodeTables& t = *d.t;
  const int p = t.precision;
  const uint32_t mask = (1u << p) - 1;
  uint32_t* const x = d.x;
  size_t i = d.done, pos = d.word_pos;
  // Whole groups while every renormalization of the group has its word: branch-free.
  while (i % rans::kStates == 0 && i + rans::kStates <= d.n && d.n_words - pos >= size_t(rans::kStates)) {
    for (int j = 0; j < rans::kStates; ++j) {
      uint32_t s_x = x[j];
      const uint32_t slot = s_x & mask;
      const uint8_t s = t.sym[slot];
      const uint32_t fc = t.freq_cum[s];
      s_x = (fc & 0xffff) * (s_x >> p) + slot - (fc >> 16);
      // Branch-free renormalization (a branch mispredicts on every other symbol at 4-6 bits/symbol).
      const uint32_t w = rans::load_le16(d.words + 2 * pos);
      const uint32_t need = s_x < rans::kLower;
      s_x = (s_x << (need << 4)) | (w & (0u - need));
      pos += need;
      x[j] = s_x;
      d.out[i + j] = s;
    }
    i += rans::kStates;
  }
  for (; i < d.n; ++i) {
    const int j = int(i % rans::kStates);
    uint32_t s_x = x[j];
    const uint32_t slot = s_x & mask;
    const uint8_t s = t.sym[slot];
    const uint32_t fc = t.freq_cum[s];
    s_x = (fc & 0xffff) * (s_x >> p) + slot - (fc >> 16);
    d.out[i] = s;
    if (s_x < rans::kLower) {
      if (pos == d.n_words) {
        x[j] = s_x;
        d.word_pos = pos;
        d.done = i;
        return false;
      }
      s_x = (s_x << 16) | rans::load_le16(d.words + 2 * pos++);
    }
    x[j] = s_x;
  }
  d.word_pos = pos;
  d.done = d.n;
  return true;
}

bool rans_decode_symbols(RansKernel k, RansChunkDecoder& d) {
#if defined(__x86_64__)
  switch (rans_resolve_kernel(k)) {
    case RansKernel::avx2: rans_decode_groups_avx2(d); break;
    case RansKernel::avx512: rans_decode_groups_avx512(d); break;
    default: break;
  }
#endif
  return rans_decode_scalar(d);
}

void rans_decode_pair(RansKernel k, RansChunkDecoder& a, RansChunkDecoder& b) {
#if defined(__x86_64__)
  if (rans_resolve_kernel(k) == RansKernel::avx512) rans_decode_groups_avx512_pair(a, b);
#endif
}

}  // namespace lmp
