// `lmpress select`: one entry point over the selectors (random, zipcal, least-ppl, cola, self).
#pragma once
#include <string>

#include "calib/candidates.h"
#include "calib/selection.h"
#include "calib/token_types.h"
#include "model/model.h"

namespace lmp {

// The method names run_select knows, and whether a method needs the network (not only the tokenizer).
bool is_select_method(const std::string& method);
bool method_needs_network(const std::string& method);

// What run_select saw, for reports.
struct SelectInfo {
  bool read_pool = false;  // false for `self`
  CandidateScan scan;      // pool statistics, candidates, type counts over the whole pool
  double seconds = 0;      // reading the pool and choosing
};

// Runs opts.method. `self` ignores the pool. Fails naming the flag for an unknown method, and with the
// counts when the pool has fewer usable candidates than opts.n.
Selection run_select(const std::string& pool, const Model& model, const SelectOptions& opts);

// The same with only a tokenizer for random / zipcal (`model` may then be null), progress control and
// the pass's statistics. `types` must be built from `tok`.
Selection run_select(const std::string& pool, const Tokenizer& tok, const Model* model, const TypeTable& types,
                     const SelectOptions& opts, bool progress, SelectInfo* info);

}  // namespace lmp
