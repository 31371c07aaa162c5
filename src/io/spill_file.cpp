// Spill files (see spill_file.h): positional writes and reads, each checked and retried until complete.
#include "io/spill_file.h"

#include <fcntl.h>
#include <linux/falloc.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/error.h"

namespace lmp {

SpillFile::SpillFile(const std::string& path, std::string what) : path_(path), what_(std::move(what)) {
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  LMP_CHECK(fd_ >= 0, what_, ": cannot create the scratch file ", path, ": ", std::strerror(errno));
  ::unlink(path.c_str());
}

SpillFile::~SpillFile() {
  if (fd_ >= 0) ::close(fd_);
}

SpillFile::Slot SpillFile::append(const Tensor& t) {
  Slot s{size_, t.dtype(), t.shape()};
  const auto* p = static_cast<const uint8_t*>(t.data());
  for (size_t done = 0, n = t.nbytes(); done < n;) {
    const ssize_t k = ::pwrite(fd_, p + done, n - done, off_t(size_ + done));
    LMP_CHECK(k > 0 || (k < 0 && errno == EINTR), what_, ": writing ", n, " bytes to the scratch file ", path_,
              " failed (disk full?): ", k < 0 ? std::strerror(errno) : "no progress");
    if (k > 0) done += size_t(k);
  }
  size_ += t.nbytes();
  return s;
}

Tensor SpillFile::load(const Slot& s) const {
  Tensor t = Tensor::uninitialized(s.dtype, s.shape);  // every byte read below
  auto* p = static_cast<uint8_t*>(t.mutable_data());
  for (size_t done = 0, n = t.nbytes(); done < n;) {
    const ssize_t k = ::pread(fd_, p + done, n - done, off_t(s.offset + done));
    LMP_CHECK(k > 0 || (k < 0 && errno == EINTR), what_, ": reading ", n, " bytes at offset ", s.offset,
              " of the scratch file ", path_, " failed: ", k < 0 ? std::strerror(errno) : "unexpected end");
    if (k > 0) done += size_t(k);
  }
  return t;
}

SafetensorsSource SpillFile::source(const std::string& name, const Slot& s) const {
  return {name, s.dtype, s.shape, [this, s] { return load(s); }};
}

void SpillFile::discard(const Slot& s) {
  const uint64_t n = dtype_nbytes(s.dtype, size_t(shape_numel(s.shape)));
  // Best effort: a file system without hole punching keeps the bytes until the file is closed.
  if (n) (void)::fallocate(fd_, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off_t(s.offset), off_t(n));
}

}  // namespace lmp
