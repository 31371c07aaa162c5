#include "compress/registry.h"

#include <functional>
#include <map>

#include "compress/lowrank/lowrank_methods.h"
#include "compress/prune/prune_methods.h"
#include "compress/quant/quant_methods.h"
#include "core/error.h"

namespace lmp {

namespace {
using Factory = std::function<std::unique_ptr<LinearMethod>(const MethodSpec&)>;

struct Entry {
  Factory make;
  std::vector<std::string> fields;  // the MethodSpec fields the method reads, by their recipe names
};

const std::map<std::string, Entry>& entries() {
  static const std::map<std::string, Entry> e = {
      {"rtn", {make_rtn_method, {"bits", "group", "sym", "mse"}}},
      {"nf4", {make_nf4_method, {"bits", "double_quant"}}},
      {"gptq", {make_gptq_method, {"bits", "group", "sym", "mse", "act_order", "static_groups", "damp",
                                     "block_size"}}},
      {"entquant", {make_entquant_method, {"lambda", "optimizer", "scale_dtype"}}},
      {"magnitude", {make_magnitude_method, {"sparsity", "nm"}}},
      {"wanda", {make_wanda_method, {"sparsity", "nm"}}},
      {"sparsegpt", {make_sparsegpt_method, {"sparsity", "nm", "damp", "block_size"}}},
      {"svd", {make_svd_method, {"ratio", "rank", "factor_dtype"}}},
      {"svd-llm", {make_svd_llm_method, {"ratio", "rank", "factor_dtype"}}},
      {"aa-svd", {make_aa_svd_method, {"ratio", "rank", "factor_dtype"}}},
  };
  return e;
}
}  // namespace

const std::vector<std::string>& method_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (const auto& [k, _] : entries()) v.push_back(k);
    return v;
  }();
  return names;
}

bool is_method(const std::string& method) { return entries().count(method) > 0; }

const std::vector<std::string>& method_fields(const std::string& method) {
  static const std::vector<std::string> none;
  const auto it = entries().find(method);
  return it == entries().end() ? none : it->second.fields;
}

std::string method_names_list() {
  std::string known;
  for (const auto& n : method_names()) known += (known.empty() ? "" : ", ") + n;
  return known;
}

std::unique_ptr<LinearMethod> make_method(const MethodSpec& spec) {
  const auto it = entries().find(spec.method);
  if (it == entries().end()) fail("compress: unknown method '", spec.method, "' (known: ", method_names_list(), ")");
  return it->second.make(spec);
}

}  // namespace lmp
