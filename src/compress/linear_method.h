// LinearMethod: one compression method for one linear layer. It declares the statistics it needs and
// turns a weight plus those statistics into a CompressedLinear. Adding a method = one file in
// compress/<family>/ + one line in compress/registry.cpp + tests.
#pragma once
#include <cstdint>
#include <memory>
#include <string>

#include "compress/compressed_linear.h"
#include "compress/linear_stats.h"

namespace lmp {

// Every knob a method may read; methods ignore the ones that do not apply to them.
struct MethodSpec {
  std::string method;          // rtn | nf4 | gptq | magnitude | wanda | sparsegpt
  int bits = 4;
  int64_t group = 128;         // -1 = one group per output row
  bool sym = false;
  bool act_order = false;
  bool static_groups = false;
  double damp = 0.01;          // fraction of the mean Hessian diagonal added to it
  int64_t block_size = 128;    // GPTQ / SparseGPT lazy-update block
  double sparsity = 0.0;       // unstructured fraction of zeros
  int nm_n = 0, nm_m = 0;      // N:M: N of every M consecutive weights of a row are zeroed (2:4 = 50%)
  bool double_quant = false;   // NF4: quantize the absmax scales too
  bool scales_f16 = false;     // RTN / GPTQ: round scales to f16 before computing codes (GPTQ export)
  uint64_t seed = 0;
};

class LinearMethod {
 public:
  virtual ~LinearMethod() = default;
  virtual std::string name() const = 0;
  virtual uint32_t needs() const = 0;  // StatFlags
  // `weight` is f32 [out, in]; `name` is the canonical tensor name, for error messages.
  virtual CompressedLinear compress(const std::string& name, const Tensor& weight,
                                    const LinearStats& stats) const = 0;
};

}  // namespace lmp
