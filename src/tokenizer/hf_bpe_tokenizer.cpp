#include "tokenizer/hf_bpe_tokenizer.h"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "tokenizer/json_view.h"
#include "tokenizer/utf8.h"
#include "tokenizer/word_cache.h"

namespace lmp {
namespace {

nlohmann::json read_json(const std::string& path, const char* what) {
  std::ifstream f(path, std::ios::binary);
  if (!f) fail(what, " ", path, ": cannot open");
  std::ostringstream ss;
  ss << f.rdbuf();
  try {
    return nlohmann::json::parse(ss.str());
  } catch (const nlohmann::json::exception& e) {
    fail(what, " ", path, ": not valid JSON: ", e.what());
  }
}

std::vector<AddedToken> parse_added_tokens(const JsonView& list) {
  std::vector<AddedToken> out;
  if (list.is_null()) return out;
  for (size_t i = 0; i < list.size(); ++i) {
    const JsonView t = list.at(i);
    AddedToken a;
    const int64_t id = t.at("id").integer();
    if (id < 0 || id >= (int64_t(1) << 24)) t.at("id").fail_here("expected a token id, found " + std::to_string(id));
    a.id = static_cast<int32_t>(id);
    a.content = t.at("content").str();
    a.special = t.bool_or("special", false);
    a.lstrip = t.bool_or("lstrip", false);
    a.rstrip = t.bool_or("rstrip", false);
    a.single_word = t.bool_or("single_word", false);
    a.normalized = t.bool_or("normalized", !a.special);
    out.push_back(std::move(a));
  }
  return out;
}

// tokenizer_config.json token fields are a string or {"content": string}.
std::string config_token(const JsonView& v) {
  if (v.is_null()) return "";
  if (v.is_string()) return v.str();
  if (v.is_object()) return v.at("content").str();
  v.expected("string or {\"content\": string}");
}

}  // namespace

struct HfBpeTokenizer::EncodeState : EncodeSession {
  MergeScratch scratch;
  std::vector<int32_t> symbols;
  std::vector<size_t> cuts;
  WordCache cache;
};

std::unique_ptr<HfBpeTokenizer> HfBpeTokenizer::load(const std::string& path, const HfTokenizerOptions& opts) {
  const nlohmann::json doc = read_json(path, "tokenizer.json");
  const std::string file = "tokenizer.json " + path;
  const JsonView root(doc, file);
  if (!root.is_object()) root.expected("object");
  auto t = std::unique_ptr<HfBpeTokenizer>(new HfBpeTokenizer());
  t->path_ = path;
  t->opts_ = opts;
  t->model_ = BpeModel::parse(root.at("model"));
  t->normalizer_ = parse_normalizer(root.opt("normalizer"));
  t->pre_ = parse_pre_tokenizer(root.opt("pre_tokenizer"));
  t->decoder_ = parse_decoder(root.opt("decoder"));
  t->prefix_ = parse_post_processor(root.opt("post_processor")).prefix;

  std::vector<AddedToken> added = parse_added_tokens(root.opt("added_tokens"));
  t->pieces_ = t->model_.pieces();
  for (const AddedToken& a : added) {
    if (static_cast<size_t>(a.id) >= t->pieces_.size()) t->pieces_.resize(a.id + 1);
    t->pieces_[a.id] = a.content;
  }
  t->special_.assign(t->pieces_.size(), 0);
  t->skip_.assign(t->pieces_.size(), 0);
  std::vector<AddedToken> raw, normalized;
  for (const AddedToken& a : added) {
    if (a.special) t->special_[a.id] = 1;
    (a.normalized ? normalized : raw).push_back(a);
  }
  t->raw_tokens_ = AddedTokenMatcher(std::move(raw));
  t->normalized_tokens_ = AddedTokenMatcher(std::move(normalized));
  for (size_t i = 0; i < t->prefix_.size(); ++i)
    if (static_cast<size_t>(t->prefix_[i]) >= t->pieces_.size())
      fail(file, ": field 'post_processor': token id ", t->prefix_[i], " is outside the vocabulary (",
           t->pieces_.size(), " tokens)");

  t->eos_id_ = t->token_id("</s>");
  if (t->eos_id_ < 0) t->eos_id_ = t->token_id("<|endoftext|>");
  if (opts.read_config) t->read_config(path);
  return t;
}

void HfBpeTokenizer::read_config(const std::string& path) {
  const auto cfg_path = (std::filesystem::path(path).parent_path() / "tokenizer_config.json").string();
  std::error_code ec;
  if (!std::filesystem::is_regular_file(cfg_path, ec)) return;
  const nlohmann::json doc = read_json(cfg_path, "tokenizer_config.json");
  const JsonView cfg(doc, "tokenizer_config.json " + cfg_path);
  if (!cfg.is_object()) cfg.expected("object");
  if (cfg.has("add_bos_token")) {
    if (!cfg.at("add_bos_token").boolean()) {
      prefix_.clear();
    } else if (prefix_.empty()) {
      const std::string bos = config_token(cfg.opt("bos_token"));
      const int32_t id = token_id(bos);
      if (id < 0) cfg.at("bos_token").fail_here("add_bos_token is true but bos_token \"" + bos + "\" is not in the vocabulary");
      prefix_ = {id};
    }
  }
  mark_skipped(cfg);
  const std::string eos = config_token(cfg.opt("eos_token"));
  if (!eos.empty()) {
    const int32_t id = token_id(eos);
    if (id < 0) cfg.at("eos_token").fail_here("eos_token \"" + eos + "\" is not in the vocabulary");
    eos_id_ = id;
  }
}

void HfBpeTokenizer::mark_skipped(const JsonView& cfg) {
  auto mark = [&](const std::string& name) {
    const int32_t id = name.empty() ? -1 : token_id(name);
    if (id >= 0) skip_[id] = 1;
  };
  for (const char* k : {"bos_token", "eos_token", "unk_token", "pad_token", "sep_token", "cls_token", "mask_token"})
    mark(config_token(cfg.opt(k)));
  for (const char* k : {"additional_special_tokens", "extra_special_tokens"}) {
    const JsonView list = cfg.opt(k);
    if (list.is_null()) continue;
    if (!list.is_array() && !list.is_object()) list.expected("array or object of tokens");
    size_t i = 0;
    for (const auto& item : list.raw()) mark(config_token(JsonView(item, list.file(), list.path() + "[" + std::to_string(i++) + "]")));
  }
  const JsonView dec = cfg.opt("added_tokens_decoder");
  if (dec.is_object())
    for (const auto& [id, entry] : dec.raw().items()) {
      const JsonView e(entry, dec.file(), dec.path() + "." + id);
      if (e.is_object() && e.bool_or("special", false)) mark(e.at("content").str());
    }
}

int32_t HfBpeTokenizer::token_id(std::string_view piece) const {
  for (size_t i = 0; i < pieces_.size(); ++i)
    if (special_[i] && pieces_[i] == piece) return static_cast<int32_t>(i);
  return model_.id_of(piece);
}

std::vector<int32_t> HfBpeTokenizer::encode(std::string_view text, bool add_bos) const {
  EncodeState st;
  return encode_with(st, text, add_bos);
}

std::unique_ptr<EncodeSession> HfBpeTokenizer::new_session() const { return std::make_unique<EncodeState>(); }

std::vector<int32_t> HfBpeTokenizer::encode_in(EncodeSession* session, std::string_view text, bool add_bos) const {
  auto* st = dynamic_cast<EncodeState*>(session);
  if (!st) return encode(text, add_bos);
  return encode_with(*st, text, add_bos);
}

// Words are a function of the text alone (the pre-tokenizer already marked word starts), so a cache
// entry stays valid across calls.
std::vector<int32_t> HfBpeTokenizer::encode_with(EncodeState& st, std::string_view text, bool add_bos) const {
  utf8::validate(text, "tokenizer: encode: input text");
  std::vector<int32_t> out;
  out.reserve(text.size() / 3 + 8);
  if (add_bos) out.insert(out.end(), prefix_.begin(), prefix_.end());
  std::vector<TextPiece> pieces;
  if (raw_tokens_.empty()) pieces.push_back({text, -1, 0});
  else raw_tokens_.split(text, pieces);
  for (const TextPiece& p : pieces) {
    if (p.id >= 0) out.push_back(p.id);
    else encode_segment(p.text, p.offset == 0, st, out);
  }
  return out;
}

void HfBpeTokenizer::encode_segment(std::string_view text, bool at_start, EncodeState& st,
                                    std::vector<int32_t>& out) const {
  std::string norm = normalizer_ ? normalizer_->apply(std::string(text)) : std::string(text);
  std::vector<PreSplit> splits;
  if (normalized_tokens_.empty()) {
    splits.push_back({std::move(norm), at_start});
  } else {
    std::vector<TextPiece> pieces;
    normalized_tokens_.split(norm, pieces);
    for (const TextPiece& p : pieces) {
      if (p.id >= 0) {
        if (pre_) pre_->apply(splits);
        for (const PreSplit& s : splits) encode_word(s.text, st, out);
        splits.clear();
        out.push_back(p.id);
      } else {
        splits.push_back({std::string(p.text), at_start && p.offset == 0});
      }
    }
  }
  if (pre_) pre_->apply(splits);
  for (const PreSplit& s : splits) encode_word(s.text, st, out);
}

// A cut is exact (BpeModel::find_cuts): no merge joins symbols across it, and merges on either side
// are independent, so rank order across parts does not matter.
void HfBpeTokenizer::encode_word(std::string_view word, EncodeState& st, std::vector<int32_t>& out) const {
  if (word.empty()) return;
  const int32_t whole = model_.whole_word_id(word);
  if (whole >= 0) {
    out.push_back(whole);
    return;
  }
  if (!opts_.split_words) return encode_cached(word, st, out);
  if (opts_.cache_words && st.cache.lookup(word, out)) return;
  const size_t mark = out.size();
  st.cuts.clear();
  model_.find_cuts(word, st.cuts);
  size_t begin = 0;
  for (size_t at : st.cuts) {
    encode_cached(word.substr(begin, at - begin), st, out);
    begin = at;
  }
  if (begin == 0) {  // no cut: encode_cached would repeat the lookup
    model_.encode_word(word, out, st.scratch, st.symbols, false);
  } else {
    encode_cached(word.substr(begin), st, out);
  }
  if (opts_.cache_words) st.cache.insert(word, out, mark, out.size());
}

void HfBpeTokenizer::encode_cached(std::string_view word, EncodeState& st, std::vector<int32_t>& out) const {
  if (opts_.cache_words && st.cache.lookup(word, out)) return;
  const size_t mark = out.size();
  model_.encode_word(word, out, st.scratch, st.symbols, false);
  if (opts_.cache_words) st.cache.insert(word, out, mark, out.size());
}

std::string HfBpeTokenizer::decode(std::span<const int32_t> ids) const {
  std::vector<std::string> tokens;
  tokens.reserve(ids.size());
  for (int32_t id : ids) {
    if (id < 0 || static_cast<size_t>(id) >= pieces_.size() || pieces_[id].empty() || skip_[id]) continue;
    tokens.push_back(pieces_[id]);
  }
  if (decoder_) {
    decoder_->apply(tokens);
    std::string out;
    for (const auto& t : tokens) out += t;
    return out;
  }
  std::string out;
  for (size_t i = 0; i < tokens.size(); ++i) out += (i ? " " : "") + tokens[i];
  return out;
}

std::string HfBpeTokenizer::piece(int32_t id) const {
  if (id < 0 || static_cast<size_t>(id) >= pieces_.size())
    fail("tokenizer ", path_, ": piece: id ", id, " is outside the vocabulary [0, ", pieces_.size(), ")");
  return pieces_[id];
}

bool HfBpeTokenizer::is_special(int32_t id) const {
  return id >= 0 && static_cast<size_t>(id) < special_.size() && special_[id];
}

std::string HfBpeTokenizer::description() const {
  std::string d = "HF BPE (";
  d += pre_ ? pre_->name() : (normalizer_ ? "normalizer only" : "no pre-tokenizer");
  if (model_.byte_fallback()) d += ", byte fallback";
  return d + "), " + std::to_string(pieces_.size()) + " tokens";
}

std::unique_ptr<Tokenizer> load_hf_tokenizer(const std::string& path, const HfTokenizerOptions& opts) {
  return HfBpeTokenizer::load(path, opts);
}

std::unique_ptr<Tokenizer> load_hf_tokenizer(const std::string& path) { return HfBpeTokenizer::load(path); }

}  // namespace lmp
