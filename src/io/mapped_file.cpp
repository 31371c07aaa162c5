#include "io/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "core/error.h"

namespace lmp {

namespace {
// Closes a descriptor when it goes out of scope (the mapping outlives it).
struct FdGuard {
  int fd;
  ~FdGuard() { if (fd >= 0) ::close(fd); }
};
}  // namespace

std::shared_ptr<const MappedFile> MappedFile::open(const std::string& path) {
  FdGuard fd{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  if (fd.fd < 0) fail("cannot open ", path, ": ", std::strerror(errno));
  struct stat st {};
  if (::fstat(fd.fd, &st) != 0) fail("cannot stat ", path, ": ", std::strerror(errno));
  if (!S_ISREG(st.st_mode)) fail("cannot map ", path, ": not a regular file");
  std::shared_ptr<MappedFile> f(new MappedFile());
  f->path_ = path;
  f->size_ = size_t(st.st_size);
  if (f->size_ == 0) return f;  // nothing to map; data() stays null
  void* p = ::mmap(nullptr, f->size_, PROT_READ, MAP_PRIVATE, fd.fd, 0);
  if (p == MAP_FAILED) fail("cannot map ", path, " (", f->size_, " bytes): ", std::strerror(errno));
  f->data_ = static_cast<const uint8_t*>(p);
  f->mapped_ = true;
  return f;
}

void MappedFile::release(const void* p, size_t n) const {
  const auto* b = static_cast<const uint8_t*>(p);
  if (!mapped_ || n == 0 || b < data_ || b >= data_ + size_) return;
  static const uintptr_t page = uintptr_t(::sysconf(_SC_PAGESIZE));
  const uintptr_t start = reinterpret_cast<uintptr_t>(b) & ~(page - 1);
  const uintptr_t end = std::min(reinterpret_cast<uintptr_t>(b) + n, reinterpret_cast<uintptr_t>(data_) + size_);
  ::madvise(reinterpret_cast<void*>(start), end - start, MADV_DONTNEED);  // advice: a failure loses nothing
}

MappedFile::~MappedFile() {
  if (mapped_) ::munmap(const_cast<uint8_t*>(data_), size_);
}

}  // namespace lmp
