// Evaluation texts: a `.txt` file is one string; a `.jsonl` file is its records' text fields joined by
// "\n\n" (the window protocol of shared/README.md). Text must be valid UTF-8 and non-empty.
#pragma once
#include <string>

namespace lmp {

std::string read_file_bytes(const std::string& path);
// Loads an evaluation text; errors name the file, the line (jsonl) and the problem.
std::string load_eval_text(const std::string& path, const std::string& text_field = "text");
// Byte offset of the first invalid UTF-8 sequence, or -1 when `s` is valid.
long long find_invalid_utf8(const std::string& s);

}  // namespace lmp
