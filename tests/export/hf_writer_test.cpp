// HF dense export: compress → export → reload gives the same model at the export's precision, laid out
// like the input (shards, index, tokenizer files, {"format": "pt"}).
#include <gtest/gtest.h>

#include <filesystem>
#include <utility>

#include "compress/pipeline.h"
#include "core/error.h"
#include "data/text_file.h"
#include "eval/perplexity.h"
#include "export/hf_writer.h"
#include "io/safetensors.h"
#include "test_util.h"

using namespace lmp;
namespace fs = std::filesystem;

namespace {

double ppl_of(const Model& m) {
  const auto tokens = m.tokenizer().encode(load_eval_text(test::shared_path("data/corpus/heldout_dev.jsonl")), true);
  PerplexityOptions o;
  o.ctx = 256;
  o.max_windows = 6;
  return evaluate_perplexity(m, tokens, o).ppl;
}

// lm-s compressed with RTN w4 g128 (no calibration needed), exported with `dtype`.
double export_and_reload(const std::string& out, const std::string& dtype, double* in_memory) {
  Model m = Model::open(test::shared_path("models/lm-s"));
  HfWriter w(m.checkpoint(), out, dtype, true);
  PipelineOptions po;
  po.spec.method = "rtn";
  po.spec.bits = 4;
  po.spec.group = 128;
  compress_model(m, {1}, 1, 1, po, [&](const CompressedBlock& b) { w.add_block(b); });
  w.finish();
  if (dtype != "f32") {  // the same weights at the export's precision
    for (int64_t b = 0; b < m.config().num_layers; ++b) {
      BlockWeights bw = m.block(b);
      for (const std::string& leaf : names::block_linears()) {
        Tensor& t = bw.linear(leaf);
        Tensor r = Tensor::zeros(DType::F32, t.shape());
        for (int64_t i = 0; i < t.numel(); ++i) r.f32()[i] = bf16_to_f32(f32_to_bf16(std::as_const(t).f32()[i]));
        t = r;
      }
      m.set_block(b, std::move(bw));
    }
  }
  *in_memory = ppl_of(m);
  return ppl_of(Model::open(out));
}

}  // namespace

TEST(HfExport, F32RoundTripReproducesTheCompressedModel) {
  LMP_REQUIRE_SHARED();
  const std::string out = test::temp_dir("hf-f32") + "/model";
  double mem = 0;
  const double reloaded = export_and_reload(out, "f32", &mem);
  EXPECT_NEAR(reloaded, mem, mem * 1e-4);
  // Laid out like the input: 3 shards + index, tokenizer files, no temp dir left.
  for (const char* f : {"model-00001-of-00003.safetensors", "model-00003-of-00003.safetensors",
                        "model.safetensors.index.json", "config.json", "tokenizer.json", "generation_config.json"})
    EXPECT_TRUE(fs::exists(out + "/" + f)) << f;
  EXPECT_FALSE(fs::exists(out + ".tmp"));
  const SafetensorsFile shard = read_safetensors(out + "/model-00001-of-00003.safetensors");
  EXPECT_EQ(shard.metadata.at("format"), "pt");
  EXPECT_EQ(Checkpoint::open(out).info("model.layers.0.mlp.down_proj.weight").dtype, DType::F32);
}

TEST(HfExport, Bf16RoundTripMatchesTheBf16RoundedWeights) {
  LMP_REQUIRE_SHARED();
  const std::string out = test::temp_dir("hf-bf16") + "/model";
  double mem = 0;
  const double reloaded = export_and_reload(out, "", &mem);  // default: the input's dtype (bf16)
  EXPECT_EQ(Checkpoint::open(out).info("model.layers.0.mlp.down_proj.weight").dtype, DType::BF16);
  EXPECT_NEAR(reloaded, mem, mem * 1e-4);
}

TEST(HfExport, ExistingOutputNeedsForce) {
  LMP_REQUIRE_SHARED();
  const std::string out = test::temp_dir("hf-exists");
  const Model m = Model::open(test::shared_path("models/lm-s"));
  try {
    HfWriter w(m.checkpoint(), out, "", false);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "export hf: output '" + out + "' exists (use --force to replace it)");
  }
}
