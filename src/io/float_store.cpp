// Float stores (see float_store.h): a std::vector, or an mmap(MAP_SHARED) of an unlinked file.
#include "io/float_store.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <utility>

#include "core/error.h"

namespace lmp {

FloatStore FloatStore::in_memory(size_t n) {
  FloatStore s;
  s.memory_.assign(n, 0.0f);
  s.data_ = s.memory_.data();
  s.size_ = n;
  return s;
}

FloatStore FloatStore::in_memory(const std::vector<float>& v) {
  FloatStore s = in_memory(v.size());
  std::copy(v.begin(), v.end(), s.data_);
  return s;
}

FloatStore FloatStore::spilled(size_t n, const std::string& dir, const std::string& what) {
  FloatStore s;
  s.dir_ = dir;
  s.what_ = what;
  if (n == 0) return s;
  std::string path = dir + "/lmpress-spill-XXXXXX";
  s.fd_ = ::mkostemp(path.data(), O_CLOEXEC);
  LMP_CHECK(s.fd_ >= 0, what, ": cannot create a scratch file in ", dir, ": ", std::strerror(errno));
  ::unlink(path.c_str());
  const size_t bytes = n * sizeof(float);
  // Blocks allocated now, so that a full disk fails here with a clear message, not as SIGBUS later.
  const int err = ::posix_fallocate(s.fd_, 0, off_t(bytes));
  if (err == EOPNOTSUPP || err == EINVAL) {
    LMP_CHECK(::ftruncate(s.fd_, off_t(bytes)) == 0, what, ": cannot size the scratch file in ", dir, " to ",
              bytes, " bytes: ", std::strerror(errno));
  } else {
    LMP_CHECK(err == 0, what, ": cannot reserve ", bytes, " bytes for the scratch file in ", dir,
              " (disk full?): ", std::strerror(err));
  }
  void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, s.fd_, 0);
  LMP_CHECK(p != MAP_FAILED, what, ": cannot map the ", bytes, "-byte scratch file in ", dir, ": ",
            std::strerror(errno));
  s.data_ = static_cast<float*>(p);
  s.size_ = n;
  return s;
}

FloatStore::FloatStore(const FloatStore& o) { *this = o; }

FloatStore& FloatStore::operator=(const FloatStore& o) {
  if (this == &o) return *this;
  FloatStore c = o.is_spilled() ? spilled(o.size_, o.dir_, o.what_) : in_memory(o.size_);
  o.copy_into(c);
  return *this = std::move(c);
}

void FloatStore::copy_into(FloatStore& c) const {
  for (size_t from = 0, step = size_t(1) << 22; from < size_; from += step) {  // 16 MB at a time
    const size_t count = std::min(step, size_ - from);
    std::memcpy(c.data_ + from, data_ + from, count * sizeof(float));
    release(from, count);
    c.release(from, count);
  }
}

void FloatStore::release(size_t from, size_t count) const {
  if (!is_spilled() || count == 0) return;
  const auto page = uintptr_t(::sysconf(_SC_PAGESIZE));
  const uintptr_t begin = (uintptr_t(data_ + from) + page - 1) / page * page;
  const uintptr_t end = uintptr_t(data_ + from + count) / page * page;
  // Shared file pages: MADV_DONTNEED drops them from this process only; the page cache keeps (and
  // writes back) what was written.
  if (end > begin) ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED);
}

void FloatStore::reset() {
  if (fd_ >= 0) {
    if (data_) ::munmap(data_, size_ * sizeof(float));
    ::close(fd_);
  }
  memory_.clear();
  memory_.shrink_to_fit();
  data_ = nullptr;
  size_ = 0;
  fd_ = -1;
}

FloatStore::~FloatStore() { reset(); }

FloatStore::FloatStore(FloatStore&& o) noexcept { *this = std::move(o); }

FloatStore& FloatStore::operator=(FloatStore&& o) noexcept {
  if (this == &o) return *this;
  reset();
  memory_ = std::move(o.memory_);
  data_ = o.fd_ >= 0 ? o.data_ : memory_.data();
  size_ = o.size_;
  fd_ = o.fd_;
  dir_ = std::move(o.dir_);
  what_ = std::move(o.what_);
  o.data_ = nullptr;
  o.size_ = 0;
  o.fd_ = -1;
  return *this;
}

}  // namespace lmp
