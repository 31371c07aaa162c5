// L-BFGS with a strong-Wolfe line search, as torch.optim.LBFGS.step (compress/quant/lbfgs.h).
#pragma GCC optimize("fp-contract=off")
#include "compress/quant/lbfgs.h"

#include <algorithm>
#include <cmath>
#include <deque>

namespace lmp {

namespace {

using Vec = std::vector<double>;

struct NanLoss {};  // thrown by an evaluation that returned NaN (the reference's closure raises)

double dot(const Vec& a, const Vec& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}
double abs_max(const Vec& a) {
  double m = 0;
  for (double v : a) m = std::max(m, std::fabs(v));
  return m;
}
double abs_sum(const Vec& a) {
  double s = 0;
  for (double v : a) s += std::fabs(v);
  return s;
}
void axpy(double alpha, const Vec& x, Vec& y) {  // y += alpha·x
  for (size_t i = 0; i < y.size(); ++i) y[i] += alpha * x[i];
}

// f and g at x0 + t·d (torch's _directional_evaluate; x0 itself is left unchanged).
struct Directional {
  const LbfgsObjective& f;
  const Vec& x0;
  const Vec& d;
  Vec x;
  double operator()(double t, Vec& g) {
    x = x0;
    axpy(t, d, x);
    const double v = f(x, g);
    if (std::isnan(v)) throw NanLoss{};
    return v;
  }
};

struct Point {
  double t = 0, f = 0, gtd = 0;
  Vec g;
};

struct LineSearch {
  double f = 0, t = 0;
  Vec g;
  int evals = 0;
};

// The zoom phase of the strong-Wolfe search on the bracket {lo, hi} (torch's _strong_wolfe, 2nd loop).
void zoom(Directional& phi, const Point& start, const Vec& d, Point br[2], int& ls_iter, int& evals,
          bool done, double c1, double c2, double tol_change, int max_ls) {
  const double d_norm = abs_max(d);
  bool insuf_progress = false;
  int low = br[0].f <= br[1].f ? 0 : 1, high = 1 - low;
  while (!done && ls_iter < max_ls) {
    if (std::fabs(br[1].t - br[0].t) * d_norm < tol_change) break;
    const double bmin = std::min(br[0].t, br[1].t), bmax = std::max(br[0].t, br[1].t);
    double t = cubic_interpolate(br[0].t, br[0].f, br[0].gtd, br[1].t, br[1].f, br[1].gtd, bmin, bmax);
    const double eps = 0.1 * (bmax - bmin);
    if (std::min(bmax - t, t - bmin) < eps) {  // too close to an end of the bracket
      if (insuf_progress || t >= bmax || t <= bmin) {
        t = std::fabs(t - bmax) < std::fabs(t - bmin) ? bmax - eps : bmin + eps;
        insuf_progress = false;
      } else {
        insuf_progress = true;
      }
    } else {
      insuf_progress = false;
    }
    Point p;
    p.t = t;
    p.f = phi(t, p.g);
    p.gtd = dot(p.g, d);
    ++evals;
    ++ls_iter;
    if (p.f > start.f + c1 * t * start.gtd || p.f >= br[low].f) {
      br[high] = std::move(p);
      low = br[0].f <= br[1].f ? 0 : 1;
      high = 1 - low;
    } else {
      if (std::fabs(p.gtd) <= -c2 * start.gtd)
        done = true;
      else if (p.gtd * (br[high].t - br[low].t) >= 0)
        br[high] = br[low];
      br[low] = std::move(p);
    }
  }
  std::swap(br[0], br[low]);  // the caller reads the result from br[0]
}

// Strong-Wolfe line search along d from `start` (t = 0) with first trial step t (Nocedal & Wright
// Alg. 3.5 bracketing with cubic extrapolation, then Alg. 3.6 zoom with cubic interpolation).
LineSearch strong_wolfe(Directional& phi, const Point& start, const Vec& d, double t, double c1 = 1e-4,
                        double c2 = 0.9, double tol_change = 1e-9, int max_ls = 25) {
  Point cur;
  cur.t = t;
  cur.f = phi(t, cur.g);
  cur.gtd = dot(cur.g, d);
  int evals = 1, ls_iter = 0;
  Point prev = start;
  Point br[2];
  bool done = false, bracketed = false;
  while (ls_iter < max_ls) {
    const bool armijo_fails = cur.f > start.f + c1 * cur.t * start.gtd;
    if (armijo_fails || (ls_iter > 1 && cur.f >= prev.f)) {
      br[0] = prev;
      br[1] = cur;
      bracketed = true;
      break;
    }
    if (std::fabs(cur.gtd) <= -c2 * start.gtd) {  // strong Wolfe holds at cur
      br[0] = cur;
      br[1] = cur;
      done = bracketed = true;
      break;
    }
    if (cur.gtd >= 0) {
      br[0] = prev;
      br[1] = cur;
      bracketed = true;
      break;
    }
    const double min_step = cur.t + 0.01 * (cur.t - prev.t), max_step = cur.t * 10;
    const double next = cubic_interpolate(prev.t, prev.f, prev.gtd, cur.t, cur.f, cur.gtd, min_step, max_step);
    prev = std::move(cur);
    cur = Point{};
    cur.t = next;
    cur.f = phi(next, cur.g);
    cur.gtd = dot(cur.g, d);
    ++evals;
    ++ls_iter;
  }
  if (!bracketed) {  // max_ls reached while extrapolating: bracket [0, t]
    br[0] = start;
    br[1] = cur;
  }
  zoom(phi, start, d, br, ls_iter, evals, done, c1, c2, tol_change, max_ls);
  return {br[0].f, br[0].t, std::move(br[0].g), evals};
}

// The curvature pairs and the two-loop recursion (Nocedal & Wright Alg. 7.4).
struct History {
  std::deque<Vec> y, s;
  std::deque<double> rho;
  double h_diag = 1;

  void update(const Vec& g, const Vec& prev_g, const Vec& d, double t, size_t size) {
    Vec yk(g.size()), sk(g.size());
    for (size_t i = 0; i < g.size(); ++i) {
      yk[i] = g[i] - prev_g[i];
      sk[i] = d[i] * t;
    }
    const double ys = dot(yk, sk);
    if (ys <= 1e-10) return;  // skip the pair: curvature condition fails
    if (y.size() == size) {
      y.pop_front();
      s.pop_front();
      rho.pop_front();
    }
    h_diag = ys / dot(yk, yk);
    y.push_back(std::move(yk));
    s.push_back(std::move(sk));
    rho.push_back(1.0 / ys);
  }

  Vec direction(const Vec& g) const {
    const size_t m = y.size();
    std::vector<double> al(m);
    Vec q(g.size());
    for (size_t i = 0; i < g.size(); ++i) q[i] = -g[i];
    for (size_t i = m; i-- > 0;) {
      al[i] = dot(s[i], q) * rho[i];
      axpy(-al[i], y[i], q);
    }
    for (double& v : q) v *= h_diag;
    for (size_t i = 0; i < m; ++i) {
      const double be = dot(y[i], q) * rho[i];
      axpy(al[i] - be, s[i], q);
    }
    return q;
  }
};

}  // namespace

double cubic_interpolate(double x1, double f1, double g1, double x2, double f2, double g2, double lo,
                         double hi) {
  const double d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2);
  const double d2_square = d1 * d1 - g1 * g2;
  if (d2_square < 0) return (lo + hi) / 2;
  const double d2 = std::sqrt(d2_square);
  const double min_pos = x1 <= x2 ? x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
                                  : x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2));
  return std::min(std::max(min_pos, lo), hi);
}

LbfgsResult lbfgs_minimize(const LbfgsObjective& f, std::vector<double>& x, const LbfgsOptions& o) {
  const int max_eval = o.max_eval < 0 ? o.max_iter * 5 / 4 : o.max_eval;
  LbfgsResult res;
  Vec g(x.size());
  double loss = f(x, g);
  res.first_loss = res.loss = loss;
  res.evaluations = 1;
  if (std::isnan(loss)) {
    res.nan = true;
    return res;
  }
  if (abs_max(g) <= o.tolerance_grad) return res;

  History hist;
  Vec d, prev_g;
  double t = 0;
  int current_evals = 1;
  try {
    for (int n_iter = 1; n_iter <= o.max_iter; ++n_iter) {
      res.iterations = n_iter;
      if (n_iter == 1) {
        d.resize(g.size());
        for (size_t i = 0; i < g.size(); ++i) d[i] = -g[i];
      } else {
        hist.update(g, prev_g, d, t, size_t(o.history_size));
        d = hist.direction(g);
      }
      prev_g = g;
      const double prev_loss = loss;
      t = n_iter == 1 ? std::min(1.0, 1.0 / abs_sum(g)) * o.lr : o.lr;
      const double gtd = dot(g, d);
      if (gtd > -o.tolerance_change) break;  // not a descent direction

      int ls_evals = 0;
      bool opt_cond = false;
      if (o.strong_wolfe) {
        Directional phi{f, x, d, {}};
        const Point start{0, loss, gtd, g};
        LineSearch ls = strong_wolfe(phi, start, d, t);
        loss = ls.f;
        g = std::move(ls.g);
        t = ls.t;
        ls_evals = ls.evals;
        axpy(t, d, x);
        opt_cond = abs_max(g) <= o.tolerance_grad;
      } else {
        axpy(t, d, x);
        if (n_iter != o.max_iter) {  // torch skips the re-evaluation on the last iteration
          loss = f(x, g);
          if (std::isnan(loss)) throw NanLoss{};
          opt_cond = abs_max(g) <= o.tolerance_grad;
          ls_evals = 1;
        }
      }
      current_evals += ls_evals;
      res.evaluations = current_evals;
      res.loss = loss;

      if (n_iter == o.max_iter || current_evals >= max_eval || opt_cond) break;
      double step = 0;
      for (double v : d) step = std::max(step, std::fabs(v * t));
      if (step <= o.tolerance_change) break;
      if (std::fabs(loss - prev_loss) < o.tolerance_change) break;
    }
  } catch (const NanLoss&) {
    res.nan = true;
  }
  return res;
}

}  // namespace lmp
