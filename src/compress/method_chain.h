// MethodChain: the methods of one chain of a recipe (compress/recipe.h), built and validated once, then
// run on each linear the chain applies to. Stage 0 compresses the weight, stage k+1 what stage k produced
// (LinearMethod::compress_after), all from the same LinearStats: a linear's own inputs do not change when
// its weights do. The chain needs the union of its stages' statistics.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "compress/linear_method.h"
#include "compress/recipe.h"

namespace lmp {

class MethodChain {
 public:
  // Builds every stage (the factories validate their fields) and checks that each stage accepts what the
  // one before it produces. `where` names the chain in errors ("recipe.json: overrides[1].stages");
  // stage k's errors read "<where>[k]: ..."; with `where` empty they are the methods' own messages.
  MethodChain(std::vector<MethodSpec> stages, const std::string& where);

  const std::string& name() const { return name_; }
  uint32_t needs() const { return needs_; }  // StatFlags
  const std::vector<MethodSpec>& stages() const { return stages_; }
  // The representation the last stage produces.
  CompressedLinear::Kind produces() const { return methods_.back()->produces(); }

  // The most memory one run holds for an [out, in] linear (LinearMethod::scratch_bytes): the largest
  // stage's, plus the previous stage's result while a later stage runs; less what the last stage takes
  // from the statistics when they are `handed_over` (run with an rvalue).
  double scratch_bytes(int64_t out, int64_t in, bool handed_over = false) const;
  // Runs the stages on `weight` (f32 [out, in]); `tensor` is the canonical name, for errors.
  CompressedLinear run(const std::string& tensor, const Tensor& weight, const LinearStats& stats) const;
  // The same with the statistics handed over to the last stage (LinearMethod::compress_consuming).
  CompressedLinear run(const std::string& tensor, const Tensor& weight, LinearStats&& stats) const;

 private:
  // `handed_over`: null, or `stats` itself, which the last stage may consume.
  CompressedLinear run_stages(const std::string& tensor, const Tensor& weight, const LinearStats& stats,
                              LinearStats* handed_over) const;

  std::vector<MethodSpec> stages_;
  std::vector<std::unique_ptr<LinearMethod>> methods_;
  std::string name_;
  uint32_t needs_ = 0;
};

}  // namespace lmp
