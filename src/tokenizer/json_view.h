// JsonView: typed, path-tracking access to a parsed JSON document, so every error is one line naming
// the file, the field path and the expected vs found type: "tokenizer.json /a/b: field
// 'model.merges[3]': expected string or array of 2 strings, found number".
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace lmp {

class JsonView {
 public:
  JsonView(const nlohmann::json& j, std::string file, std::string path = "")
      : j_(&j), file_(std::move(file)), path_(std::move(path)) {}

  const nlohmann::json& raw() const { return *j_; }
  const std::string& path() const { return path_; }
  const std::string& file() const { return file_; }

  bool is_null() const { return j_->is_null(); }
  bool is_object() const { return j_->is_object(); }
  bool is_array() const { return j_->is_array(); }
  bool is_string() const { return j_->is_string(); }
  bool has(std::string_view key) const;  // an object with `key` whose value is not null

  JsonView at(std::string_view key) const;                 // required member of an object
  JsonView opt(std::string_view key) const;                // member or null (requires an object)
  JsonView at(size_t index) const;                         // element of an array
  size_t size() const;                                     // requires an array or an object

  std::string str() const;
  bool boolean() const;
  int64_t integer() const;
  double number() const;
  std::string str_or(std::string_view key, const std::string& dflt) const;
  bool bool_or(std::string_view key, bool dflt) const;

  // Throws "<file>: field '<path>': <what>".
  [[noreturn]] void fail_here(const std::string& what) const;
  [[noreturn]] void expected(std::string_view type) const;

 private:
  void require_object() const;
  const nlohmann::json* j_;
  std::string file_, path_;
};

std::string json_type_name(const nlohmann::json& j);

}  // namespace lmp
