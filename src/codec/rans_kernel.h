// Decoding kernels of one rANS chunk: the slot -> symbol tables and the loop that turns 32 interleaved
// states and a run of 16-bit words back into symbols. The scalar kernel is the reference; the AVX2
// kernel (x86-64, chosen at run time) decodes the same symbols, consumes the same words and leaves the
// same states for every input, valid or not. Internal to codec/ (tests and bench pick kernels with it).
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "codec/rans_format.h"
#include "codec/rans_table.h"

namespace lmp {

enum class RansKernel { automatic, scalar, avx2 };

bool rans_kernel_available(RansKernel k);  // automatic and scalar always are
RansKernel rans_resolve_kernel(RansKernel k);  // automatic -> the fastest available
const char* rans_kernel_name(RansKernel k);

// Decoder tables of one chunk: built from its frequencies in O(2^precision).
struct RansDecodeTables {
  int precision = 0;
  std::array<uint32_t, 256> freq_cum{};  // freq | cum << 16 (cum = sum of the frequencies below)
  alignas(64) uint8_t sym[(1u << rans::kMaxPrecision) + 4];  // slot -> symbol; +4: 32-bit gathers
  alignas(64) uint32_t packed[1u << 12];  // precision <= 12: sym | (slot - cum) << 8 | freq << 20
};
std::unique_ptr<RansDecodeTables> make_decode_tables();
void build_decode_tables(const SymbolFreqs& freq, int precision, RansDecodeTables& t);

// The decoding of one chunk in progress.
struct RansChunkDecoder {
  const RansDecodeTables* t = nullptr;
  uint32_t x[rans::kStates] = {};  // the states, initial values first
  const uint8_t* words = nullptr;  // 16-bit little-endian renormalization words
  size_t n_words = 0, word_pos = 0;
  uint8_t* out = nullptr;
  size_t n = 0;       // symbols of the chunk
  size_t done = 0;  // symbols decoded so far
};

// Decodes out[done, n). Returns true, or false when the renormalization after symbol `done` needed a
// word past n_words (the stream is truncated or corrupt; the outputs are then unspecified).
bool rans_decode_symbols(RansKernel k, RansChunkDecoder& d);

// Kernels behind the dispatch. Both decode whole groups of 32 symbols while a group's words are
// certainly there, branch-free; the scalar one then finishes with a checked loop.
bool rans_decode_scalar(RansChunkDecoder& d);
#if defined(__x86_64__)
void rans_decode_groups_avx2(RansChunkDecoder& d);
#endif

// Decodes a whole stream with the given kernel (rans_decode uses automatic).
void rans_decode_with(RansKernel k, std::span<const uint8_t> stream, std::span<uint8_t> out,
                      const std::string& what);

}  // namespace lmp
