#include "export/hf_tokenizer_json.h"

#include <filesystem>
#include <fstream>
#include <unordered_set>

#include "core/error.h"
#include "export/spm_merges.h"
#include "tokenizer/spm_tokenizer.h"
#include "tokenizer/utf8.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace lmp {
namespace {

const char* const kMeta = "\xE2\x96\x81";  // ▁

bool added(SpmTokenType t) {
  return t == SpmTokenType::Control || t == SpmTokenType::Unknown || t == SpmTokenType::UserDefined;
}

// Whether id's piece goes into the JSON: valid UTF-8 and the first id of its piece.
bool representable(const SpmTokenizer& tok, const SpmVocab& v, int32_t id) {
  return utf8::find_invalid(v.pieces[id]) < 0 && tok.token_id(v.pieces[id]) == id;
}

// The pieces SpmTokenizer cuts out of the text and maps straight to their id.
json added_tokens(const SpmTokenizer& tok, const SpmVocab& v) {
  json list = json::array();
  for (int32_t id = 0; id < int32_t(v.pieces.size()); ++id) {
    if (!added(tok.type(id)) || v.pieces[id].empty() || !representable(tok, v, id)) continue;
    list.push_back({{"id", id}, {"content", v.pieces[id]}, {"single_word", false}, {"lstrip", false},
                    {"rstrip", false}, {"normalized", false},
                    {"special", tok.type(id) != SpmTokenType::UserDefined}});
  }
  return list;
}

json bpe_model(const SpmTokenizer& tok, const SpmVocab& v) {
  json vocab = json::object();
  bool bytes = false;
  for (int32_t id = 0; id < int32_t(v.pieces.size()); ++id) {
    if (!representable(tok, v, id)) continue;
    vocab[v.pieces[id]] = id;
    bytes = bytes || tok.type(id) == SpmTokenType::Byte;
  }
  json merges = json::array();
  for (const SpmMerge& m : spm_merges(v, tok)) merges.push_back({m.left, m.right});
  json model = {{"type", "BPE"}, {"dropout", nullptr}, {"unk_token", nullptr},
                {"continuing_subword_prefix", nullptr}, {"end_of_word_suffix", nullptr},
                {"fuse_unk", false}, {"byte_fallback", bytes}, {"ignore_merges", false}};
  if (v.unk_id >= 0 && representable(tok, v, v.unk_id)) model["unk_token"] = v.pieces[v.unk_id];
  model["vocab"] = std::move(vocab);
  model["merges"] = std::move(merges);
  return model;
}

json post_processor(const SpmVocab& v) {
  const json a = {{"Sequence", {{"id", "A"}, {"type_id", 0}}}};
  const json b = {{"Sequence", {{"id", "B"}, {"type_id", 1}}}};
  if (!v.add_bos || v.bos_id < 0)
    return {{"type", "TemplateProcessing"}, {"single", {a}}, {"pair", {a, b}}, {"special_tokens", json::object()}};
  const std::string& bos = v.pieces[v.bos_id];
  auto special = [&](int type_id) { return json{{"SpecialToken", {{"id", bos}, {"type_id", type_id}}}}; };
  return {{"type", "TemplateProcessing"},
          {"single", {special(0), a}},
          {"pair", {special(0), a, special(1), b}},
          {"special_tokens", {{bos, {{"id", bos}, {"ids", {v.bos_id}}, {"tokens", {bos}}}}}}};
}

json decoder(const SpmVocab& v) {
  json steps = {{{"type", "Replace"}, {"pattern", {{"String", kMeta}}}, {"content", " "}},
                {{"type", "ByteFallback"}},
                {{"type", "Fuse"}}};
  if (v.add_space_prefix) steps.push_back({{"type", "Strip"}, {"content", " "}, {"start", 1}, {"stop", 0}});
  return {{"type", "Sequence"}, {"decoders", std::move(steps)}};
}

// An AddedToken as tokenizer_config.json / special_tokens_map.json write it.
json token_object(const std::string& content, bool special) {
  json t = {{"content", content}, {"lstrip", false}, {"normalized", false}, {"rstrip", false}, {"single_word", false}};
  if (special) t["special"] = true;
  return t;
}

// bos / eos / unk names that exist in `v`, for the config files.
std::vector<std::pair<const char*, std::string>> named_tokens(const SpmVocab& v) {
  std::vector<std::pair<const char*, std::string>> out;
  for (auto [key, id] : {std::pair{"bos_token", v.bos_id}, {"eos_token", v.eos_id}, {"unk_token", v.unk_id}})
    if (id >= 0 && id < int32_t(v.pieces.size())) out.emplace_back(key, v.pieces[id]);
  return out;
}

void write_json(const json& j, const fs::path& path, const std::string& who) {
  const fs::path tmp = path.string() + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary);
    f << j.dump(2, ' ', false, json::error_handler_t::replace) << "\n";
    LMP_CHECK(f.good(), who, ": cannot write ", tmp.string());
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  LMP_CHECK(!ec, who, ": cannot rename ", tmp.string(), " to ", path.string(), ": ", ec.message());
}

}  // namespace

json spm_tokenizer_json(const SpmVocab& vocab) {
  const SpmTokenizer tok(vocab);  // validates; resolves token types and piece ids
  const std::string scheme = vocab.add_space_prefix ? "always" : "never";
  return {{"version", "1.0"},
          {"truncation", nullptr},
          {"padding", nullptr},
          {"added_tokens", added_tokens(tok, vocab)},
          {"normalizer", nullptr},
          {"pre_tokenizer", {{"type", "Metaspace"}, {"replacement", kMeta}, {"prepend_scheme", scheme}, {"split", false}}},
          {"post_processor", post_processor(vocab)},
          {"decoder", decoder(vocab)},
          {"model", bpe_model(tok, vocab)}};
}

json spm_tokenizer_config(const SpmVocab& vocab) {
  const SpmTokenizer tok(vocab);
  json decoder_entries = json::object();
  for (const json& t : added_tokens(tok, vocab))
    decoder_entries[std::to_string(t["id"].get<int32_t>())] = token_object(t["content"], t["special"]);
  json cfg = {{"add_bos_token", vocab.add_bos}, {"add_eos_token", false},
              {"added_tokens_decoder", std::move(decoder_entries)}, {"clean_up_tokenization_spaces", false},
              {"tokenizer_class", "PreTrainedTokenizerFast"}};
  for (const auto& [key, piece] : named_tokens(vocab)) cfg[key] = piece;
  return cfg;
}

json spm_special_tokens_map(const SpmVocab& vocab) {
  json map = json::object();
  for (const auto& [key, piece] : named_tokens(vocab)) map[key] = token_object(piece, false);
  return map;
}

void write_spm_tokenizer_files(const SpmVocab& vocab, const std::string& dir, const std::string& who) {
  write_json(spm_tokenizer_json(vocab), fs::path(dir) / "tokenizer.json", who);
  write_json(spm_tokenizer_config(vocab), fs::path(dir) / "tokenizer_config.json", who);
  write_json(spm_special_tokens_map(vocab), fs::path(dir) / "special_tokens_map.json", who);
}

}  // namespace lmp
