// LineReader: the lines of a ByteSource, one at a time, without the '\n' (a final line without one
// counts). Lines may be longer than the read buffer; memory is bounded by the longest line.
#pragma once
#include <string>
#include <string_view>

#include "data/byte_source.h"

namespace lmp {

class LineReader {
 public:
  explicit LineReader(ByteSource& src) : src_(src) {}
  // Sets `line` to the next line (valid until the next call); false at the end.
  bool next(std::string_view& line);

 private:
  bool fill();  // reads more bytes; false at the end of the source
  ByteSource& src_;
  std::string buf_;
  size_t pos_ = 0;
  bool eof_ = false;
};

}  // namespace lmp
