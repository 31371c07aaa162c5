// The registry of linear compression methods: a MethodSpec's `method` name → its LinearMethod, and the
// MethodSpec fields (by their recipe names, compress/recipe.h) each method reads.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "compress/linear_method.h"

namespace lmp {

// Builds the method named by spec.method; an unknown name is an error listing the known ones.
std::unique_ptr<LinearMethod> make_method(const MethodSpec& spec);
const std::vector<std::string>& method_names();
// True when `method` is registered.
bool is_method(const std::string& method);
// The recipe fields `method` reads ("bits", "group", "sparsity", "nm", ...), in a fixed order; empty for
// an unknown method.
const std::vector<std::string>& method_fields(const std::string& method);
// "a, b, c": the known method names, for messages.
std::string method_names_list();

}  // namespace lmp
