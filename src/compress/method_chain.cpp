// MethodChain (see method_chain.h).
#include "compress/method_chain.h"

#include <algorithm>

#include "compress/registry.h"
#include "core/error.h"

namespace lmp {

namespace {

std::string stage_where(const std::string& where, size_t k) {
  return where.empty() ? std::string() : where + "[" + std::to_string(k) + "]";
}

std::unique_ptr<LinearMethod> build_stage(const MethodSpec& spec, const std::string& where) {
  if (where.empty()) return make_method(spec);
  try {
    return make_method(spec);
  } catch (const Error& e) {
    fail(where, ": ", e.what());
  }
}

}  // namespace

MethodChain::MethodChain(std::vector<MethodSpec> stages, const std::string& where)
    : stages_(std::move(stages)), name_(chain_name(stages_)) {
  LMP_CHECK(!stages_.empty(), where.empty() ? "compress" : where, ": no stages: expected at least one");
  CompressedLinear::Kind prev = CompressedLinear::Kind::Dense;
  for (size_t k = 0; k < stages_.size(); ++k) {
    methods_.push_back(build_stage(stages_[k], stage_where(where, k)));
    const LinearMethod& m = *methods_.back();
    needs_ |= m.needs();
    const std::string at = where.empty() ? std::string("compress") : stage_where(where, k) + ".method";
    if (k == 0)
      LMP_CHECK(m.accepts(prev), at, ": ", m.name(), " cannot be the first stage (it does not take a dense weight)");
    else
      LMP_CHECK(m.accepts(prev), at, ": ", m.name(), " cannot follow ", stages_[k - 1].method, " (",
                stages_[k - 1].method, " produces a ", kind_name(prev), " linear, which ", m.name(),
                " does not take)");
    prev = m.produces();
  }
}

double MethodChain::scratch_bytes(int64_t out, int64_t in, bool handed_over) const {
  double most = 0;
  for (const auto& m : methods_) {
    const double saved = handed_over && m == methods_.back() ? m->handover_bytes(in) : 0;
    most = std::max(most, m->scratch_bytes(out, in) - saved);
  }
  const double prev_result = methods_.size() > 1 ? double(out) * double(in) * 6 : 0;  // f32, mask, codes
  return most + prev_result;
}

CompressedLinear MethodChain::run(const std::string& tensor, const Tensor& weight, const LinearStats& stats) const {
  return run_stages(tensor, weight, stats, nullptr);
}

CompressedLinear MethodChain::run(const std::string& tensor, const Tensor& weight, LinearStats&& stats) const {
  return run_stages(tensor, weight, stats, &stats);
}

CompressedLinear MethodChain::run_stages(const std::string& tensor, const Tensor& weight, const LinearStats& stats,
                                         LinearStats* handed_over) const {
  CompressedLinear cur;
  cur.kind = CompressedLinear::Kind::Dense;
  cur.weight = weight;
  for (const auto& m : methods_) {
    CompressedLinear next = handed_over && m == methods_.back()
                                ? m->compress_consuming(tensor, cur, std::move(*handed_over))
                                : m->compress_after(tensor, cur, stats);
    // The chaining contract (linear_method.h): a stage keeps the mask of a pruning stage before it.
    LMP_CHECK(next.kind == m->produces() && (cur.mask.empty() || !next.mask.empty()), "compress: ", tensor,
              ": stage ", m->name(), " of ", name_, " returned a ", kind_name(next.kind), " linear",
              next.mask.empty() && !cur.mask.empty() ? " without the mask of the stage before" : "",
              " (expected ", kind_name(m->produces()), ")");
    cur = std::move(next);
  }
  return cur;
}

}  // namespace lmp
