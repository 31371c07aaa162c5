#include "data/line_reader.h"

#include <cstring>

namespace lmp {

bool LineReader::fill() {
  if (eof_) return false;
  constexpr size_t kRead = size_t(1) << 20;
  if (pos_ > 0) {  // drop consumed bytes
    buf_.erase(0, pos_);
    pos_ = 0;
  }
  const size_t old = buf_.size();
  buf_.resize(old + kRead);
  const size_t got = src_.read(buf_.data() + old, kRead);
  buf_.resize(old + got);
  eof_ = got == 0;
  return got > 0;
}

bool LineReader::next(std::string_view& line) {
  size_t scanned = pos_;
  for (;;) {
    const char* start = buf_.data() + scanned;
    const void* nl = std::memchr(start, '\n', buf_.size() - scanned);
    if (nl) {
      const size_t end = static_cast<const char*>(nl) - buf_.data();
      line = std::string_view(buf_.data() + pos_, end - pos_);
      pos_ = end + 1;
      return true;
    }
    const size_t consumed = pos_;
    scanned = buf_.size() - consumed;  // offsets shift when fill() drops consumed bytes
    if (!fill()) break;
  }
  if (pos_ >= buf_.size()) return false;
  line = std::string_view(buf_.data() + pos_, buf_.size() - pos_);
  pos_ = buf_.size();
  return true;
}

}  // namespace lmp
