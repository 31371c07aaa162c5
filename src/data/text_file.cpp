#include "data/text_file.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/error.h"

namespace lmp {

std::string read_file_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  LMP_CHECK(f, "cannot open '", path, "' for reading");
  std::ostringstream ss;
  ss << f.rdbuf();
  LMP_CHECK(!f.bad(), "error while reading '", path, "'");
  return ss.str();
}

long long find_invalid_utf8(const std::string& s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  size_t i = 0;
  while (i < n) {
    const unsigned char c = p[i];
    size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (len == 0 || i + len > n) return (long long)i;
    uint32_t cp = len == 1 ? c : len == 2 ? (c & 0x1f) : len == 3 ? (c & 0x0f) : (c & 0x07);
    for (size_t k = 1; k < len; ++k) {
      if ((p[i + k] & 0xc0) != 0x80) return (long long)i;
      cp = (cp << 6) | (p[i + k] & 0x3f);
    }
    const bool overlong = (len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000);
    if (overlong || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return (long long)i;
    i += len;
  }
  return -1;
}

namespace {
std::string join_jsonl_texts(const std::string& path, const std::string& bytes, const std::string& field) {
  std::string out;
  std::istringstream in(bytes);
  std::string line;
  size_t lineno = 0, records = 0;
  while (std::getline(in, line)) {
    ++lineno;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line);
    } catch (const nlohmann::json::exception& e) {
      fail(path, ":", lineno, ": not valid JSON (", e.what(), ")");
    }
    LMP_CHECK(j.is_object() && j.contains(field) && j[field].is_string(), path, ":", lineno,
              ": expected an object with a string field '", field, "'");
    if (records++) out += "\n\n";
    out += j[field].get<std::string>();
  }
  LMP_CHECK(records > 0, path, ": no JSON records found");
  return out;
}
}  // namespace

std::string load_eval_text(const std::string& path, const std::string& field) {
  std::string bytes = read_file_bytes(path);
  LMP_CHECK(!bytes.empty(), path, ": file is empty");
  const long long bad = find_invalid_utf8(bytes);
  LMP_CHECK(bad < 0, path, ": not valid UTF-8 at byte offset ", bad);
  const bool jsonl = path.size() >= 6 && path.compare(path.size() - 6, 6, ".jsonl") == 0;
  std::string text = jsonl ? join_jsonl_texts(path, bytes, field) : std::move(bytes);
  LMP_CHECK(!text.empty(), path, ": text is empty");
  return text;
}

}  // namespace lmp
