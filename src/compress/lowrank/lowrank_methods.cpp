#include "compress/lowrank/lowrank_methods.h"

#include <cmath>
#include <vector>

#include "compress/lowrank/lowrank_math.h"
#include "compress/lowrank/lowrank_rank.h"
#include "compress/quant/spec_check.h"
#include "core/dtype.h"
#include "core/error.h"

namespace lmp {

CompressedLinear lowrank_linear(LowRankFactors f) {
  CompressedLinear c;
  c.kind = CompressedLinear::Kind::LowRank;
  c.weight = factors_product(f);
  c.lowrank = std::move(f);
  return c;
}

namespace {

std::vector<double> f64_of(const Tensor& w) {
  std::vector<double> v(size_t(w.numel()));
  for (size_t i = 0; i < v.size(); ++i) v[i] = double(w.f32()[i]);
  return v;
}

// sum / rows, checked to be [in, in] over at least one row.
std::vector<double> mean_of(const std::string& what, const char* stat, const std::vector<double>& sum,
                            const LinearStats& s) {
  LMP_CHECK(int64_t(sum.size()) == s.in * s.in, what, ": ", stat, ": expected ", s.in, "x", s.in, " values, found ",
            sum.size());
  LMP_CHECK(s.rows > 0, what, ": ", stat, ": no calibration rows were accumulated");
  std::vector<double> m(sum.size());
  for (size_t i = 0; i < m.size(); ++i) m[i] = sum[i] / double(s.rows);
  return m;
}

void round_tensor_to_bf16(Tensor& t) {
  for (int64_t i = 0; i < t.numel(); ++i) t.f32()[i] = round_to_bf16(t.f32()[i]);
}

std::vector<double> transpose(const std::vector<double>& a, int64_t n) {
  std::vector<double> t(a.size());
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j) t[size_t(j * n + i)] = a[size_t(i * n + j)];
  return t;
}

class LowRankMethod : public LinearMethod {
 public:
  LowRankMethod(std::string name, uint32_t needs, const MethodSpec& s)
      : name_(std::move(name)), needs_(needs), ratio_(s.ratio), rank_(s.rank), bf16_(s.factor_dtype == "bf16") {}
  std::string name() const override { return name_; }
  uint32_t needs() const override { return needs_; }
  Kind produces() const override { return Kind::LowRank; }
  // The f64 Gram matrix, its square root and the whitened weight (lowrank_math.h), the SVD's work
  // copies (f64), the factors and their f32 product.
  double scratch_bytes(int64_t out, int64_t in) const override {
    return double(in) * double(in) * 8 * 3 + double(out) * double(in) * (8 * 2 + 4);
  }
  CompressedLinear compress(const std::string& tensor, const Tensor& weight, const LinearStats& stats) const override {
    check_weight(name_, tensor, weight);
    const int64_t out = weight.dim(0), in = weight.dim(1);
    const int64_t k = lowrank_rank(name_, tensor, out, in, ratio_, rank_);
    LMP_CHECK(needs_ == kStatNone || stats.in == in, name_, ": ", tensor, ": statistics of ", stats.in,
              " inputs for a weight of ", in);
    LowRankFactors f = factorize(name_ + ": " + tensor, weight, stats, k);
    if (bf16_) {
      round_tensor_to_bf16(f.a);
      round_tensor_to_bf16(f.b);
    }
    return lowrank_linear(std::move(f));
  }

 protected:
  virtual LowRankFactors factorize(const std::string& what, const Tensor& w, const LinearStats& s,
                                   int64_t k) const = 0;

 private:
  std::string name_;
  uint32_t needs_;
  double ratio_;
  int64_t rank_;
  bool bf16_;
};

class SvdMethod : public LowRankMethod {
 public:
  explicit SvdMethod(const MethodSpec& s) : LowRankMethod("svd", kStatNone, s) {}

 protected:
  LowRankFactors factorize(const std::string& what, const Tensor& w, const LinearStats&, int64_t k) const override {
    return split_factors(thin_svd(f64_of(w), w.dim(0), w.dim(1), what), k);
  }
};

class SvdLlmMethod : public LowRankMethod {
 public:
  explicit SvdLlmMethod(const MethodSpec& s) : LowRankMethod("svd-llm", kStatOrigGram, s) {}

 protected:
  LowRankFactors factorize(const std::string& what, const Tensor& w, const LinearStats& st, int64_t k) const override {
    const int64_t out = w.dim(0), in = w.dim(1);
    const std::vector<double> s = damped_cholesky(mean_of(what, "X^T X", st.orig_gram, st), in, what, "X^T X");
    const std::vector<double> ws = matmul(f64_of(w), s, out, in, in);
    return split_factors(thin_svd(ws, out, in, what), k, lower_inverse(s, in, what));
  }
};

class AaSvdMethod : public LowRankMethod {
 public:
  explicit AaSvdMethod(const MethodSpec& s) : LowRankMethod("aa-svd", kStatHessian | kStatCross, s) {}

 protected:
  LowRankFactors factorize(const std::string& what, const Tensor& w, const LinearStats& st, int64_t k) const override {
    const int64_t out = w.dim(0), in = w.dim(1);
    const std::vector<double> l = damped_cholesky(mean_of(what, "X~^T X~", st.hessian, st), in, what, "X~^T X~");
    const std::vector<double> l_inv = lower_inverse(l, in, what);
    const std::vector<double> cross = mean_of(what, "X^T X~", st.cross, st);
    const std::vector<double> wc = matmul(f64_of(w), cross, out, in, in);
    const std::vector<double> target = matmul(wc, transpose(l_inv, in), out, in, in);  // W·XᵀX̂·L⁻ᵀ
    return split_factors(thin_svd(target, out, in, what), k, l_inv);
  }
};

void check_lowrank_spec(const std::string& method, const MethodSpec& s) {
  LMP_CHECK(s.factor_dtype == "f32" || s.factor_dtype == "bf16", method, ": --factor-dtype must be f32 or bf16, "
            "found '", s.factor_dtype, "'");
  LMP_CHECK(s.rank >= 0, method, ": --rank must be >= 1 (or 0 = from --ratio), found ", s.rank);
  LMP_CHECK(s.rank > 0 || (std::isfinite(s.ratio) && s.ratio > 0 && s.ratio <= 1), method,
            ": --ratio must be in (0, 1], found ", s.ratio);
}

}  // namespace

std::unique_ptr<LinearMethod> make_svd_method(const MethodSpec& spec) {
  check_lowrank_spec("svd", spec);
  return std::make_unique<SvdMethod>(spec);
}

std::unique_ptr<LinearMethod> make_svd_llm_method(const MethodSpec& spec) {
  check_lowrank_spec("svd-llm", spec);
  return std::make_unique<SvdLlmMethod>(spec);
}

std::unique_ptr<LinearMethod> make_aa_svd_method(const MethodSpec& spec) {
  check_lowrank_spec("aa-svd", spec);
  return std::make_unique<AaSvdMethod>(spec);
}

}  // namespace lmp
