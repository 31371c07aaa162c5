// rANS encoding (Duda, arXiv 1311.2540, eq. (8): x' = (x / f) * 2^p + x mod f + c, range variant with
// 32-bit states and 16-bit renormalization) of independent chunks with 32 interleaved states (Giesen,
// arXiv 1402.3392). The division is an exact reciprocal multiply (Granlund & Montgomery, PLDI 1994,
// theorem 4.2, 33-bit multiplier); all integer, so the bytes never depend on CPU or compiler flags.
#include <algorithm>
#include <vector>

#include "codec/rans.h"
#include "codec/rans_checksum.h"
#include "codec/rans_format.h"
#include "codec/rans_table.h"
#include "core/error.h"

namespace lmp {
namespace {

struct EncSymbol {
  uint32_t x_max;  // states at or above it shed 16 bits before coding the symbol
  uint32_t m_lo;   // low 32 bits of m = ceil(2^(32 + l) / f), which lies in [2^32, 2^33)
  uint32_t l;      // ceil(log2 f)
  uint32_t bias;   // c
  uint32_t cmpl;   // 2^p - f
};

EncSymbol make_enc_symbol(uint32_t f, uint32_t c, int p) {
  EncSymbol e{};
  e.x_max = f << (32 - p);
  uint32_t l = 0;
  while ((uint64_t(1) << l) < f) ++l;
  const uint64_t m = ((uint64_t(1) << (32 + l)) + f - 1) / f;
  e.m_lo = uint32_t(m);
  e.l = l;
  e.bias = c;
  e.cmpl = (1u << p) - f;
  return e;
}

// Codes one symbol into state x; the renormalization word (if any) goes to *--wp.
inline void encode_one(uint32_t& x, const EncSymbol& e, uint16_t*& wp) {
  const bool shed = x >= e.x_max;
  wp[-1] = uint16_t(x);
  wp -= shed;
  x = shed ? x >> 16 : x;
  const uint32_t q = uint32_t((uint64_t(x) + ((uint64_t(x) * e.m_lo) >> 32)) >> e.l);  // x / f
  x += e.bias + q * e.cmpl;
}

void append_u32(std::vector<uint8_t>& out, uint32_t v) {
  const size_t at = out.size();
  out.resize(at + 4);
  rans::store_le32(out.data() + at, v);
}

// The body of one chunk (docs/rans.md), without its u32 length prefix.
std::vector<uint8_t> encode_chunk(const uint8_t* s, size_t n, int p) {
  const SymbolCounts counts = count_symbols(s, n);
  const uint32_t checksum = rans_checksum(s, n);
  std::vector<uint8_t> body;
  int present = 0, last = 0;
  for (int k = 0; k < 256; ++k)
    if (counts[k]) ++present, last = k;
  if (present == 1) {
    body = {rans::kModeConstant};
    append_u32(body, checksum);
    body.push_back(uint8_t(last));
    return body;
  }
  if (p == 0) p = choose_precision(counts);
  const SymbolFreqs freq = normalize_frequencies(counts, p);
  std::array<EncSymbol, 256> enc{};
  for (uint32_t k = 0, c = 0; k < 256; c += freq[k], ++k)
    if (freq[k]) enc[k] = make_enc_symbol(freq[k], c, p);

  // At most one word per symbol; one spare slot in front for the branch-free write.
  std::vector<uint16_t> words(n + 1);
  uint16_t* const wend = words.data() + words.size();
  uint16_t* wp = wend;
  uint32_t x[rans::kStates];
  std::fill(x, x + rans::kStates, rans::kLower);
  size_t i = n;
  for (size_t j = n % rans::kStates; j-- > 0;) encode_one(x[j], enc[s[--i]], wp);
  while (i) {
    i -= rans::kStates;
    for (int j = rans::kStates - 1; j >= 0; --j) encode_one(x[j], enc[s[i + j]], wp);
  }
  const size_t nw = size_t(wend - wp);

  const size_t rans_bytes = rans::kBodyFixedBytes + rans::kRansFixedBytes + frequency_table_bytes(freq) + 2 * nw;
  if (rans_bytes >= rans::kBodyFixedBytes + n) {  // incompressible: store
    body.reserve(rans::kBodyFixedBytes + n);
    body = {rans::kModeStored};
    append_u32(body, checksum);
    body.insert(body.end(), s, s + n);
    return body;
  }
  body.reserve(rans_bytes);
  body = {rans::kModeRans};
  append_u32(body, checksum);
  body.push_back(uint8_t(p));
  append_frequency_table(freq, body);
  for (int j = 0; j < rans::kStates; ++j) append_u32(body, x[j]);
  const size_t at = body.size();
  body.resize(at + 2 * nw);
  for (size_t k = 0; k < nw; ++k) rans::store_le16(body.data() + at + 2 * k, wp[k]);
  return body;
}

}  // namespace

std::vector<uint8_t> rans_encode(std::span<const uint8_t> symbols, const RansOptions& opts) {
  const uint64_t cs = opts.chunk_symbols;
  LMP_CHECK(cs >= 1 && cs <= rans::kMaxChunkSymbols, "rans_encode: chunk_symbols ", cs, " (expected 1..",
            rans::kMaxChunkSymbols, ")");
  const int p = opts.precision_bits;
  LMP_CHECK(p == 0 || (p >= rans::kMinPrecision && p <= rans::kMaxPrecision), "rans_encode: precision_bits ", p,
            " (expected 0 for automatic or ", rans::kMinPrecision, "..", rans::kMaxPrecision, ")");
  const uint64_t n = symbols.size();
  const uint64_t chunks = (n + cs - 1) / cs;
  std::vector<std::vector<uint8_t>> bodies(chunks);
#pragma omp parallel for schedule(dynamic, 1) if (chunks > 1 && n >= rans::kParallelSymbols)
  for (int64_t k = 0; k < int64_t(chunks); ++k) {
    const uint64_t begin = uint64_t(k) * cs;
    bodies[k] = encode_chunk(symbols.data() + begin, std::min(cs, n - begin), p);
  }
  size_t total = rans::kHeaderBytes;
  for (const auto& b : bodies) total += rans::kChunkPrefixBytes + b.size();
  std::vector<uint8_t> out(total);
  uint8_t* o = out.data();
  std::copy(rans::kMagic, rans::kMagic + 4, o);
  o[4] = rans::kVersion;
  o[5] = rans::kStates;
  rans::store_le16(o + 6, 0);
  rans::store_le64(o + 8, n);
  rans::store_le64(o + 16, cs);
  rans::store_le64(o + 24, chunks);
  o += rans::kHeaderBytes;
  for (const auto& b : bodies) {
    rans::store_le32(o, uint32_t(b.size()));
    o = std::copy(b.begin(), b.end(), o + rans::kChunkPrefixBytes);
  }
  return out;
}

}  // namespace lmp
