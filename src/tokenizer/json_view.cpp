#include "tokenizer/json_view.h"

#include "core/error.h"

namespace lmp {

std::string json_type_name(const nlohmann::json& j) {
  switch (j.type()) {
    case nlohmann::json::value_t::null: return "null";
    case nlohmann::json::value_t::object: return "object";
    case nlohmann::json::value_t::array: return "array";
    case nlohmann::json::value_t::string: return "string";
    case nlohmann::json::value_t::boolean: return "boolean";
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned: return "integer";
    case nlohmann::json::value_t::number_float: return "number";
    default: return "binary";
  }
}

void JsonView::fail_here(const std::string& what) const {
  fail(file_, ": field '", path_.empty() ? "<root>" : path_, "': ", what);
}

void JsonView::expected(std::string_view type) const {
  fail_here("expected " + std::string(type) + ", found " + json_type_name(*j_));
}

void JsonView::require_object() const {
  if (!j_->is_object()) expected("object");
}

bool JsonView::has(std::string_view key) const {
  if (!j_->is_object()) return false;
  auto it = j_->find(key);
  return it != j_->end() && !it->is_null();
}

JsonView JsonView::at(std::string_view key) const {
  require_object();
  const std::string sub = path_.empty() ? std::string(key) : path_ + "." + std::string(key);
  auto it = j_->find(key);
  if (it == j_->end()) fail(file_, ": field '", sub, "' is missing");
  return JsonView(*it, file_, sub);
}

JsonView JsonView::opt(std::string_view key) const {
  static const nlohmann::json null_json;
  require_object();
  const std::string sub = path_.empty() ? std::string(key) : path_ + "." + std::string(key);
  auto it = j_->find(key);
  return JsonView(it == j_->end() ? null_json : *it, file_, sub);
}

JsonView JsonView::at(size_t index) const {
  if (!j_->is_array()) expected("array");
  const std::string sub = path_ + "[" + std::to_string(index) + "]";
  if (index >= j_->size()) fail(file_, ": field '", sub, "' is missing");
  return JsonView((*j_)[index], file_, sub);
}

size_t JsonView::size() const {
  if (!j_->is_array() && !j_->is_object()) expected("array");
  return j_->size();
}

std::string JsonView::str() const {
  if (!j_->is_string()) expected("string");
  return j_->get<std::string>();
}

bool JsonView::boolean() const {
  if (!j_->is_boolean()) expected("boolean");
  return j_->get<bool>();
}

int64_t JsonView::integer() const {
  if (j_->is_number_unsigned()) {
    const auto v = j_->get<uint64_t>();
    if (v > uint64_t(INT64_MAX)) fail_here("integer " + std::to_string(v) + " is out of range");
    return static_cast<int64_t>(v);
  }
  if (!j_->is_number_integer()) expected("integer");
  return j_->get<int64_t>();
}

double JsonView::number() const {
  if (!j_->is_number()) expected("number");
  return j_->get<double>();
}

std::string JsonView::str_or(std::string_view key, const std::string& dflt) const {
  JsonView v = opt(key);
  return v.is_null() ? dflt : v.str();
}

bool JsonView::bool_or(std::string_view key, bool dflt) const {
  JsonView v = opt(key);
  return v.is_null() ? dflt : v.boolean();
}

}  // namespace lmp
