// Decoding kernels of one rANS chunk: the slot -> symbol tables and the loop that turns 32 interleaved
// states and a run of 16-bit words back into symbols. The scalar kernel is the reference; the AVX2 and
// AVX-512 kernels (x86-64, chosen at run time) decode the same symbols, consume the same words and leave
// the same states for every input, valid or not. Internal to codec/ (tests and bench pick kernels).
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "codec/rans_checksum.h"
#include "codec/rans_format.h"
#include "codec/rans_table.h"

namespace lmp {

enum class RansKernel { automatic, scalar, avx2, avx512 };

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
  size_t done = 0;    // symbols decoded so far
  Xxh64Stripes hash;  // the checksum state of out[0, hashed): kernels may hash the groups they write
  size_t hashed = 0;  // a multiple of 32, <= done
};

// Decodes out[done, n). Returns true, or false when the renormalization after symbol `done` needed a
// word past n_words (the stream is truncated or corrupt; the outputs are then unspecified).
bool rans_decode_symbols(RansKernel k, RansChunkDecoder& d);

// Advances two chunks together where the kernel gains from it (AVX-512: their independent lookups
// overlap); the chunks are then finished one by one with rans_decode_symbols. The result is the same
// as decoding each alone.
void rans_decode_pair(RansKernel k, RansChunkDecoder& a, RansChunkDecoder& b);

// Kernels behind the dispatch. Each decodes whole groups of 32 symbols while a group's words are
// certainly there, branch-free; the scalar one then finishes with a checked loop.
bool rans_decode_scalar(RansChunkDecoder& d);
#if defined(__x86_64__)
void rans_decode_groups_avx2(RansChunkDecoder& d);
void rans_decode_groups_avx512(RansChunkDecoder& d);
void rans_decode_groups_avx512_pair(RansChunkDecoder& a, RansChunkDecoder& b);
#endif

// Decodes a whole stream with the given kernel (rans_decode uses automatic).
void rans_decode_with(RansKernel k, std::span<const uint8_t> stream, std::span<uint8_t> out,
                      const std::string& what);

}  // namespace lmp
