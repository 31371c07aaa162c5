#include "compress/registry.h"

#include <functional>
#include <map>

#include "compress/prune/prune_methods.h"
#include "compress/quant/quant_methods.h"
#include "core/error.h"

namespace lmp {

namespace {
using Factory = std::function<std::unique_ptr<LinearMethod>(const MethodSpec&)>;

const std::map<std::string, Factory>& factories() {
  static const std::map<std::string, Factory> f = {
      {"rtn", make_rtn_method},           {"nf4", make_nf4_method},
      {"gptq", make_gptq_method},         {"magnitude", make_magnitude_method},
      {"wanda", make_wanda_method},       {"sparsegpt", make_sparsegpt_method},
  };
  return f;
}
}  // namespace

const std::vector<std::string>& method_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (const auto& [k, _] : factories()) v.push_back(k);
    return v;
  }();
  return names;
}

std::unique_ptr<LinearMethod> make_method(const MethodSpec& spec) {
  const auto it = factories().find(spec.method);
  if (it == factories().end()) {
    std::string known;
    for (const auto& n : method_names()) known += (known.empty() ? "" : ", ") + n;
    fail("compress: unknown method '", spec.method, "' (known: ", known, ")");
  }
  return it->second(spec);
}

}  // namespace lmp
