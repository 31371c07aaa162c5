// ByteSource: a file read front to back in chunks, decompressed on the fly when its name ends in
// ".xz" (liblzma, concatenated streams) or ".gz" (zlib, concatenated members). Never holds the whole
// file in memory. Errors name the file and what was wrong.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace lmp {

class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Opens `path`, choosing the decoder from the name. `threads` > 1 decodes the blocks of a
  // multi-block .xz file in parallel (liblzma's threaded decoder; same bytes).
  static std::unique_ptr<ByteSource> open(const std::string& path, int threads = 1);
  // Reads up to `n` decoded bytes into `buf`; 0 only at the end of the data.
  virtual size_t read(char* buf, size_t n) = 0;
  // Bytes of the file itself consumed so far (compressed bytes for .xz / .gz), for progress.
  virtual int64_t file_bytes_read() const = 0;
};

// True when `name` ends in ".xz" or ".gz"; `stem` then receives the name without that suffix.
bool strip_compression_suffix(const std::string& name, std::string* stem);

}  // namespace lmp
