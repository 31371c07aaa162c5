// tokenizer.ggml.* for GGUF exports (see gguf_vocab.h).
#include "export/gguf_vocab.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "core/error.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace lmp {

namespace {

bool is_byte_piece(const std::string& p) {
  return p.size() == 6 && p.rfind("<0x", 0) == 0 && p[5] == '>' && std::isxdigit(uint8_t(p[3])) &&
         std::isxdigit(uint8_t(p[4]));
}

std::vector<int32_t> types_of(const SpmVocab& v) {
  std::vector<int32_t> t(v.pieces.size(), int32_t(SpmTokenType::Normal));
  for (size_t i = 0; i < v.pieces.size(); ++i) {
    if (!v.types.empty()) t[i] = int32_t(v.types[i]);
    else if (int32_t(i) == v.unk_id) t[i] = int32_t(SpmTokenType::Unknown);
    else if (int32_t(i) == v.bos_id || int32_t(i) == v.eos_id) t[i] = int32_t(SpmTokenType::Control);
    else if (is_byte_piece(v.pieces[i])) t[i] = int32_t(SpmTokenType::Byte);
  }
  return t;
}

// Whether the tokenizer prepends "▁" (Metaspace pre-tokenizer, or a Prepend normalizer); nullopt when
// the text is not mapped to SentencePiece's "▁" form at all.
std::optional<bool> space_prefix(const json& t) {
  const json& pre = t.value("pre_tokenizer", json());
  if (pre.is_object() && pre.value("type", "") == "Metaspace")
    return pre.value("prepend_scheme", "always") != "never" && pre.value("add_prefix_space", true);
  const json& norm = t.value("normalizer", json());
  if (!norm.is_object() || norm.value("type", "") != "Sequence") return std::nullopt;
  bool prepend = false, replace = false;
  for (const json& n : norm.value("normalizers", json::array())) {
    prepend |= n.value("type", "") == "Prepend";
    replace |= n.value("type", "") == "Replace";
  }
  return replace ? std::optional<bool>(prepend) : std::nullopt;
}

std::string merge_result(const json& m) {
  if (m.is_array() && m.size() == 2) return m[0].get<std::string>() + m[1].get<std::string>();
  const std::string s = m.get<std::string>();
  const auto sp = s.find(' ');
  return sp == std::string::npos ? s : s.substr(0, sp) + s.substr(sp + 1);
}

SpmVocab convert(const json& t, bool prefix, const std::string& dir) {
  const json& model = t.at("model");
  SpmVocab v;
  std::map<int64_t, std::string> by_id;
  for (const auto& [piece, id] : model.at("vocab").items()) by_id[id.get<int64_t>()] = piece;
  std::map<int64_t, bool> special;
  for (const json& a : t.value("added_tokens", json::array())) {
    by_id[a.at("id").get<int64_t>()] = a.at("content").get<std::string>();
    special[a.at("id").get<int64_t>()] = a.value("special", false);
  }
  const int64_t n = by_id.empty() ? 0 : by_id.rbegin()->first + 1;
  LMP_CHECK(n == int64_t(by_id.size()) && by_id.begin()->first == 0, "ids are not contiguous from 0");
  std::map<std::string, int64_t> id_of;
  for (const auto& [id, p] : by_id) v.pieces.push_back(p), id_of[p] = id;
  const json& merges = model.value("merges", json::array());
  v.scores.assign(size_t(n), 0.0f);
  std::vector<bool> scored(size_t(n), false);
  for (size_t r = 0; r < merges.size(); ++r) {
    const auto it = id_of.find(merge_result(merges[r]));
    if (it != id_of.end() && !scored[size_t(it->second)]) v.scores[size_t(it->second)] = -float(r), scored[size_t(it->second)] = true;
  }
  for (int64_t i = 0; i < n; ++i)
    if (!scored[size_t(i)] && v.pieces[size_t(i)].size() > 1) v.scores[size_t(i)] = -float(merges.size() + size_t(i));
  const std::string unk = model.value("unk_token", json()).is_string() ? model["unk_token"].get<std::string>() : "";
  v.unk_id = id_of.count(unk) ? int32_t(id_of[unk]) : 0;
  v.types.resize(size_t(n), SpmTokenType::Normal);
  for (int64_t i = 0; i < n; ++i) {
    if (i == v.unk_id) v.types[size_t(i)] = SpmTokenType::Unknown;
    else if (special.count(i)) v.types[size_t(i)] = special[i] ? SpmTokenType::Control : SpmTokenType::UserDefined;
    else if (is_byte_piece(v.pieces[size_t(i)])) v.types[size_t(i)] = SpmTokenType::Byte;
  }
  v.add_space_prefix = prefix;
  std::ifstream cf(fs::path(dir) / "tokenizer_config.json");
  const json tc = cf ? json::parse(cf, nullptr, false) : json();
  v.add_bos = tc.is_object() ? tc.value("add_bos_token", true) : true;
  return v;
}

}  // namespace

std::optional<SpmVocab> spm_vocab_from_tokenizer_json(const std::string& path, std::string* why) {
  std::ifstream f(path);
  const json t = json::parse(f, nullptr, false);
  try {
    LMP_CHECK(t.is_object() && t.contains("model"), "not a tokenizer.json");
    LMP_CHECK(t["model"].value("type", "") == "BPE", "model type is not BPE");
    LMP_CHECK(t["model"].value("byte_fallback", false), "BPE without byte_fallback (byte-level BPE)");
    const auto prefix = space_prefix(t);
    LMP_CHECK(prefix.has_value(), "no SentencePiece-style \"\u2581\" pre-tokenizer");
    return convert(t, *prefix, fs::path(path).parent_path().string());
  } catch (const std::exception& e) {
    if (why) *why = e.what();
    return std::nullopt;
  }
}

void write_gguf_vocab(const Checkpoint& input, GgufFileWriter& f) {
  const TokenizerSource& src = input.tokenizer_source();
  std::optional<SpmVocab> v;
  std::string why = "the input has no tokenizer";
  if (src.kind == TokenizerSource::Kind::Spm) v = src.spm;
  else if (src.kind == TokenizerSource::Kind::HfJson) v = spm_vocab_from_tokenizer_json(src.json_path, &why);
  if (!v) {
    std::fprintf(stderr, "export gguf: warning: tokenizer not written (%s); pass --tokenizer when loading\n", why.c_str());
    return;
  }
  const ModelConfig& c = input.config();
  if (src.kind == TokenizerSource::Kind::HfJson) {  // special ids from the model config
    if (c.bos_token_id >= 0) v->bos_id = int32_t(c.bos_token_id);
    if (!c.eos_token_ids.empty()) v->eos_id = c.eos_token_ids[0];
  }
  f.kv_str("tokenizer.ggml.model", "llama");
  f.kv_str_array("tokenizer.ggml.tokens", v->pieces);
  f.kv_f32_array("tokenizer.ggml.scores", v->scores);
  f.kv_i32_array("tokenizer.ggml.token_type", types_of(*v));
  f.kv_u32("tokenizer.ggml.bos_token_id", uint32_t(v->bos_id));
  f.kv_u32("tokenizer.ggml.eos_token_id", uint32_t(v->eos_id));
  f.kv_u32("tokenizer.ggml.unknown_token_id", uint32_t(v->unk_id));
  f.kv_bool("tokenizer.ggml.add_bos_token", v->add_bos);
  f.kv_bool("tokenizer.ggml.add_space_prefix", v->add_space_prefix);
}

}  // namespace lmp
