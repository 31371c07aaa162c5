// XXH64 from the xxHash specification (doc/xxhash_spec.md): four 64-bit accumulators over 32-byte
// stripes, then the remaining 8-, 4- and 1-byte pieces, then the avalanche. Portable scalar code.
#include "codec/rans_checksum.h"

namespace lmp {

uint64_t Xxh64Stripes::finish(const uint8_t* data, size_t absorbed, size_t n) const {
  Xxh64Stripes s = *this;
  const uint8_t* p = data + absorbed;
  const uint8_t* const end = data + n;
  for (; end - p >= 32; p += 32) s.absorb(p);
  uint64_t h;
  if (n >= 32) {
    h = rotl(s.v_[0], 1) + rotl(s.v_[1], 7) + rotl(s.v_[2], 12) + rotl(s.v_[3], 18);
    for (uint64_t v : s.v_) h = (h ^ round(0, v)) * kP1 + kP4;
  } else {
    h = seed_ + kP5;
  }
  h += uint64_t(n);
  for (; end - p >= 8; p += 8) h = rotl(h ^ round(0, rans::load_le64(p)), 27) * kP1 + kP4;
  if (end - p >= 4) {
    h = rotl(h ^ (uint64_t(rans::load_le32(p)) * kP1), 23) * kP2 + kP3;
    p += 4;
  }
  for (; p < end; ++p) h = rotl(h ^ (*p * kP5), 11) * kP1;
  h ^= h >> 33;
  h *= kP2;
  h ^= h >> 29;
  h *= kP3;
  h ^= h >> 32;
  return h;
}

uint64_t xxh64(const uint8_t* data, size_t n, uint64_t seed) { return Xxh64Stripes(seed).finish(data, 0, n); }

}  // namespace lmp
