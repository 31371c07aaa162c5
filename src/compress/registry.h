// The registry of linear compression methods: a MethodSpec's `method` name → its LinearMethod.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "compress/linear_method.h"

namespace lmp {

// Builds the method named by spec.method; an unknown name is an error listing the known ones.
std::unique_ptr<LinearMethod> make_method(const MethodSpec& spec);
const std::vector<std::string>& method_names();

}  // namespace lmp
