// Rate control for EntQuant (`compress --target-bpw B`): a closed loop on λ until the MEASURED size of
// the compressed linears in the lmp format (bytes of the coded streams, scales and metadata records that
// export/lmp_encode.h produces, × 8 / weights) lands within a tolerance of B. The EntQuant paper has no
// such loop (it fixes λ per preset). EntQuant needs no data, so a trial quantizes and codes every linear
// straight from the checkpoint, one linear at a time (memory: one f32 linear and its codes), without
// forwards; the model itself is not modified.
#pragma once
#include <string>
#include <vector>

#include "codec/rans.h"
#include "compress/recipe.h"
#include "model/model.h"

namespace lmp {

struct RateTrial {
  double lambda = 0;
  double bpw = 0;  // measured: bytes × 8 / weights of the compressed linears
};

struct RateSearch {
  double lambda = 0, bpw = 0;     // the chosen trial
  std::vector<RateTrial> trials;  // in the order they ran
};

struct RateOptions {
  double target_bpw = 0;
  double tolerance = 0.02;   // |bpw − target| accepted (the search aims at half of it)
  int max_trials = 24;
  double lambda_max = 4096;  // the largest λ tried: the low end of the reachable range
  bool include_head = false;
  RansOptions rans;
};

// The measured bpw of the recipe's compressed linears with every entquant stage at `lambda`.
double measure_lmp_bpw(const Model& model, const Recipe& recipe, double lambda, const RateOptions& o);

// Finds λ with |bpw − target| ≤ tolerance by bisection on log λ (bpw falls as λ grows). Throws when the
// target lies outside [bpw(lambda_max), bpw(0)] (the error states that reachable range), or when the
// recipe has a linear whose chain does not end with entquant.
RateSearch search_lambda(const Model& model, const Recipe& recipe, const RateOptions& o);

// Sets λ of every entquant stage of `recipe`.
void set_entquant_lambda(Recipe& recipe, double lambda);

}  // namespace lmp
