#include "tokenizer/normalizer.h"

#include <vector>

#include "core/error.h"
#include "tokenizer/json_view.h"
#include "tokenizer/pattern.h"
#include "tokenizer/unicode_norm.h"
#include "tokenizer/utf8.h"

namespace lmp {
namespace {

class SequenceNormalizer : public Normalizer {
 public:
  explicit SequenceNormalizer(std::vector<std::unique_ptr<Normalizer>> steps) : steps_(std::move(steps)) {}
  std::string apply(std::string s) const override {
    for (const auto& n : steps_) s = n->apply(std::move(s));
    return s;
  }

 private:
  std::vector<std::unique_ptr<Normalizer>> steps_;
};

// HF Prepend: only a non-empty string gets the prefix.
class PrependNormalizer : public Normalizer {
 public:
  explicit PrependNormalizer(std::string prefix) : prefix_(std::move(prefix)) {}
  std::string apply(std::string s) const override { return s.empty() ? s : prefix_ + s; }

 private:
  std::string prefix_;
};

class ReplaceNormalizer : public Normalizer {
 public:
  ReplaceNormalizer(Pattern p, std::string with) : pattern_(std::move(p)), with_(std::move(with)) {}
  std::string apply(std::string s) const override { return pattern_.replace_all(s, with_); }

 private:
  Pattern pattern_;
  std::string with_;
};

class UnicodeNormalizer : public Normalizer {
 public:
  explicit UnicodeNormalizer(NormForm f) : form_(f) {}
  std::string apply(std::string s) const override { return unicode_normalize(s, form_); }

 private:
  NormForm form_;
};

class LowercaseNormalizer : public Normalizer {
 public:
  std::string apply(std::string s) const override { return unicode_lowercase(s); }
};

bool is_ws(std::string_view s, size_t i, int* len) {
  char32_t cp;
  *len = utf8::decode(s, i, &cp);
  return utf8::is_whitespace(cp);
}

// HF Strip: removes leading / trailing Unicode whitespace.
class StripNormalizer : public Normalizer {
 public:
  StripNormalizer(bool left, bool right) : left_(left), right_(right) {}
  std::string apply(std::string s) const override {
    size_t b = 0, e = s.size();
    int len = 0;
    while (left_ && b < e && is_ws(s, b, &len)) b += len;
    while (right_ && e > b) {
      size_t k = e - 1;
      while (k > b && (static_cast<unsigned char>(s[k]) & 0xC0) == 0x80) --k;
      if (!is_ws(s, k, &len)) break;
      e = k;
    }
    return s.substr(b, e - b);
  }

 private:
  bool left_, right_;
};

}  // namespace

std::unique_ptr<Normalizer> parse_normalizer(const JsonView& j) {
  if (j.is_null()) return nullptr;
  const std::string type = j.at("type").str();
  if (type == "Sequence") {
    const JsonView list = j.at("normalizers");
    std::vector<std::unique_ptr<Normalizer>> steps;
    for (size_t i = 0; i < list.size(); ++i)
      if (auto n = parse_normalizer(list.at(i))) steps.push_back(std::move(n));
    return std::make_unique<SequenceNormalizer>(std::move(steps));
  }
  if (type == "Prepend") return std::make_unique<PrependNormalizer>(j.at("prepend").str());
  if (type == "Replace") return std::make_unique<ReplaceNormalizer>(Pattern::from_json(j.at("pattern")), j.at("content").str());
  if (type == "NFC") return std::make_unique<UnicodeNormalizer>(NormForm::NFC);
  if (type == "NFD") return std::make_unique<UnicodeNormalizer>(NormForm::NFD);
  if (type == "NFKC") return std::make_unique<UnicodeNormalizer>(NormForm::NFKC);
  if (type == "NFKD") return std::make_unique<UnicodeNormalizer>(NormForm::NFKD);
  if (type == "Lowercase") return std::make_unique<LowercaseNormalizer>();
  if (type == "Strip") return std::make_unique<StripNormalizer>(j.bool_or("strip_left", true), j.bool_or("strip_right", true));
  j.at("type").fail_here("unsupported normalizer type \"" + type +
                         "\" (supported: Sequence, Prepend, Replace, NFC, NFD, NFKC, NFKD, Lowercase, Strip)");
}

}  // namespace lmp
