#include "calib/select.h"

#include <chrono>

#include "calib/cola.h"
#include "calib/least_ppl.h"
#include "calib/random_select.h"
#include "calib/self_generated.h"
#include "calib/zipcal.h"
#include "core/error.h"

namespace lmp {

bool is_select_method(const std::string& m) {
  return m == "random" || m == "zipcal" || m == "least-ppl" || m == "cola" || m == "self";
}

bool method_needs_network(const std::string& m) { return m == "least-ppl" || m == "cola" || m == "self"; }

namespace {

void check_options(const SelectOptions& o) {
  LMP_CHECK(is_select_method(o.method), "select: --method: expected random, zipcal, least-ppl, cola or self, found '",
            o.method, "'");
  LMP_CHECK(o.n >= 1, "select: --n: expected at least 1, found ", o.n);
  LMP_CHECK(o.seq >= 1, "select: --seq: expected at least 1, found ", o.seq);
  LMP_CHECK(o.max_candidates >= 1, "select: --max-candidates: expected at least 1, found ", o.max_candidates);
  LMP_CHECK(o.zipcal_candidates >= 1, "select: --zipcal-candidates: expected at least 1, found ", o.zipcal_candidates);
}

Selection model_based(const std::string& pool, const Tokenizer& tok, const Model& model, const TypeTable& types,
                      const SelectOptions& opts, bool progress, SelectInfo& info) {
  const std::vector<Candidate> cands = sample_candidates(pool, tok, opts, progress, &info.scan, &types);
  info.read_pool = true;
  if (opts.method == "least-ppl") return select_least_ppl(model, cands, opts);
  return select_cola(model, cands, opts);
}

}  // namespace

Selection run_select(const std::string& pool, const Tokenizer& tok, const Model* model, const TypeTable& types,
                     const SelectOptions& opts, bool progress, SelectInfo* info_out) {
  check_options(opts);
  LMP_CHECK(model || !method_needs_network(opts.method), "select: --method ", opts.method, " needs a model");
  const auto t0 = std::chrono::steady_clock::now();
  SelectInfo info;
  Selection sel;
  if (opts.method == "self") {
    sel = select_self(*model, opts);
  } else if (opts.method == "zipcal") {
    sel = select_zipcal(pool, tok, types, opts, progress, &info.scan);
    info.read_pool = true;
  } else if (opts.method == "random") {
    sel = select_random(pool, tok, &types, opts, progress, &info.scan);
    info.read_pool = true;
  } else {
    sel = model_based(pool, tok, *model, types, opts, progress, info);
  }
  LMP_CHECK(sel.n == opts.n && sel.seq == opts.seq && int64_t(sel.input_ids.size()) == opts.n * opts.seq,
            "select: method ", opts.method, " returned [", sel.n, ", ", sel.seq, "] samples, expected [", opts.n, ", ",
            opts.seq, "]");
  info.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (info_out) *info_out = std::move(info);
  return sel;
}

Selection run_select(const std::string& pool, const Model& model, const SelectOptions& opts) {
  const Tokenizer& tok = model.tokenizer();
  const TypeTable types(tok);
  return run_select(pool, tok, &model, types, opts, true, nullptr);
}

}  // namespace lmp
