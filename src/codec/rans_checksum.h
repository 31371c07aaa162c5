// The per-chunk checksum of a rANS stream: the low 32 bits of XXH64 (seed 0) of the chunk's decoded
// symbols, implemented from the xxHash specification (Collet, github.com/Cyan4973/xxHash, doc/
// xxhash_spec.md, "XXH64 algorithm description") so that other decoders can use any xxHash library.
#pragma once
#include <cstddef>
#include <cstdint>

#include "codec/rans_format.h"

namespace lmp {

// XXH64's four accumulators over whole 32-byte stripes.
class Xxh64Stripes {
 public:
  explicit Xxh64Stripes(uint64_t seed = 0)
      : seed_(seed), v_{seed + kP1 + kP2, seed + kP2, seed, seed - kP1} {}
  void absorb(const uint8_t* stripe) {
    for (int k = 0; k < 4; ++k) v_[k] = round(v_[k], rans::load_le64(stripe + 8 * k));
  }
  // The hash of data[0, n) when exactly its first `absorbed` bytes (a multiple of 32) went to absorb().
  uint64_t finish(const uint8_t* data, size_t absorbed, size_t n) const;

  static constexpr uint64_t kP1 = 11400714785074694791ull;
  static constexpr uint64_t kP2 = 14029467366897019727ull;
  static constexpr uint64_t kP3 = 1609587929392839161ull;
  static constexpr uint64_t kP4 = 9650029242287828579ull;
  static constexpr uint64_t kP5 = 2870177450012600261ull;
  static uint64_t rotl(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }
  static uint64_t round(uint64_t acc, uint64_t lane) { return rotl(acc + lane * kP2, 31) * kP1; }

 private:
  uint64_t seed_;
  uint64_t v_[4];
};

uint64_t xxh64(const uint8_t* data, size_t n, uint64_t seed = 0);

inline uint32_t rans_checksum(const uint8_t* data, size_t n) {
  return uint32_t(xxh64(data, n, 0));
}

}  // namespace lmp
