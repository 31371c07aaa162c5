#include "data/byte_source.h"

#include <lzma.h>
#include <zlib.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

#include "core/error.h"

namespace lmp {
namespace {

constexpr size_t kChunk = size_t(1) << 20;

bool ends_with(const std::string& s, const char* suffix) {
  const size_t n = std::strlen(suffix);
  return s.size() >= n && s.compare(s.size() - n, n, suffix) == 0;
}

// The raw file, read with stdio.
class FileReader {
 public:
  explicit FileReader(const std::string& path) : path_(path), f_(std::fopen(path.c_str(), "rb")) {
    LMP_CHECK(f_, "pool ", path, ": cannot open for reading (", std::strerror(errno), ")");
  }
  ~FileReader() { std::fclose(f_); }
  FileReader(const FileReader&) = delete;
  FileReader& operator=(const FileReader&) = delete;
  size_t read(char* buf, size_t n) {
    const size_t got = std::fread(buf, 1, n, f_);
    LMP_CHECK(got == n || !std::ferror(f_), "pool ", path_, ": read error (", std::strerror(errno), ")");
    done_ += int64_t(got);
    return got;
  }
  int64_t done() const { return done_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::FILE* f_;
  int64_t done_ = 0;
};

class PlainSource : public ByteSource {
 public:
  explicit PlainSource(const std::string& path) : file_(path) {}
  size_t read(char* buf, size_t n) override { return file_.read(buf, n); }
  int64_t file_bytes_read() const override { return file_.done(); }

 private:
  FileReader file_;
};

class XzSource : public ByteSource {
 public:
  XzSource(const std::string& path, int threads) : file_(path), in_(kChunk) {
    lzma_ret r;
    if (threads > 1) {
      lzma_mt mt{};
      mt.flags = LZMA_CONCATENATED;
      mt.threads = uint32_t(threads);
      mt.memlimit_threading = uint64_t(1) << 30;  // above this liblzma decodes on one thread
      mt.memlimit_stop = UINT64_MAX;
      r = lzma_stream_decoder_mt(&strm_, &mt);
    } else {
      r = lzma_stream_decoder(&strm_, UINT64_MAX, LZMA_CONCATENATED);
    }
    LMP_CHECK(r == LZMA_OK, "pool ", path, ": cannot start the xz decoder (lzma error ", int(r), ")");
  }
  ~XzSource() override { lzma_end(&strm_); }
  size_t read(char* buf, size_t n) override;
  int64_t file_bytes_read() const override { return file_.done(); }

 private:
  FileReader file_;
  std::vector<char> in_;
  lzma_stream strm_ = LZMA_STREAM_INIT;
  bool eof_in_ = false, done_ = false;
};

size_t XzSource::read(char* buf, size_t n) {
  if (done_ || n == 0) return 0;
  strm_.next_out = reinterpret_cast<uint8_t*>(buf);
  strm_.avail_out = n;
  while (strm_.avail_out > 0) {
    if (strm_.avail_in == 0 && !eof_in_) {
      const size_t got = file_.read(in_.data(), in_.size());
      strm_.next_in = reinterpret_cast<const uint8_t*>(in_.data());
      strm_.avail_in = got;
      eof_in_ = got == 0;
    }
    const lzma_ret r = lzma_code(&strm_, eof_in_ ? LZMA_FINISH : LZMA_RUN);
    if (r == LZMA_STREAM_END) {
      done_ = true;
      break;
    }
    LMP_CHECK(r == LZMA_OK, "pool ", file_.path(), ": corrupt or truncated xz data (lzma error ", int(r),
              " after ", file_.done(), " compressed bytes)");
  }
  return n - strm_.avail_out;
}

class GzSource : public ByteSource {
 public:
  explicit GzSource(const std::string& path) : file_(path), in_(kChunk) {
    LMP_CHECK(inflateInit2(&strm_, 15 + 32) == Z_OK, "pool ", path, ": cannot start the gzip decoder");
  }
  ~GzSource() override { inflateEnd(&strm_); }
  size_t read(char* buf, size_t n) override;
  int64_t file_bytes_read() const override { return file_.done(); }

 private:
  bool refill() {
    if (strm_.avail_in > 0) return true;
    const size_t got = file_.read(in_.data(), in_.size());
    strm_.next_in = reinterpret_cast<Bytef*>(in_.data());
    strm_.avail_in = uInt(got);
    return got > 0;
  }
  FileReader file_;
  std::vector<char> in_;
  z_stream strm_{};
  bool done_ = false, in_member_ = false;
};

size_t GzSource::read(char* buf, size_t n) {
  if (done_ || n == 0) return 0;
  strm_.next_out = reinterpret_cast<Bytef*>(buf);
  strm_.avail_out = uInt(n);
  while (strm_.avail_out > 0) {
    if (!refill()) {  // end of file: fine between members, an error inside one
      LMP_CHECK(!in_member_, "pool ", file_.path(), ": truncated gzip data (", file_.done(), " bytes read)");
      done_ = true;
      break;
    }
    in_member_ = true;
    const int r = inflate(&strm_, Z_NO_FLUSH);
    if (r == Z_STREAM_END) {  // another member may follow
      in_member_ = false;
      LMP_CHECK(inflateReset(&strm_) == Z_OK, "pool ", file_.path(), ": gzip decoder reset failed");
      continue;
    }
    LMP_CHECK(r == Z_OK || r == Z_BUF_ERROR, "pool ", file_.path(), ": corrupt gzip data (zlib: ",
              strm_.msg ? strm_.msg : "error", " after ", file_.done(), " compressed bytes)");
  }
  return n - strm_.avail_out;
}

}  // namespace

bool strip_compression_suffix(const std::string& name, std::string* stem) {
  if (!ends_with(name, ".xz") && !ends_with(name, ".gz")) return false;
  if (stem) *stem = name.substr(0, name.size() - 3);
  return true;
}

std::unique_ptr<ByteSource> ByteSource::open(const std::string& path, int threads) {
  if (ends_with(path, ".xz")) return std::make_unique<XzSource>(path, threads);
  if (ends_with(path, ".gz")) return std::make_unique<GzSource>(path);
  return std::make_unique<PlainSource>(path);
}

}  // namespace lmp
