// EntQuant's scales by a per-row search on the rounded objective (compress/quant/entquant_row_search.h).
#pragma GCC optimize("fp-contract=off")
#include "compress/quant/entquant_row_search.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <vector>

#include "core/fp8.h"

namespace lmp {

namespace {

constexpr int kSteps = 16;  // grid points per octave
constexpr int kLowest = -2 * kSteps, kHighest = 19 * kSteps;
constexpr int kMinima = 2, kHalfWindow = 2;  // sweeps: around 2 minima, ±2 grid steps
constexpr size_t kSweepCandidates = 6;
constexpr double kPruneMargin = 1e-6;  // relative: bounds and losses carry f32 summation error

// ---- the grid ----

// A grid point: the row term and the two bounds that prune the grid.
struct GridPoint {
  double loss = 0;
  double rate = 0;       // rate_weight·Σ|Q| at s: every smaller scale has at least this rate term
  double zero_err = 0;   // inv_norm·Σ_{Q_j = 0}|w_j|: every larger scale has at least this error
};

// The row term on the grid θ = θ_absmax + k/16, evaluated on demand and cached.
class Grid {
 public:
  Grid(const float* w, int64_t n, const EntquantLoss& lw, double theta0, double row_l1)
      : w_(w), n_(n), lw_(lw), theta0_(theta0), row_l1_(row_l1), pts_(size_t(kHighest - kLowest + 1)),
        done_(pts_.size(), false) {}
  float scale(int k) const { return scale_of_theta(theta0_ + double(k) / kSteps); }
  double theta(int k) const { return theta0_ + double(k) / kSteps; }
  bool evaluated(int k) const { return done_[size_t(k - kLowest)]; }
  const GridPoint& at(int k) {
    const size_t i = size_t(k - kLowest);
    if (!done_[i]) {
      const Fp8RowTerms t = fp8_row_terms(w_, n_, scale(k));
      pts_[i] = {lw_.row(t), lw_.rate_weight * t.rate, lw_.inv_norm * std::max(0.0, row_l1_ - t.nz_abs)};
      done_[i] = true;
      if (pts_[i].loss < best_loss_ || (pts_[i].loss == best_loss_ && k < best_k_)) {
        best_loss_ = pts_[i].loss;
        best_k_ = k;
      }
    }
    return pts_[i];
  }
  double best_loss() const { return best_loss_; }
  int best_k() const { return best_k_; }
  // A point whose bound exceeds the best loss so far proves every point beyond it worse.
  bool beyond_best(double bound) const { return bound > best_loss_ * (1 + kPruneMargin) + 1e-300; }

 private:
  const float* w_;
  int64_t n_;
  const EntquantLoss& lw_;
  double theta0_, row_l1_;
  std::vector<GridPoint> pts_;
  std::vector<bool> done_;
  double best_loss_ = std::numeric_limits<double>::infinity();
  int best_k_ = 0;
};

// Scans the grid: whole octaves from the top down, then every 1/16 octave outward from the best octave,
// each direction stopped by its bound (the rate term only grows towards smaller scales, the error of the
// zero codes only towards larger ones). Returns the evaluated range [lo, hi] of the fine scan.
std::pair<int, int> scan_grid(Grid& g) {
  for (int k = kHighest; k >= kLowest; k -= kSteps)
    if (g.beyond_best(g.at(k).rate)) break;
  const int start = g.best_k();
  int lo = start, hi = start;
  while (lo > kLowest && !g.beyond_best(g.at(lo).rate)) g.at(--lo);
  while (hi < kHighest && !g.beyond_best(g.at(hi).zero_err)) g.at(++hi);
  return {lo, hi};
}

// The k best local minima of the grid on [lo, hi] (ties: the smaller index).
std::vector<int> grid_minima(Grid& g, int lo, int hi, size_t k) {
  std::vector<std::pair<double, int>> minima;
  for (int i = lo; i <= hi; ++i) {
    const double v = g.at(i).loss;
    const bool left = i == lo || v <= g.at(i - 1).loss, right = i == hi || v <= g.at(i + 1).loss;
    if (left && right) minima.push_back({v, i});
  }
  std::sort(minima.begin(), minima.end());
  std::vector<int> out;
  for (size_t m = 0; m < minima.size() && m < k; ++m) out.push_back(minima[m].second);
  return out;
}

// ---- the exact sweep ----

// The breakpoints of E4M3 rounding on |x|, ascending: P[2k] = v_k (the k-th non-negative value, k = 0 ..
// 126), P[2k+1] = (v_k + v_{k+1}) / 2. Between two of them the rounded value and the sign of Q − |x| are
// constant.
struct Breakpoints {
  std::array<double, 253> p{}, inv_p{};
  std::array<double, 127> v{};
  Breakpoints() {
    for (int k = 0; k <= 126; ++k) v[size_t(k)] = double(fp8_e4m3_decode(uint8_t(k)));
    for (int k = 0; k <= 126; ++k) p[size_t(2 * k)] = v[size_t(k)];
    for (int k = 0; k < 126; ++k) p[size_t(2 * k + 1)] = (v[size_t(k)] + v[size_t(k + 1)]) / 2;
    for (size_t i = 1; i < p.size(); ++i) inv_p[i] = 1.0 / p[i];
  }
  // The index of the largest breakpoint ≤ x (x ≥ 0), starting from E4M3 rounding.
  size_t below(double x) const {
    const size_t c = fp8_e4m3_encode(float(x)) & 0x7Fu;
    size_t i = x >= v[c] ? 2 * c : 2 * c - 1;
    while (i + 1 < p.size() && p[i + 1] <= x) ++i;  // float(x) may sit across a breakpoint from x
    while (p[i] > x) --i;
    return i;
  }
};
const Breakpoints& breakpoints() {
  static const Breakpoints b;
  return b;
}

// A weight of magnitude a crosses breakpoint P[i] at scale s.
struct Event {
  double s;
  float a;
  uint32_t i;
};

struct Candidate {
  double value, s;
};

// The row term g(s) = (A·s − B)·inv_norm + rate_weight·C between events, with A = Σ σ_j Q_j,
// B = Σ σ_j |w_j|, C = Σ Q_j and σ_j = sign(Q_j·s − |w_j|), in real arithmetic.
struct Piecewise {
  double A = 0, B = 0, C = 0;
  double at(double s, const EntquantLoss& lw) const { return (A * s - B) * lw.inv_norm + lw.rate_weight * C; }
  // As s grows past the event, |w|/s passes P[i] downward.
  void cross(const Breakpoints& bp, const Event& e) {
    const size_t k = e.i / 2;
    if (e.i % 2 == 0) {  // passes v_k: Q·s − |w| turns positive
      A += 2 * bp.v[k];
      B += 2 * double(e.a);
    } else {  // passes the midpoint of v_k, v_{k+1}: Q drops to v_k
      A -= bp.v[k + 1] + bp.v[k];
      B -= 2 * double(e.a);
      C -= bp.v[k + 1] - bp.v[k];
    }
  }
};

// Sorts events by s in O(n): a counting sort into n buckets of equal width on [s_lo, s_hi], then an
// insertion sort of the nearly sorted result. Stable, so the order is deterministic.
void sort_events(std::vector<Event>& ev, double s_lo, double s_hi) {
  const size_t n = ev.size();
  if (n < 2) return;
  const double per = double(n) / (s_hi - s_lo);
  const auto bucket = [&](const Event& e) {
    const double b = (e.s - s_lo) * per;
    return b <= 0 ? size_t(0) : std::min(n - 1, size_t(b));
  };
  std::vector<uint32_t> start(n + 1, 0);
  for (const Event& e : ev) ++start[bucket(e) + 1];
  for (size_t b = 0; b < n; ++b) start[b + 1] += start[b];
  std::vector<Event> out(n);
  for (const Event& e : ev) out[start[bucket(e)]++] = e;
  for (size_t k = 1; k < n; ++k) {
    const Event e = out[k];
    size_t m = k;
    for (; m > 0 && out[m - 1].s > e.s; --m) out[m] = out[m - 1];
    out[m] = e;
  }
  ev.swap(out);
}

// g at s_lo, and the events of [s_lo, s_hi] in order.
std::vector<Event> collect_events(const float* w, int64_t n, double s_lo, double s_hi, Piecewise& g) {
  const Breakpoints& bp = breakpoints();
  std::vector<Event> ev;
  ev.reserve(size_t(n));
  for (int64_t j = 0; j < n; ++j) {
    const float af = std::fabs(w[j]);
    const double a = af;
    if (a == 0) continue;
    size_t i = bp.below(a / s_lo);  // |w|/s_lo is the largest |w|/s in the window
    const bool at_value = i % 2 == 0;                     // in [v_k, m_k): Q = v_k, Q·s ≤ |w|
    const double q = bp.v[at_value ? i / 2 : i / 2 + 1];  // in [m_k, v_{k+1}): Q = v_{k+1}, Q·s > |w|
    const double sigma = at_value ? -1.0 : 1.0;
    g.A += sigma * q;
    g.B += sigma * a;
    g.C += q;
    for (; i > 0; --i) {  // the breakpoints |w|/s passes as s grows
      const double se = a * bp.inv_p[i];
      if (se > s_hi) break;
      ev.push_back({se, af, uint32_t(i)});
    }
  }
  sort_events(ev, s_lo, s_hi);
  return ev;
}

// Keeps the kSweepCandidates smallest, sorted.
void keep_best(std::vector<Candidate>& best, Candidate c) {
  if (best.size() == kSweepCandidates && !(c.value < best.back().value)) return;
  const auto less = [](const Candidate& a, const Candidate& b) { return a.value < b.value; };
  best.insert(std::upper_bound(best.begin(), best.end(), c, less), c);
  if (best.size() > kSweepCandidates) best.pop_back();
}

// Adds the best points of the piecewise-linear row term over [s_lo, s_hi] to `best`: the ends and both
// sides of every event (between events g is linear, so its minimum is at one of them). Events at the
// same s (equal weights) are crossed together: the states between them do not exist.
void sweep_candidates(const float* w, int64_t n, const EntquantLoss& lw, double s_lo, double s_hi,
                      std::vector<Candidate>& best) {
  const Breakpoints& bp = breakpoints();
  Piecewise g;
  const std::vector<Event> ev = collect_events(w, n, s_lo, s_hi, g);
  keep_best(best, {g.at(s_lo, lw), s_lo});
  for (size_t k = 0; k < ev.size();) {
    const double s = ev[k].s;
    keep_best(best, {g.at(s, lw), s});  // left side
    for (; k < ev.size() && ev[k].s == s; ++k) g.cross(bp, ev[k]);
    keep_best(best, {g.at(s, lw), s});  // right side
  }
  keep_best(best, {g.at(s_hi, lw), s_hi});
}

// Evaluates the f32 scales at and next to each candidate with the real arithmetic; keeps the best.
RowScale verify(const float* w, int64_t n, const EntquantLoss& lw, const std::vector<Candidate>& cands,
                RowScale best) {
  for (const Candidate& c : cands) {
    const float s = float(c.s);
    for (float t : {std::nextafter(s, 0.0f), s, std::nextafter(s, std::numeric_limits<float>::max())}) {
      if (!(t > 0) || !std::isfinite(t)) continue;
      const double v = lw.row(fp8_row_terms_no_grad(w, n, t));
      if (v < best.loss || (v == best.loss && t < best.scale)) best = {t, v};
    }
  }
  return best;
}

}  // namespace

RowScale entquant_row_sweep(const float* w, int64_t n, const EntquantLoss& lw, double s_lo, double s_hi) {
  std::vector<Candidate> cands;
  sweep_candidates(w, n, lw, s_lo, s_hi, cands);
  return verify(w, n, lw, cands, {1.0f, std::numeric_limits<double>::infinity()});
}

RowScale entquant_row_search(const float* w, int64_t n, const EntquantLoss& lw) {
  float amax = 0;
  double l1 = 0;
  for (int64_t j = 0; j < n; ++j) {
    amax = std::max(amax, std::fabs(w[j]));
    l1 += std::fabs(double(w[j]));
  }
  if (amax == 0) return {1.0f, 0.0};
  Grid g(w, n, lw, std::log2(double(amax / 448.0f)), l1);
  const auto [lo, hi] = scan_grid(g);
  std::vector<Candidate> cands;
  for (int k : grid_minima(g, lo, hi, kMinima))
    sweep_candidates(w, n, lw, std::exp2(g.theta(k - kHalfWindow)), std::exp2(g.theta(k + kHalfWindow)), cands);
  return verify(w, n, lw, cands, {g.scale(g.best_k()), g.best_loss()});
}

std::vector<float> entquant_row_search_scales(const float* w, int64_t out, int64_t in, double lambda) {
  const EntquantLoss lw = entquant_loss_weights(w, out, in, lambda);
  std::vector<float> scales(static_cast<size_t>(out));
#pragma omp parallel for schedule(dynamic, 1) if (out > 1)
  for (int64_t r = 0; r < out; ++r) scales[size_t(r)] = entquant_row_search(w + r * in, in, lw).scale;
  return scales;
}

}  // namespace lmp
