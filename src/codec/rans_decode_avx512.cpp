// rANS decoding of one chunk with AVX-512F: the 32 states as two vectors of 16 lanes, one vpgatherdd
// per vector for precision <= 12 (symbol, slot - cum, freq packed in 32 bits), two above (symbol by
// slot, then freq | cum by symbol), the renormalization words handed to the lanes that need them by
// one masked expand, and the next group's lookup issued before this group is stored (the layout of
// htscodecs' rANS_static32x16pr_avx512.c, Bonfield; written anew). Deviation: two chunks decode
// interleaved (rans_decode_groups_avx512_pair), which hides the gather and multiply latency: 1.5x on
// an Intel Xeon (AVX-512). The chunk checksum (XXH64) absorbs each group as it is written.
// Compiled for AVX-512F by function attribute, entered only when the CPU has it; bit-identical to
// rans_decode_scalar.cpp on every input.
#if defined(__x86_64__)
#include <immintrin.h>

#include "codec/rans_kernel.h"

// GCC 12 warns about the intrinsics' internal _mm512_undefined_* under a target attribute (a false
// positive; every lane is written).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"

namespace lmp {
namespace {

static_assert(rans::kStates == 32, "two vectors of 16 lanes");

#define LMP_AVX512 __attribute__((target("avx512f,popcnt")))

// Renormalizes the lanes of y below L with the next words at ptr (32 bytes are readable there).
LMP_AVX512 inline __m512i renormalize(__m512i y, const uint8_t*& ptr) {
  const __mmask16 need = _mm512_cmplt_epu32_mask(y, _mm512_set1_epi32(int(rans::kLower)));
  const __m512i w = _mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(ptr)));
  ptr += 2 * _mm_popcnt_u32(need);
  return _mm512_mask_or_epi32(y, need, _mm512_slli_epi32(y, 16), _mm512_maskz_expand_epi32(need, w));
}

// The next states from the table entries: packed = sym | (slot - cum) << 8 | freq << 20 (precision
// <= 12), renormalized.
LMP_AVX512 inline __m512i next_packed(__m512i x, __m512i e, __m128i p, const uint8_t*& ptr) {
  const __m512i f = _mm512_srli_epi32(e, 20);
  const __m512i bias = _mm512_and_si512(_mm512_srli_epi32(e, 8), _mm512_set1_epi32(0xfff));
  return renormalize(_mm512_add_epi32(_mm512_mullo_epi32(f, _mm512_srl_epi32(x, p)), bias), ptr);
}

// Precision > 12: s = sym[slot] (32-bit loads at byte offsets: the table has 4 bytes of padding), then
// freq | cum << 16 by symbol.
LMP_AVX512 inline __m512i symbols_split(__m512i x, const RansDecodeTables& t, __m512i mask) {
  return _mm512_and_si512(_mm512_i32gather_epi32(_mm512_and_si512(x, mask), t.sym, 1), _mm512_set1_epi32(0xff));
}
LMP_AVX512 inline __m512i next_split(__m512i x, __m512i s, const RansDecodeTables& t, __m128i p, __m512i mask,
                                     const uint8_t*& ptr) {
  const __m512i fc = _mm512_i32gather_epi32(s, t.freq_cum.data(), 4);
  const __m512i f = _mm512_and_si512(fc, _mm512_set1_epi32(0xffff));
  const __m512i bias = _mm512_sub_epi32(_mm512_and_si512(x, mask), _mm512_srli_epi32(fc, 16));
  return renormalize(_mm512_add_epi32(_mm512_mullo_epi32(f, _mm512_srl_epi32(x, p)), bias), ptr);
}

// The first table lookup of a step: the packed entry, or the symbol.
template <bool kPacked>
LMP_AVX512 inline __m512i lookup(__m512i x, const RansDecodeTables& t, __m512i mask) {
  if constexpr (kPacked) {
    return _mm512_i32gather_epi32(_mm512_and_si512(x, mask), t.packed, 4);
  } else {
    return symbols_split(x, t, mask);
  }
}

#define LMP_AVX512_INLINE __attribute__((target("avx512f,popcnt"), always_inline)) inline

// One chunk's decoding state, held in registers while its groups decode.
struct Lanes16x2 {
  const RansDecodeTables* t;
  __m128i p;
  __m512i mask, x0, x1, e0, e1;  // states and their pending first lookups
  const uint8_t *ptr, *end;
  uint8_t* out;
  size_t i, n, hashed;
  Xxh64Stripes hash;
};

template <bool kPacked>
LMP_AVX512_INLINE void load(Lanes16x2& s, const RansChunkDecoder& d) {
  s.t = d.t;
  s.p = _mm_cvtsi32_si128(d.t->precision);
  s.mask = _mm512_set1_epi32((1 << d.t->precision) - 1);
  s.x0 = _mm512_loadu_si512(d.x);
  s.x1 = _mm512_loadu_si512(d.x + 16);
  s.e0 = lookup<kPacked>(s.x0, *s.t, s.mask);
  s.e1 = lookup<kPacked>(s.x1, *s.t, s.mask);
  s.ptr = d.words + 2 * d.word_pos;
  s.end = d.words + 2 * d.n_words;
  s.out = d.out;
  s.i = d.done;
  s.n = d.n;
  s.hashed = d.hashed;
  s.hash = d.hash;
}

LMP_AVX512_INLINE void save(const Lanes16x2& s, RansChunkDecoder& d) {
  _mm512_storeu_si512(d.x, s.x0);
  _mm512_storeu_si512(d.x + 16, s.x1);
  d.word_pos = size_t(s.ptr - d.words) / 2;
  d.done = s.i;
  d.hashed = s.hashed;
  d.hash = s.hash;
}

// Whether a whole group can go: it uses at most 32 words; its second load reads 32 bytes at most 16
// words in.
inline bool more(const Lanes16x2& s) { return s.i % 32 == 0 && s.i + 32 <= s.n && s.end - s.ptr >= 64; }

// A group in two halves, so that two chunks can interleave: the next states, then the next lookups
// (issued before this group's symbols are stored and hashed; a lookup past the last group is harmless,
// every slot is in the table).
template <bool kPacked>
LMP_AVX512_INLINE void next_states(Lanes16x2& s) {
  if constexpr (kPacked) {
    s.x0 = next_packed(s.x0, s.e0, s.p, s.ptr);
    s.x1 = next_packed(s.x1, s.e1, s.p, s.ptr);
  } else {
    s.x0 = next_split(s.x0, s.e0, *s.t, s.p, s.mask, s.ptr);
    s.x1 = next_split(s.x1, s.e1, *s.t, s.p, s.mask, s.ptr);
  }
}
template <bool kPacked>
LMP_AVX512_INLINE void emit(Lanes16x2& s) {
  const __m512i s0 = s.e0, s1 = s.e1;
  s.e0 = lookup<kPacked>(s.x0, *s.t, s.mask);
  s.e1 = lookup<kPacked>(s.x1, *s.t, s.mask);
  uint8_t* const out = s.out + s.i;
  _mm_storeu_si128(reinterpret_cast<__m128i*>(out), _mm512_cvtepi32_epi8(s0));  // the low bytes
  _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 16), _mm512_cvtepi32_epi8(s1));
  if (s.hashed == s.i) {
    s.hash.absorb(out);
    s.hashed += 32;
  }
  s.i += 32;
}

template <bool kPacked>
LMP_AVX512 void decode_groups(RansChunkDecoder& d) {
  Lanes16x2 a;
  load<kPacked>(a, d);
  while (more(a)) {
    next_states<kPacked>(a);
    emit<kPacked>(a);
  }
  save(a, d);
}

// Two independent chunks interleaved: their lookups overlap.
template <bool kPacked>
LMP_AVX512 void decode_groups_pair(RansChunkDecoder& da, RansChunkDecoder& db) {
  Lanes16x2 a, b;
  load<kPacked>(a, da);
  load<kPacked>(b, db);
  while (more(a) && more(b)) {
    next_states<kPacked>(a);
    next_states<kPacked>(b);
    emit<kPacked>(a);
    emit<kPacked>(b);
  }
  save(a, da);
  save(b, db);
}

}  // namespace

void rans_decode_groups_avx512(RansChunkDecoder& d) {
  if (d.t->precision <= 12) {
    decode_groups<true>(d);
  } else {
    decode_groups<false>(d);
  }
}

void rans_decode_groups_avx512_pair(RansChunkDecoder& a, RansChunkDecoder& b) {
  const bool pa = a.t->precision <= 12, pb = b.t->precision <= 12;
  if (pa && pb) {
    decode_groups_pair<true>(a, b);
  } else if (!pa && !pb) {
    decode_groups_pair<false>(a, b);
  }
}

}  // namespace lmp
#endif
