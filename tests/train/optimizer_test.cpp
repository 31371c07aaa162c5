// AdamW, gradient clipping and the warmup-cosine schedule against their formulas, computed here by hand
// in double (torch.optim.AdamW, torch.nn.utils.clip_grad_norm_, the AA-SVD reference's LambdaLR).
#include <gtest/gtest.h>

#include <cmath>
#include <numbers>
#include <vector>

#include "test_util.h"
#include "train/adamw.h"
#include "train/grad_clip.h"
#include "train/lr_schedule.h"

using namespace lmp;

TEST(AdamW, ThreeStepsFollowTheFormulasWithDecayAndBiasCorrection) {
  // Two tensors, a different gradient and learning rate at each step.
  std::vector<float> p1 = {0.5f, -1.5f, 2.0f}, p2 = {0.25f};
  std::vector<double> e1(p1.begin(), p1.end()), e2(p2.begin(), p2.end());
  std::vector<double> m(4, 0.0), v(4, 0.0);
  AdamWOptions o;
  o.weight_decay = 0.1;  // large enough that the decay term shows
  AdamW opt(o);
  const double lrs[] = {0.0, 0.05, 0.02};
  float p2_after_step2 = 0;
  const std::vector<std::vector<float>> grads = {{0.3f, -0.2f, 1.0f, -4.0f}, {-0.1f, 0.4f, 0.5f, 2.0f},
                                                 {0.2f, 0.2f, -0.7f, 0.01f}};
  for (int t = 1; t <= 3; ++t) {
    const std::vector<float>& g = grads[size_t(t - 1)];
    std::vector<float> g1(g.begin(), g.begin() + 3), g2(g.begin() + 3, g.end());
    const ParamSlot slots[] = {{p1.data(), g1.data(), 3}, {p2.data(), g2.data(), 1}};
    const double lr = lrs[t - 1];
    opt.step(slots, lr);
    for (int i = 0; i < 4; ++i) {
      double& p = i < 3 ? e1[size_t(i)] : e2[0];
      p *= 1 - lr * o.weight_decay;
      m[size_t(i)] = 0.9 * m[size_t(i)] + 0.1 * g[size_t(i)];
      v[size_t(i)] = 0.999 * v[size_t(i)] + 0.001 * double(g[size_t(i)]) * g[size_t(i)];
      const double mhat = m[size_t(i)] / (1 - std::pow(0.9, t)), vhat = v[size_t(i)] / (1 - std::pow(0.999, t));
      p -= lr * mhat / (std::sqrt(vhat) + 1e-8);
    }
    for (int i = 0; i < 3; ++i) EXPECT_NEAR(p1[size_t(i)], e1[size_t(i)], 1e-6) << "step " << t << " #" << i;
    EXPECT_NEAR(p2[0], e2[0], 1e-6) << "step " << t;
    if (t == 2) p2_after_step2 = p2[0];
  }
  EXPECT_EQ(opt.steps(), 3);
  // Step 1 ran at lr 0 and left p unchanged, yet its moments count and step 2 corrects for t = 2. By
  // hand for p2 (g = −4, then 2): m1 = −0.4, v1 = 0.016; step 2: p = 0.25·(1 − 0.05·0.1) = 0.24875,
  // m2 = 0.9·(−0.4) + 0.1·2 = −0.16, v2 = 0.999·0.016 + 0.001·4 = 0.019984, so
  // p = 0.24875 − 0.05·(−0.16 / 0.19) / (sqrt(0.019984 / 0.001999) + 1e-8).
  EXPECT_NEAR(p2_after_step2, 0.24875 + 0.05 * (0.16 / 0.19) / (std::sqrt(0.019984 / 0.001999) + 1e-8), 1e-6);
}

TEST(AdamW, WrongSlotCountOrSizeIsOneErrorLine) {
  AdamW opt;
  std::vector<float> p(3, 1.0f), g(3, 0.1f);
  const ParamSlot one[] = {{p.data(), g.data(), 3}};
  opt.step(one, 1e-3);
  const ParamSlot smaller[] = {{p.data(), g.data(), 2}};
  EXPECT_EQ(test::error_of([&] { opt.step(smaller, 1e-3); }), "adamw: step 2: tensor #0 has 2 values, expected 3");
  EXPECT_EQ(test::error_of([&] { opt.step({}, 1e-3); }), "adamw: step 2 got 0 tensors, expected 1 (as on the first step)");
}

TEST(GradClip, ScalesByMaxOverNormOnlyAboveMax) {
  std::vector<float> a = {3.0f, 0.0f}, b = {4.0f};  // total norm 5
  const GradSlot both[] = {{a.data(), 2}, {b.data(), 1}};
  EXPECT_DOUBLE_EQ(clip_grad_norm(both, 1.0), 5.0);
  const double c = 1.0 / (5.0 + 1e-6);
  EXPECT_FLOAT_EQ(a[0], float(3.0 * c));
  EXPECT_FLOAT_EQ(b[0], float(4.0 * c));
  EXPECT_NEAR(std::sqrt(a[0] * a[0] + b[0] * b[0]), 1.0, 1e-6);

  std::vector<float> s = {0.3f, -0.4f};  // norm 0.5 < max: untouched
  const GradSlot small[] = {{s.data(), 2}};
  EXPECT_NEAR(clip_grad_norm(small, 1.0), 0.5, 1e-7);
  EXPECT_EQ(s, (std::vector<float>{0.3f, -0.4f}));

  // At the threshold (norm = max) the factor max/(norm + 1e-6) is just below 1: torch scales then too.
  std::vector<float> e = {1.0f};
  const GradSlot edge[] = {{e.data(), 1}};
  clip_grad_norm(edge, 1.0);
  EXPECT_EQ(e[0], float(1.0 / (1.0 + 1e-6)));
  EXPECT_LT(e[0], 1.0f);
}

TEST(LrSchedule, MatchesTheReferenceLambda) {
  // 25 epochs of 4 batches: total 100, warmup int(0.1·100) = 10.
  const WarmupCosine s = warmup_cosine(25, 4);
  EXPECT_EQ(s.total, 100);
  EXPECT_EQ(s.warmup, 10);
  EXPECT_EQ(s.factor(0), 0.0);  // the first optimizer step runs at lr 0, as LambdaLR's does
  EXPECT_DOUBLE_EQ(s.factor(5), 0.5);
  EXPECT_DOUBLE_EQ(s.factor(10), 1.0);        // warmup end: the cosine at progress 0
  EXPECT_DOUBLE_EQ(s.factor(55), 0.55);       // midpoint of the decay: 0.1 + 0.45·(1 + cos(π/2))
  const double last = 0.1 + 0.45 * (1 + std::cos(std::numbers::pi * 89.0 / 90.0));
  EXPECT_DOUBLE_EQ(s.factor(99), last);       // the last step taken
  EXPECT_GT(last, 0.1);
  EXPECT_LT(last, 0.1003);
  EXPECT_DOUBLE_EQ(s.factor(100), 0.1);

  // Fewer than 10 steps: no warmup, step 0 runs at the full rate.
  const WarmupCosine n = warmup_cosine(3, 3);
  EXPECT_EQ(n.total, 9);
  EXPECT_EQ(n.warmup, 0);
  EXPECT_DOUBLE_EQ(n.factor(0), 1.0);
  EXPECT_DOUBLE_EQ(n.factor(8), 0.1 + 0.45 * (1 + std::cos(std::numbers::pi * 8.0 / 9.0)));

  // Python's int() truncates: int(0.1·75) = 7, int(0.1·30) = 3 (0.1·30 is 3.0000000000000004).
  EXPECT_EQ(warmup_cosine(25, 3).warmup, 7);
  EXPECT_EQ(warmup_cosine(3, 10).warmup, 3);
  EXPECT_DOUBLE_EQ(warmup_cosine(3, 10).factor(1), 1.0 / 3.0);
}
