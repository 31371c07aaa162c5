// ByteReader: a bounds-checked little-endian cursor over a byte range (a mapped file). Every read names
// the file and the field being read when it runs past the end.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>

#include "core/error.h"
#include "io/printable.h"

namespace lmp {

class ByteReader {
 public:
  // `what` prefixes errors ("gguf /path/model.gguf").
  ByteReader(const uint8_t* data, size_t size, std::string what) : data_(data), size_(size), what_(std::move(what)) {}

  size_t pos() const { return pos_; }
  size_t size() const { return size_; }
  size_t remaining() const { return size_ - pos_; }
  const std::string& what() const { return what_; }

  // Fails unless `n` more bytes are available while reading `field`.
  void need(uint64_t n, std::string_view field) const {
    if (n > remaining())
      fail(what_, ": truncated while reading ", printable(field), " at byte ", pos_, ": need ", n, " bytes, ",
           remaining(), " left");
  }

  template <typename T>
  T read(std::string_view field) {
    static_assert(std::is_trivially_copyable_v<T>);
    need(sizeof(T), field);
    T v;
    std::memcpy(&v, data_ + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }

  // `n` raw bytes as a view into the underlying range.
  std::string_view bytes(uint64_t n, std::string_view field) {
    need(n, field);
    std::string_view s(reinterpret_cast<const char*>(data_ + pos_), size_t(n));
    pos_ += size_t(n);
    return s;
  }

  void skip(uint64_t n, std::string_view field) { bytes(n, field); }
  void seek(size_t pos) { pos_ = pos <= size_ ? pos : size_; }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
  std::string what_;
};

}  // namespace lmp
