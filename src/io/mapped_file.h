// MappedFile: a whole file mapped read-only into memory. Tensors viewing its bytes hold a shared_ptr to
// it, so the mapping lives as long as any view does.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace lmp {

class MappedFile {
 public:
  // Maps `path`; throws lmp::Error naming the path when it cannot be opened or mapped.
  static std::shared_ptr<const MappedFile> open(const std::string& path);

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  const std::string& path() const { return path_; }
  // Drops this process's pages of the bytes [p, p + n) of the mapping (madvise MADV_DONTNEED, rounded
  // out to whole pages), so they stop counting in its resident set; the page cache keeps them and the
  // next read faults them back with the same bytes. A no-op outside the mapping. Safe while views
  // exist: the mapping is read-only, so nothing is lost.
  void release(const void* p, size_t n) const;

  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

 private:
  MappedFile() = default;
  std::string path_;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  bool mapped_ = false;
};

}  // namespace lmp
