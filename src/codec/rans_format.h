// The on-disk layout of a rANS stream (docs/rans.md): constants shared by the encoder and the decoder,
// and little-endian field access. Changing any constant here changes the format: bump kRansVersion.
#pragma once
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace lmp::rans {

inline constexpr uint8_t kMagic[4] = {'L', 'R', 'N', 'S'};
inline constexpr uint8_t kVersion = 1;
inline constexpr size_t kHeaderBytes = 32;    // magic, version, states, reserved, symbols, chunk_symbols, chunks
inline constexpr int kStates = 32;            // interleaved rANS states per chunk (symbol i uses state i % 32)
inline constexpr uint32_t kLower = 1u << 16;  // L: states live in [L, 2^32); renormalization moves 16 bits
inline constexpr int kMinPrecision = 8;       // frequency table precision p: frequencies sum to 2^p
inline constexpr int kMaxPrecision = 15;
inline constexpr int kDefaultPrecision = 14;
inline constexpr uint64_t kMaxChunkSymbols = uint64_t(1) << 30;  // keeps a chunk's byte count in a u32
inline constexpr uint64_t kParallelSymbols = uint64_t(1) << 20;  // smaller streams code on one thread
inline constexpr size_t kChunkPrefixBytes = 4;                   // u32 body length before each chunk body
inline constexpr size_t kBodyFixedBytes = 5;                     // mode (u8) + checksum (u32)
inline constexpr size_t kRansFixedBytes = 1 + 4 * kStates;       // precision (u8) + initial states

enum ChunkMode : uint8_t {
  kModeRans = 0,      // precision, frequency table, 32 states, 16-bit words
  kModeConstant = 1,  // one byte: every symbol of the chunk equals it
  kModeStored = 2,    // the symbols verbatim (incompressible chunks)
};

// memcpy on little-endian hosts (one load, which the compiler also forwards from a recent vector store
// in one piece), byte assembly elsewhere.
template <typename T>
inline T load_le(const uint8_t* p) {
  T v;
  if constexpr (std::endian::native == std::endian::little) {
    std::memcpy(&v, p, sizeof v);
  } else {
    v = 0;
    for (size_t i = 0; i < sizeof v; ++i) v |= T(p[i]) << (8 * i);
  }
  return v;
}
inline uint16_t load_le16(const uint8_t* p) { return load_le<uint16_t>(p); }
inline uint32_t load_le32(const uint8_t* p) { return load_le<uint32_t>(p); }
inline uint64_t load_le64(const uint8_t* p) { return load_le<uint64_t>(p); }
inline void store_le16(uint8_t* p, uint16_t v) {
  p[0] = uint8_t(v);
  p[1] = uint8_t(v >> 8);
}
inline void store_le32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = uint8_t(v >> (8 * i));
}
inline void store_le64(uint8_t* p, uint64_t v) {
  store_le32(p, uint32_t(v));
  store_le32(p + 4, uint32_t(v >> 32));
}

}  // namespace lmp::rans
