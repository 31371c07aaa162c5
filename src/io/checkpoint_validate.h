// Checks that every tensor a ModelConfig implies exists with the implied shape and a convertible dtype.
#pragma once
#include <string>

#include "io/checkpoint_impl.h"

namespace lmp {

// Throws "checkpoint <path>: <tensor>: expected shape [..], found [..]" or "missing tensor ..." on the
// first problem.
void validate_checkpoint(const LoadedCheckpoint& c, const std::string& path);

}  // namespace lmp
