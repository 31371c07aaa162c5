// `--threads` changes the speed, never the result: lm-s compressed with GPTQ (act-order, "linear"
// sequencing) and with SparseGPT ("block" sequencing) on 1 and on 2 threads gives the same bits in every
// weight, and the same perplexity to the last bit. (OpenBLAS alone rounds differently at different
// thread counts; linalg/gemm.cpp is what makes this hold.)
#include <gtest/gtest.h>

#include <cstring>

#include "calib/calib_set.h"
#include "compress/pipeline.h"
#include "data/text_file.h"
#include "eval/perplexity.h"
#include "linalg/gemm.h"
#include "test_util.h"

using namespace lmp;

namespace {

constexpr int64_t kSamples = 16;  // of the reference's 128 calibration windows: enough to exercise it

struct Compressed {
  std::vector<std::vector<float>> weights;  // every linear of every block
  double ppl = 0;
};

Compressed compress_on(int threads, const MethodSpec& spec) {
  set_num_threads(threads);
  Model m = Model::open(test::shared_path("models/lm-s"));
  const CalibSet calib = read_calib_set(test::shared_path("reference/calib_128x512.safetensors"), m.config().vocab_size);
  PipelineOptions po;
  po.spec = spec;
  const std::vector<int32_t> ids(calib.input_ids.begin(), calib.input_ids.begin() + kSamples * calib.seq);
  compress_model(m, ids, kSamples, calib.seq, po);
  Compressed c;
  for (int64_t b = 0; b < m.config().num_layers; ++b)
    for (const char* leaf : {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
                             "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"}) {
      const Tensor& w = m.block(b).linear(leaf);
      c.weights.emplace_back(w.f32(), w.f32() + w.numel());
    }
  const auto tokens = m.tokenizer().encode(load_eval_text(test::shared_path("data/corpus/heldout_dev.jsonl")), true);
  PerplexityOptions o;
  o.ctx = 512;
  o.max_windows = 8;
  c.ppl = evaluate_perplexity(m, tokens, o).ppl;
  set_num_threads(0);
  return c;
}

void expect_same_at_one_and_two_threads(const MethodSpec& spec) {
  const Compressed one = compress_on(1, spec), two = compress_on(2, spec);
  ASSERT_EQ(one.weights.size(), two.weights.size());
  for (size_t i = 0; i < one.weights.size(); ++i)
    ASSERT_EQ(one.weights[i], two.weights[i]) << spec.method << ": linear #" << i << " (block " << i / 7 << ")";
  EXPECT_EQ(std::memcmp(&one.ppl, &two.ppl, sizeof(double)), 0) << one.ppl << " vs " << two.ppl;
}

}  // namespace

TEST(ThreadInvariance, GptqGivesTheSameModelOnOneAndTwoThreads) {
  LMP_REQUIRE_SHARED();
  MethodSpec s;
  s.method = "gptq";
  s.bits = 4;
  s.group = 128;
  s.act_order = true;
  expect_same_at_one_and_two_threads(s);
}

TEST(ThreadInvariance, SparseGptGivesTheSameModelOnOneAndTwoThreads) {
  LMP_REQUIRE_SHARED();
  MethodSpec s;
  s.method = "sparsegpt";
  s.sparsity = 0.5;
  expect_same_at_one_and_two_threads(s);
}

TEST(ThreadInvariance, EntquantGivesTheSameModelOnOneAndTwoThreads) {
  LMP_REQUIRE_SHARED();
  for (const char* optimizer : {"row-search", "lbfgs"}) {
    MethodSpec s;
    s.method = "entquant";
    s.lambda = 14.5;
    s.optimizer = optimizer;
    expect_same_at_one_and_two_threads(s);
  }
}
