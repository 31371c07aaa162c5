// GPT-2's byte <-> unicode map (used by byte-level BPE: GPT-2, LLaMA-3, Qwen2): the printable bytes
// '!'..'~', '¡'..'¬', '®'..'ÿ' map to the code point of the same value, the other 68 bytes to
// U+0100.. in increasing byte order, so every byte string becomes a string of visible characters.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace lmp::byte_level {

// Code point that stands for `byte`.
char32_t byte_to_char(uint8_t byte);
// Byte a code point stands for, or -1 when it is not one of the 256 byte characters.
int char_to_byte(char32_t cp);
// Appends the byte characters (UTF-8) of every byte of `bytes` to `out`.
void encode_bytes(std::string_view bytes, std::string& out);
// Bytes of a string of byte characters; false (out unspecified) if a character is not one of them.
bool decode_chars(std::string_view text, std::string& out);

}  // namespace lmp::byte_level
