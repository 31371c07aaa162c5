// The quantizer's MSE range search (GPTQ's Quantizer mse=True): a hand-checked optimum, never worse than
// min-max, min-max kept when it is already exact, f16 scales, and RTN / GPTQ / recipes passing it on.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "calib/calib_set.h"
#include "compress/pipeline.h"
#include "compress/quant/quant_grid.h"
#include "compress/quant/quant_methods.h"
#include "compress/quant/quantizer.h"
#include "compress/quant/rtn.h"
#include "compress/recipe.h"
#include "core/dtype.h"
#include "data/text_file.h"
#include "eval/perplexity.h"
#include "test_util.h"

namespace lmp {
namespace {

// Σ |x − q(x)|^2.4, the search's objective.
double lp_error(const std::vector<float>& x, QuantParams p, int maxq) {
  double e = 0;
  for (float v : x) e += std::pow(std::fabs(double(dequantize_code(quantize_code(v, p, maxq), p) - v)), 2.4);
  return e;
}

QuantConfig mse_config(int bits, bool sym = false) {
  QuantConfig c;
  c.bits = bits;
  c.sym = sym;
  c.mse = true;
  return c;
}

TEST(QuantMse, HandCheckedOptimumShrinksTheRange) {
  // 2 bits, range [−0.14, 1.7]. Min-max: scale 1.84 / 3, error 0.04114. The search's best is p = 0.89
  // (i = 11): range [−0.1246, 1.513], scale 1.6376 / 3 = 0.545867, zero round(0.228) = 0, error 0.01668;
  // the runner-up (p = 0.88) is 1.1% worse, far beyond f32 rounding. Computed in f64 from quant.py's loop.
  const std::vector<float> x = {0.48f, 0.03f, 0.44f, -0.03f, -0.14f, 1.7f};
  const QuantParams minmax = find_params(x.data(), 6, 1, {2, false});
  EXPECT_FLOAT_EQ(minmax.scale, 1.84f / 3.0f);
  const QuantParams p = find_params(x.data(), 6, 1, mse_config(2));
  EXPECT_NEAR(p.scale, 0.5458667f, 1e-6f);
  EXPECT_EQ(p.zero, 0.0f);
  EXPECT_NEAR(lp_error(x, p, 3), 0.0166797, 1e-6);
  EXPECT_NEAR(lp_error(x, minmax, 3), 0.0411419, 1e-6);
}

TEST(QuantMse, NeverWorseThanMinMaxOnRandomRows) {
  std::mt19937 rng(11);
  std::student_t_distribution<float> heavy(3.0f);  // outliers, where clipping pays
  for (int bits : {2, 3, 4, 8}) {
    for (bool sym : {false, true}) {
      for (int row = 0; row < 20; ++row) {
        std::vector<float> x(128);
        for (float& v : x) v = 0.01f * heavy(rng);
        const QuantConfig plain{bits, sym};
        const QuantParams a = find_params(x.data(), 128, 1, plain), b = find_params(x.data(), 128, 1, mse_config(bits, sym));
        EXPECT_LE(lp_error(x, b, plain.maxq()), lp_error(x, a, plain.maxq())) << bits << " bits, sym " << sym;
        EXPECT_LE(b.scale, a.scale * 1.000001f);  // shrink factors are at most 1
      }
    }
  }
}

TEST(QuantMse, ExactMinMaxGridIsKept) {
  // Values exactly on the 3-bit grid of [0, 7·0.25]: min-max has zero error, so p = 1 stays (ties keep
  // the first candidate).
  std::vector<float> x;
  for (int k = 0; k < 8; ++k) x.push_back(0.25f * float(k));
  const QuantParams a = find_params(x.data(), 8, 1, {3, false}), b = find_params(x.data(), 8, 1, mse_config(3));
  EXPECT_EQ(a.scale, b.scale);
  EXPECT_EQ(a.zero, b.zero);
}

TEST(QuantMse, StridedColumnAndF16Scales) {
  std::mt19937 rng(3);
  std::normal_distribution<float> n(0.0f, 0.02f);
  std::vector<float> w(64 * 4);
  for (float& v : w) v = n(rng);
  w[5 * 4 + 2] = 0.3f;  // an outlier in column 2
  QuantConfig c = mse_config(4);
  std::vector<float> col;
  for (int i = 0; i < 64; ++i) col.push_back(w[size_t(i * 4 + 2)]);
  const QuantParams strided = find_params(w.data() + 2, 64, 4, c), packed = find_params(col.data(), 64, 1, c);
  EXPECT_EQ(strided.scale, packed.scale);
  EXPECT_EQ(strided.zero, packed.zero);
  c.scales_f16 = true;
  const QuantParams h = find_params(col.data(), 64, 1, c);
  EXPECT_EQ(f16_to_f32(f32_to_f16(h.scale)), h.scale);
}

TEST(QuantMse, RtnAndGptqMethodsPassTheFlagOn) {
  std::mt19937 rng(5);
  std::student_t_distribution<float> heavy(3.0f);
  std::vector<float> v(8 * 256);
  for (float& x : v) x = 0.01f * heavy(rng);
  const Tensor w = Tensor::from_f32({8, 256}, v);
  MethodSpec spec;
  spec.method = "rtn";
  spec.bits = 3;
  spec.group = 64;
  spec.mse = true;
  const CompressedLinear via_method = make_rtn_method(spec)->compress("layers.0.mlp.up_proj.weight", w, LinearStats());
  const CompressedLinear direct = rtn_quantize(w, mse_config(3), 64);
  ASSERT_TRUE(via_method.quant && direct.quant);
  for (int64_t i = 0; i < direct.quant->scales.numel(); ++i)
    EXPECT_EQ(via_method.quant->scales.f32()[i], direct.quant->scales.f32()[i]);
  const CompressedLinear plain = rtn_quantize(w, {3, false}, 64);
  int shrunk = 0;
  for (int64_t i = 0; i < plain.quant->scales.numel(); ++i)
    shrunk += direct.quant->scales.f32()[i] < plain.quant->scales.f32()[i];
  EXPECT_GT(shrunk, 0);  // heavy tails: some groups clip

  // GPTQ on a diagonal Hessian feeds no error forward, so with --mse it is RTN with --mse.
  LinearStats diag;
  diag.in = 256;
  diag.rows = 1;
  diag.hessian.assign(256 * 256, 0.0);
  for (int64_t j = 0; j < 256; ++j) diag.hessian[size_t(j * 256 + j)] = 1.0;
  spec.method = "gptq";
  const CompressedLinear g = make_gptq_method(spec)->compress("layers.0.mlp.up_proj.weight", w, diag);
  ASSERT_TRUE(g.quant.has_value());
  for (int64_t i = 0; i < w.numel(); ++i) ASSERT_EQ(g.weight.f32()[i], direct.weight.f32()[i]) << i;

  // The recipe field round-trips, and only grid methods take it.
  EXPECT_EQ(stage_json(spec)["mse"], true);
  spec.method = "sparsegpt";
  EXPECT_FALSE(stage_json(spec).contains("mse"));
}

// On a real model: lm-s RTN w3 g128 with and without the search, perplexity on the first 32 windows of
// heldout_dev (the whole text in BENCHMARKS.md; lm-m gains 27% there).
TEST(QuantMse, LowersLmSPerplexityAtThreeBits) {
  LMP_REQUIRE_SHARED();
  const auto heldout = [](const char* method, bool mse) {
    Model m = Model::open(test::shared_path("models/lm-s"));
    if (std::string(method) == "rtn") {
      const CalibSet calib = read_calib_set(test::shared_path("reference/calib_128x512.safetensors"), m.config().vocab_size);
      const std::vector<int32_t> first8(calib.input_ids.begin(), calib.input_ids.begin() + 8 * calib.seq);
      PipelineOptions po;
      po.spec.method = "rtn";
      po.spec.bits = 3;
      po.spec.group = 128;
      po.spec.mse = mse;
      compress_model(m, first8, 8, calib.seq, po);  // RTN reads no statistics: 8 windows suffice
    }
    PerplexityOptions o;
    o.ctx = 512;
    o.max_windows = 32;
    const auto tokens = m.tokenizer().encode(load_eval_text(test::shared_path("data/corpus/heldout_dev.jsonl")), true);
    return evaluate_perplexity(m, tokens, o).ppl;
  };
  const double dense = heldout("dense", false), plain = heldout("rtn", false), searched = heldout("rtn", true);
  std::printf("lm-s RTN w3 g128, 32 windows: dense %.4f, min-max %.4f, --mse %.4f\n", dense, plain, searched);
  EXPECT_GT(plain - dense, 1.0);
  EXPECT_LT(searched - dense, 0.9 * (plain - dense));
}

}  // namespace
}  // namespace lmp
