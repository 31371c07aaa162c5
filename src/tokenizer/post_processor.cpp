#include "tokenizer/post_processor.h"

#include "core/error.h"
#include "tokenizer/json_view.h"

namespace lmp {
namespace {

std::vector<int32_t> special_ids(const JsonView& specials, const std::string& name, const JsonView& where) {
  if (!specials.has(name)) where.fail_here("special token \"" + name + "\" is not in special_tokens");
  const JsonView ids = specials.at(name).at("ids");
  std::vector<int32_t> out;
  for (size_t i = 0; i < ids.size(); ++i) {
    const int64_t id = ids.at(i).integer();
    if (id < 0 || id > INT32_MAX) ids.at(i).fail_here("expected a token id, found " + std::to_string(id));
    out.push_back(static_cast<int32_t>(id));
  }
  return out;
}

SequenceTemplate parse_template(const JsonView& j) {
  SequenceTemplate t;
  const JsonView single = j.at("single");
  const JsonView specials = j.at("special_tokens");
  bool seen_sequence = false;
  for (size_t i = 0; i < single.size(); ++i) {
    const JsonView item = single.at(i);
    if (item.has("Sequence")) {
      seen_sequence = true;
    } else if (item.has("SpecialToken")) {
      const auto ids = special_ids(specials, item.at("SpecialToken").at("id").str(), item);
      auto& dst = seen_sequence ? t.suffix : t.prefix;
      dst.insert(dst.end(), ids.begin(), ids.end());
    } else {
      item.expected("{\"Sequence\": ...} or {\"SpecialToken\": ...}");
    }
  }
  return t;
}

int32_t pair_id(const JsonView& p) {
  const int64_t id = p.at(size_t(1)).integer();
  if (id < 0 || id > INT32_MAX) p.at(size_t(1)).fail_here("expected a token id, found " + std::to_string(id));
  return static_cast<int32_t>(id);
}

}  // namespace

SequenceTemplate parse_post_processor(const JsonView& j) {
  if (j.is_null()) return {};
  const std::string type = j.at("type").str();
  if (type == "TemplateProcessing") return parse_template(j);
  if (type == "ByteLevel") return {};
  if (type == "BertProcessing" || type == "RobertaProcessing")
    return SequenceTemplate{{pair_id(j.at("cls"))}, {pair_id(j.at("sep"))}};
  if (type == "Sequence") {
    SequenceTemplate t;
    const JsonView list = j.at("processors");
    for (size_t i = 0; i < list.size(); ++i) {
      const SequenceTemplate s = parse_post_processor(list.at(i));
      t.prefix.insert(t.prefix.end(), s.prefix.begin(), s.prefix.end());
      t.suffix.insert(t.suffix.begin(), s.suffix.begin(), s.suffix.end());
    }
    return t;
  }
  j.at("type").fail_here("unsupported post_processor type \"" + type +
                         "\" (supported: TemplateProcessing, ByteLevel, BertProcessing, RobertaProcessing, Sequence)");
}

}  // namespace lmp
