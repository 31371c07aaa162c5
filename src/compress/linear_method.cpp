// The default chaining behaviour of a LinearMethod (see linear_method.h): open a chain only.
#include "compress/linear_method.h"

#include "core/error.h"

namespace lmp {

CompressedLinear LinearMethod::compress_after(const std::string& tensor, const CompressedLinear& prev,
                                              const LinearStats& stats) const {
  LMP_CHECK(prev.kind == Kind::Dense, name(), ": ", tensor, ": cannot compress the output of a previous stage (",
            kind_name(prev.kind), "): expected a dense weight");
  return compress(tensor, prev.weight, stats);
}

}  // namespace lmp
