// Pool fixtures for the data/ and calib/ tests: small files written to temp dirs, compressed in-process
// with liblzma / zlib.
#pragma once
#include <lzma.h>
#include <zlib.h>

#include <stdexcept>
#include <string>

#include "test_util.h"

namespace lmp::test {

inline std::string xz_bytes(const std::string& plain) {
  std::string out(lzma_stream_buffer_bound(plain.size()), '\0');
  size_t pos = 0;
  const lzma_ret r = lzma_easy_buffer_encode(6, LZMA_CHECK_CRC64, nullptr, reinterpret_cast<const uint8_t*>(plain.data()),
                                             plain.size(), reinterpret_cast<uint8_t*>(out.data()), &pos, out.size());
  if (r != LZMA_OK) throw std::runtime_error("xz encode failed");
  out.resize(pos);
  return out;
}

// Several independent xz blocks (what `xz -T` writes), so the threaded decoder has work to share.
inline std::string xz_blocks(const std::string& plain, uint64_t block_size) {
  lzma_mt mt{};
  mt.threads = 2;
  mt.block_size = block_size;
  mt.preset = 1;
  mt.check = LZMA_CHECK_CRC64;
  lzma_stream s = LZMA_STREAM_INIT;
  if (lzma_stream_encoder_mt(&s, &mt) != LZMA_OK) throw std::runtime_error("xz mt init");
  std::string out(lzma_stream_buffer_bound(plain.size()) + 4096, '\0');
  s.next_in = reinterpret_cast<const uint8_t*>(plain.data());
  s.avail_in = plain.size();
  s.next_out = reinterpret_cast<uint8_t*>(out.data());
  s.avail_out = out.size();
  lzma_ret r;
  while ((r = lzma_code(&s, LZMA_FINISH)) == LZMA_OK) {}
  if (r != LZMA_STREAM_END) throw std::runtime_error("xz mt encode");
  out.resize(s.total_out);
  lzma_end(&s);
  return out;
}

inline std::string gz_bytes(const std::string& plain) {
  z_stream s{};
  if (deflateInit2(&s, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) throw std::runtime_error("gz init");
  std::string out(deflateBound(&s, uLong(plain.size())) + 64, '\0');
  s.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(plain.data()));
  s.avail_in = uInt(plain.size());
  s.next_out = reinterpret_cast<Bytef*>(out.data());
  s.avail_out = uInt(out.size());
  if (deflate(&s, Z_FINISH) != Z_STREAM_END) throw std::runtime_error("gz deflate");
  out.resize(s.total_out);
  deflateEnd(&s);
  return out;
}

}  // namespace lmp::test
