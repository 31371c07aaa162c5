#include "io/llama2c_vocab.h"

#include <algorithm>
#include <filesystem>
#include <vector>

#include "core/error.h"
#include "io/byte_reader.h"
#include "io/mapped_file.h"

namespace lmp {

namespace fs = std::filesystem;

namespace {

std::string replace_spaces(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char ch : s) {
    if (ch == ' ') out += "\xE2\x96\x81";  // U+2581 "▁"
    else out += ch;
  }
  return out;
}

bool is_byte_piece(const std::string& p) {
  auto hex = [](char c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'); };
  return p.size() == 6 && p.compare(0, 3, "<0x") == 0 && hex(p[3]) && hex(p[4]) && p[5] == '>';
}

void set_piece(SpmVocab& v, int64_t id, std::string_view raw) {
  std::string piece;
  SpmTokenType type = SpmTokenType::Normal;
  if (id == 0) { piece = "<unk>"; type = SpmTokenType::Unknown; }
  else if (id == 1) { piece = "<s>"; type = SpmTokenType::Control; }
  else if (id == 2) { piece = "</s>"; type = SpmTokenType::Control; }
  else { piece = replace_spaces(raw); if (is_byte_piece(piece)) type = SpmTokenType::Byte; }
  v.pieces.push_back(std::move(piece));
  v.types.push_back(type);
}

bool is_tokenizer_name(const std::string& name) {
  if (name == "tokenizer.bin") return true;
  return name.size() >= 7 && name.compare(0, 3, "tok") == 0 && name.compare(name.size() - 4, 4, ".bin") == 0;
}

}  // namespace

SpmVocab read_llama2c_vocab(const std::string& path, int64_t vocab_size) {
  const auto f = MappedFile::open(path);
  ByteReader r(f->data(), f->size(), "llama2c tokenizer " + path);
  const int32_t max_len = r.read<int32_t>("max_token_length");
  LMP_CHECK(max_len >= 0, r.what(), ": max_token_length: expected a non-negative integer, found ", max_len);
  LMP_CHECK(vocab_size > 0 && uint64_t(vocab_size) <= r.remaining() / 8, r.what(), ": the model's vocab of ",
            vocab_size, " tokens does not fit in the file's ", r.size(), " bytes");
  SpmVocab v;
  v.pieces.reserve(size_t(vocab_size));
  v.scores.reserve(size_t(vocab_size));
  v.types.reserve(size_t(vocab_size));
  for (int64_t id = 0; id < vocab_size; ++id) {
    const std::string field = "token " + std::to_string(id);
    v.scores.push_back(r.read<float>(field));
    const int32_t len = r.read<int32_t>(field);
    LMP_CHECK(len >= 0, r.what(), ": ", field, ": negative length ", len);
    set_piece(v, id, r.bytes(uint64_t(len), field));
  }
  v.bos_id = 1;
  v.eos_id = 2;
  v.unk_id = 0;
  v.add_bos = true;
  v.add_space_prefix = true;
  return v;
}

std::string find_llama2c_tokenizer(const std::string& model_path) {
  fs::path dir = fs::path(model_path).parent_path();
  if (dir.empty()) dir = ".";
  std::vector<std::string> found;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const fs::path p = it->path();
    std::error_code ec2;
    if (is_tokenizer_name(p.filename().string()) && it->is_regular_file(ec2) && !fs::equivalent(p, model_path, ec2))
      found.push_back(p.string());
  }
  std::sort(found.begin(), found.end());
  LMP_CHECK(!found.empty(), "llama2c ", model_path, ": no tokenizer beside the model (looked for tok*.bin and ",
            "tokenizer.bin in ", dir.string(), "); pass --tokenizer");
  if (found.size() > 1) {
    std::string list;
    for (const auto& p : found) list += (list.empty() ? "" : ", ") + fs::path(p).filename().string();
    fail("llama2c ", model_path, ": several tokenizers beside the model (", list, "); pass --tokenizer to choose one");
  }
  return found[0];
}

}  // namespace lmp
