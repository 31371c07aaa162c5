// Empirical order-0 entropy summed over chunks: sum_k n_k H(chunk k) = sum_k sum_s c_s log2(n_k / c_s)
// bits (Shannon 1948), the size a static per-chunk model approaches before its table and states.
#include <algorithm>
#include <cmath>

#include "codec/rans.h"
#include "codec/rans_table.h"
#include "core/error.h"

namespace lmp {

double chunked_entropy_bits(std::span<const uint8_t> symbols, size_t chunk_symbols) {
  LMP_CHECK(chunk_symbols >= 1, "chunked_entropy_bits: chunk_symbols 0 (expected >= 1)");
  double bits = 0;
  for (size_t begin = 0; begin < symbols.size(); begin += chunk_symbols) {
    const size_t n = std::min(chunk_symbols, symbols.size() - begin);
    const SymbolCounts c = count_symbols(symbols.data() + begin, n);
    const double log_n = std::log2(double(n));
    for (uint64_t v : c)
      if (v) bits += double(v) * (log_n - std::log2(double(v)));
  }
  return bits;
}

}  // namespace lmp
