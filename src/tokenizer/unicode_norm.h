// Unicode normalization forms (UAX #15) and lowercasing for tokenizer.json normalizers, through ICU.
#pragma once
#include <string>
#include <string_view>

namespace lmp {

enum class NormForm { NFC, NFD, NFKC, NFKD };

// `s` (valid UTF-8) in normalization form `form`.
std::string unicode_normalize(std::string_view s, NormForm form);
// Full Unicode lowercase mapping of `s` (root locale, as Rust's str::to_lowercase).
std::string unicode_lowercase(std::string_view s);

}  // namespace lmp
