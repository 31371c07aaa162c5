// UTF-8 validation / lossy conversion and GPT-2's byte <-> unicode map.
#include <gtest/gtest.h>

#include <set>

#include "core/error.h"
#include "tokenizer/byte_level.h"
#include "tokenizer/utf8.h"

using namespace lmp;

TEST(Utf8, FindsFirstInvalidByte) {
  EXPECT_EQ(utf8::find_invalid("plain ascii text, long enough for the 8-byte path"), -1);
  EXPECT_EQ(utf8::find_invalid("caf\xC3\xA9 \xE2\x96\x81 \xF0\x9F\x98\x80"), -1);
  EXPECT_EQ(utf8::find_invalid("abc\xFF"), 3);
  EXPECT_EQ(utf8::find_invalid("0123456789\xC3"), 10);             // truncated
  EXPECT_EQ(utf8::find_invalid("ab\xC0\xAF"), 2);                  // overlong '/'
  EXPECT_EQ(utf8::find_invalid("x\xED\xA0\x80"), 1);               // surrogate U+D800
  EXPECT_EQ(utf8::find_invalid("\xF4\x90\x80\x80"), 0);            // above U+10FFFF
  EXPECT_EQ(utf8::find_invalid("\xE0\x80\x80"), 0);                // overlong 3-byte
  EXPECT_EQ(utf8::find_invalid(std::string_view("a\0b", 3)), -1);  // NUL is valid
}

TEST(Utf8, ValidateNamesTheOffset) {
  try {
    utf8::validate("hello \x80 world", "tokenizer: encode");
    FAIL() << "no throw";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "tokenizer: encode: invalid UTF-8 at byte 6 (0x80)");
  }
}

TEST(Utf8, LossyReplacesMaximalSubparts) {
  EXPECT_EQ(utf8::to_valid_lossy("ok"), "ok");
  EXPECT_EQ(utf8::to_valid_lossy("a\xFF" "b"), "a\xEF\xBF\xBD" "b");
  // E2 82 is a truncated 3-byte sequence: one replacement for both bytes.
  EXPECT_EQ(utf8::to_valid_lossy("\xE2\x82" "x"), "\xEF\xBF\xBD" "x");
  EXPECT_EQ(utf8::to_valid_lossy("\xC3"), "\xEF\xBF\xBD");
}

TEST(Utf8, EncodeDecodeRoundTrip) {
  for (char32_t cp : {U'a', U'\u00e9', U'\u2581', U'\U0001F600', U'\u0000', U'\U0010FFFF'}) {
    std::string s;
    utf8::append(s, cp);
    char32_t back;
    EXPECT_EQ(utf8::decode(s, 0, &back), int(s.size()));
    EXPECT_EQ(back, cp);
    EXPECT_EQ(utf8::find_invalid(s), -1);
  }
}

TEST(ByteLevel, MapIsABijectionOntoPrintableCharacters) {
  std::set<char32_t> seen;
  for (int b = 0; b < 256; ++b) {
    const char32_t c = byte_level::byte_to_char(uint8_t(b));
    EXPECT_TRUE(seen.insert(c).second);
    EXPECT_EQ(byte_level::char_to_byte(c), b);
  }
  EXPECT_EQ(byte_level::byte_to_char('A'), U'A');
  EXPECT_EQ(byte_level::byte_to_char(' '), U'\u0120');   // Ġ
  EXPECT_EQ(byte_level::byte_to_char('\n'), U'\u010A');  // Ċ
  EXPECT_EQ(byte_level::byte_to_char(0xAD), U'\u0143');  // soft hyphen is remapped too
  EXPECT_EQ(byte_level::char_to_byte(U'\u2581'), -1);
}

TEST(ByteLevel, EncodeDecodeBytes) {
  std::string all;
  for (int b = 0; b < 256; ++b) all.push_back(char(b));
  std::string chars, back;
  byte_level::encode_bytes(all, chars);
  EXPECT_EQ(utf8::find_invalid(chars), -1);
  ASSERT_TRUE(byte_level::decode_chars(chars, back));
  EXPECT_EQ(back, all);
  std::string out;
  EXPECT_FALSE(byte_level::decode_chars("\xE2\x96\x81", out));
}
