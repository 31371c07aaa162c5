// The static model of one rANS chunk: symbol counts, their quantization to frequencies that sum to
// 2^precision, and the compact table that stores them (present symbols as runs, frequencies as LEB128
// varints; docs/rans.md). Integer arithmetic only, so the table never depends on CPU or flags.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace lmp {

using SymbolCounts = std::array<uint64_t, 256>;
using SymbolFreqs = std::array<uint32_t, 256>;

SymbolCounts count_symbols(const uint8_t* data, size_t n);

// Frequencies summing to 2^precision with every present symbol (count > 0) at >= 1 and absent ones at
// 0: symbols whose share would round below one slot get exactly one, the rest share what is left in
// proportion to their counts, rounded by largest remainder (ties to the smaller symbol). Needs at least
// one present symbol and precision in [8, 16] (so that 256 symbols fit).
SymbolFreqs normalize_frequencies(const SymbolCounts& counts, int precision);

// log2(v) in units of 2^-16, v >= 1, by integer squaring (no libm, so identical on every CPU).
uint32_t log2_fixed16(uint32_t v);

// Coded size of the symbols counted in `counts` with the frequencies `freq` (same chunk), in units of
// 2^-16 bits: sum c_s * (precision - log2 freq_s), plus 8 bits per table byte.
uint64_t estimated_cost_fixed16(const SymbolCounts& counts, const SymbolFreqs& freq, int precision);

// The precision the encoder's automatic choice uses for a chunk (at least two present symbols):
// kFastPrecision (the decoders' single-lookup path) unless kFinePrecision codes it more than
// 1/kFineGain smaller.
inline constexpr int kFastPrecision = 12, kFinePrecision = 14, kFineGain = 256;
int choose_precision(const SymbolCounts& counts);

// Appends the table of `freq` (at least two present symbols) to `out`.
void append_frequency_table(const SymbolFreqs& freq, std::vector<uint8_t>& out);
// Bytes append_frequency_table would write.
size_t frequency_table_bytes(const SymbolFreqs& freq);

// Parses a table from data[0, n) into `freq`, checking that runs ascend, every listed frequency is in
// [1, 2^precision), at least two symbols are present and the frequencies sum to 2^precision; returns the
// bytes it used. Throws lmp::Error "<where>frequency table: <fault>" (where: a prefix, may be empty).
size_t parse_frequency_table(const uint8_t* data, size_t n, int precision, SymbolFreqs& freq,
                             const std::string& where);

}  // namespace lmp
