// One record of a .jsonl pool: the string values of two top-level keys of a JSON object (the text field
// and "source"), decoded from one line without building a DOM. Other values are skipped (validated
// only as far as needed to find their end).
#pragma once
#include <string>
#include <string_view>

namespace lmp {

struct JsonlRecord {
  std::string text, source;
  bool has_text = false, has_source = false;
};

// Parses `line`; returns "" on success, otherwise what was wrong ("expected ':' at column 12").
// A string value of `text_key` / "source" sets text / source; a non-string value of the text key is an
// error. \u escapes are decoded to UTF-8 (a lone surrogate gives bytes that are not valid UTF-8).
std::string parse_jsonl_record(std::string_view line, std::string_view text_key, JsonlRecord& out);

}  // namespace lmp
