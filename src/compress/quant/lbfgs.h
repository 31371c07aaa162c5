// L-BFGS (Nocedal, "Updating quasi-Newton matrices with limited storage", Math. Comp. 1980; Nocedal &
// Wright, Numerical Optimization, Alg. 7.4 two-loop recursion and Alg. 3.5/3.6 strong-Wolfe line search)
// with the exact semantics of one torch.optim.LBFGS.step(closure): first step min(1, 1/‖g‖₁)·lr, then lr;
// curvature pairs kept only when yᵀs > 1e-10, H₀ = yᵀs / yᵀy, oldest pair dropped at history_size; the
// same termination tests in the same order. Deviation: vectors and scalars are f64 (torch: the
// parameters' dtype, f32 for EntQuant).
#pragma once
#include <functional>
#include <vector>

namespace lmp {

struct LbfgsOptions {
  double lr = 1.0;
  int max_iter = 20;
  int max_eval = -1;               // -1: max_iter · 5 / 4 (torch's default)
  double tolerance_grad = 1e-7;    // stop when max |g| ≤ this
  double tolerance_change = 1e-9;  // stop when a step or a loss change is below this
  int history_size = 100;
  bool strong_wolfe = true;        // line_search_fn="strong_wolfe"; false: fixed step lr
};

// f(x, grad) returns the loss at x and writes its gradient into grad (sized as x).
using LbfgsObjective = std::function<double(const std::vector<double>& x, std::vector<double>& grad)>;

struct LbfgsResult {
  double first_loss = 0;  // the loss at the starting point (what torch's step() returns)
  double loss = 0;        // the loss at the final x
  int iterations = 0;
  int evaluations = 0;
  bool nan = false;       // an evaluation returned NaN: x is left where that happened, the run aborted
};

// Minimizes f from x (updated in place), as one torch LBFGS.step with these options.
LbfgsResult lbfgs_minimize(const LbfgsObjective& f, std::vector<double>& x, const LbfgsOptions& opts);

// The minimizer of the cubic interpolating (x1, f1, g1), (x2, f2, g2), clamped to [lo, hi] (torch's
// _cubic_interpolate; the midpoint of the bounds when the cubic has no real minimizer).
double cubic_interpolate(double x1, double f1, double g1, double x2, double f2, double g2, double lo,
                         double hi);

}  // namespace lmp
