// A float array in anonymous memory, or spilled: in a shared mapping of an unlinked scratch file, so that
// the kernel writes the pages out and reads them back as they are used instead of holding them all in
// the process (the calibration streams of `compress --max-memory`, docs/memory.md). Either way it is
// addressed as one contiguous array; the spilled kind lets go of a range once it has been processed
// (release()), so the process keeps about one batch resident while the rest lives in the page cache,
// which the kernel can drop after writing it to the file.
#pragma once
#include <cstddef>
#include <string>
#include <vector>

namespace lmp {

class FloatStore {
 public:
  FloatStore() = default;
  // `n` zeros in memory.
  static FloatStore in_memory(size_t n);
  // A copy of `v` in memory.
  static FloatStore in_memory(const std::vector<float>& v);
  // `n` zeros in a scratch file created (and unlinked at once) in directory `dir`; `what` prefixes errors.
  static FloatStore spilled(size_t n, const std::string& dir, const std::string& what);

  ~FloatStore();
  FloatStore(FloatStore&& o) noexcept;
  FloatStore& operator=(FloatStore&& o) noexcept;
  // Copies are deep and of the same kind (a spilled store copies into a new scratch file).
  FloatStore(const FloatStore& o);
  FloatStore& operator=(const FloatStore& o);

  float* data() { return data_; }
  const float* data() const { return data_; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  bool is_spilled() const { return fd_ >= 0; }

  // Spilled: the process lets go of the pages wholly inside [from, from + count) (their contents stay
  // in the file and come back when read); in memory: nothing.
  void release(size_t from, size_t count) const;
  std::vector<float> to_vector() const { return std::vector<float>(data_, data_ + size_); }

 private:
  void reset();
  void copy_into(FloatStore& c) const;  // c: the same size

  std::vector<float> memory_;
  float* data_ = nullptr;
  size_t size_ = 0;
  int fd_ = -1;
  std::string dir_, what_;
};

}  // namespace lmp
