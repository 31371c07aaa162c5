// GPTQ export: compress → pack → read back → unpack gives exactly the values the method produced;
// config.json carries quantization_config; formats and shapes GPTQ cannot hold fail before any work.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "compress/pipeline.h"
#include "compress/quant/quant_grid.h"
#include "core/error.h"
#include "export/gptq_pack.h"
#include "export/gptq_writer.h"
#include "io/safetensors.h"
#include "test_util.h"

using namespace lmp;
namespace fs = std::filesystem;

namespace {

MethodSpec rtn_w4(int64_t group) {
  MethodSpec s;
  s.method = "rtn";
  s.bits = 4;
  s.group = group;
  s.scales_f16 = true;
  return s;
}

}  // namespace

TEST(GptqExport, UnpacksToExactlyTheCompressedWeights) {
  LMP_REQUIRE_SHARED();
  const std::string out = test::temp_dir("gptq") + "/model";
  Model m = Model::open(test::shared_path("models/lm-s"));
  const MethodSpec spec = rtn_w4(128);
  GptqWriter w(m.checkpoint(), out, spec, false);
  PipelineOptions po;
  po.spec = spec;
  std::map<std::string, Tensor> weights;
  compress_model(m, {1}, 1, 1, po, [&](const CompressedBlock& b) {
    for (const auto& [leaf, cl] : b.linears) weights[names::layer(b.index, leaf)] = cl.weight;
    w.add_block(b);
  });
  w.finish();
  EXPECT_FALSE(fs::exists(out + ".tmp"));
  std::ifstream idx(out + "/model.safetensors.index.json");
  const auto index = nlohmann::json::parse(idx);
  std::map<std::string, SafetensorsFile> shards;
  auto tensor = [&](const std::string& name) {
    const std::string shard = index.at("weight_map").at(name);
    if (!shards.count(shard)) shards.emplace(shard, read_safetensors(out + "/" + shard));
    EXPECT_EQ(shards.at(shard).metadata.at("format"), "pt");
    return shards.at(shard).tensor(name);
  };
  ASSERT_EQ(weights.size(), 7u * size_t(m.config().num_layers));
  for (const auto& [base, weight] : weights) {
    GptqPacked p;
    p.bits = 4;
    p.group = 128;
    p.qweight = tensor(base + ".qweight");
    p.qzeros = tensor(base + ".qzeros");
    p.scales = tensor(base + ".scales");
    p.g_idx = tensor(base + ".g_idx");
    EXPECT_EQ(p.qweight.shape(), Shape({weight.dim(1) / 8, weight.dim(0)})) << base;
    const Tensor deq = dequantize_grid(gptq_unpack(base, p, false));
    EXPECT_EQ(std::memcmp(deq.f32(), weight.f32(), size_t(weight.numel()) * 4), 0) << base;
  }
  EXPECT_EQ(tensor("model.embed_tokens.weight").dtype(), DType::F16);
  EXPECT_EQ(tensor("model.layers.0.input_layernorm.weight").dtype(), DType::F16);
  std::ifstream cf(out + "/config.json");
  const auto q = nlohmann::json::parse(cf).at("quantization_config");
  EXPECT_EQ(q.at("quant_method"), "gptq");
  EXPECT_EQ(q.at("bits"), 4);
  EXPECT_EQ(q.at("group_size"), 128);
  EXPECT_EQ(q.at("desc_act"), false);
  EXPECT_EQ(q.at("sym"), false);
  EXPECT_EQ(q.at("checkpoint_format"), "gptq");
  for (const char* f : {"tokenizer.json", "tokenizer_config.json", "generation_config.json"})
    EXPECT_TRUE(fs::exists(out + "/" + f)) << f;
  const Checkpoint back = Checkpoint::open(out);  // reloads: tests/export/roundtrip_ppl_test.cpp
  EXPECT_EQ(back.metadata().at("quantization"), "gptq 4-bit, group 128, asym (checkpoint_format gptq)");
}

TEST(GptqExport, RefusesWhatTheFormatCannotHoldBeforeWork) {
  LMP_REQUIRE_SHARED();
  const std::string out = test::temp_dir("gptq-bad") + "/model";
  const Checkpoint lm = Checkpoint::open(test::shared_path("models/lm-s"));
  MethodSpec s = rtn_w4(128);
  s.bits = 3;
  EXPECT_EQ(test::error_of([&] { GptqWriter(lm, out, s, false); }),
            "export gptq: --bits 3 cannot be packed; the GPTQ format holds 2, 4 or 8 bits");
  s = rtn_w4(128);
  s.method = "nf4";
  EXPECT_EQ(test::error_of([&] { GptqWriter(lm, out, s, false); }),
            "export gptq: --method nf4 does not produce an integer grid; the GPTQ format needs --method rtn or gptq");
  const Checkpoint st = Checkpoint::open(test::shared_path("models/stories260K/stories260K.gguf"));
  EXPECT_EQ(test::error_of([&] { GptqWriter(st, out, rtn_w4(-1), false); }),
            "export gptq: model.layers.0.mlp.down_proj.weight: 4-bit GPTQ packs 8 values per int32 and needs both "
            "sizes a multiple of 8, found [64, 172]");
  EXPECT_FALSE(fs::exists(out));
  EXPECT_FALSE(fs::exists(out + ".tmp"));
  const auto r = test::run_cli("compress " + test::shared_path("models/lm-s") + " -o " + out +
                               " --method wanda --sparsity 0.5 --format gptq");
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("--format gptq needs --method rtn or gptq"), std::string::npos) << r.err;
}
