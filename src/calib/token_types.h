// Normalized token types (ZipCal, Monaco et al. 2026, arXiv 2603.16105): the text of a single token id decoded
// as the tokenizer decodes it, lower-cased, spaces and the ▁ / Ġ word markers removed, whitespace
// stripped; special tokens and ids whose type is empty have none. A function of the id, so it is
// tabulated once per vocabulary.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace lmp {

class TypeTable {
 public:
  TypeTable() = default;
  explicit TypeTable(const Tokenizer& tok);
  // Type id of a token id, -1 for none (special, empty after normalization, outside the vocabulary).
  int32_t type_of(int32_t id) const {
    return id >= 0 && size_t(id) < types_.size() ? types_[id] : -1;
  }
  size_t num_types() const { return names_.size(); }
  const std::string& name(int32_t type) const { return names_.at(size_t(type)); }
  // Sorted unique type ids of `ids`.
  std::vector<uint32_t> type_set(std::span<const int32_t> ids) const;
  // Adds one to counts[type] for every typed id of `ids` (counts sized num_types()).
  void count(std::span<const int32_t> ids, std::vector<int64_t>& counts) const;

  // The normalization itself, on decoded text.
  static std::string normalize(std::string_view decoded);

 private:
  std::vector<int32_t> types_;      // by token id
  std::vector<std::string> names_;  // by type id
};

}  // namespace lmp
