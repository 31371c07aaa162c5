// Block records (compress/block_record.h): every representation comes back bit for bit, the weight is
// left out exactly when the representation rebuilds it, and damaged records fail naming file and part.
#include <gtest/gtest.h>

#include <cstring>

#include "compress/block_record.h"
#include "compress/registry.h"
#include "io/safetensors.h"
#include "test_util.h"

namespace lmp {
namespace {

using test::random_weight;
bool same(const Tensor& a, const Tensor& b) { return test::bit_identical(a, b); }

CompressedLinear compressed(const std::string& method, const Tensor& w) {
  MethodSpec s;
  s.method = method;
  s.group = 32;
  s.sparsity = 0.5;
  s.double_quant = true;
  s.lambda = 3.9;
  s.optimizer = "row-search";
  LinearStats stats;  // data-free methods
  return make_method(s)->compress("model.layers.0.mlp.up_proj.weight", w, stats);
}

// One linear of each data-free representation: integer grid, NF4 double-quant codebook, FP8, sparse.
CompressedBlock sample_block() {
  CompressedBlock b;
  b.index = 3;
  b.linears.emplace("self_attn.q_proj", compressed("rtn", random_weight(48, 64, 1)));
  b.linears.emplace("self_attn.k_proj", compressed("nf4", random_weight(32, 64, 2)));
  b.linears.emplace("self_attn.v_proj", compressed("entquant", random_weight(32, 64, 3)));
  b.linears.emplace("mlp.up_proj", compressed("magnitude", random_weight(64, 48, 4)));
  b.tensors.emplace("model.layers.3.input_layernorm.weight", random_weight(1, 64, 5).reshaped({64}));
  return b;
}

TEST(BlockRecord, EveryRepresentationRoundTripsBitForBit) {
  const std::string path = test::temp_dir("block_record") + "/b.safetensors";
  const CompressedBlock b = sample_block();
  write_block_record(path, b);
  const CompressedBlock r = read_block_record(path);
  EXPECT_EQ(r.index, 3);
  ASSERT_EQ(r.linears.size(), b.linears.size());
  for (const auto& [leaf, c] : b.linears) {
    const CompressedLinear& d = r.linears.at(leaf);
    EXPECT_EQ(d.kind, c.kind) << leaf;
    EXPECT_TRUE(same(d.weight, c.weight)) << leaf;
    EXPECT_EQ(d.mask.empty(), c.mask.empty()) << leaf;
    if (!c.mask.empty()) {
      EXPECT_TRUE(same(d.mask, c.mask)) << leaf;
    }
  }
  const QuantGrid& q = *r.linears.at("self_attn.q_proj").quant;
  EXPECT_EQ(q.bits, 4);
  EXPECT_EQ(q.group, 32);
  EXPECT_TRUE(same(q.codes, b.linears.at("self_attn.q_proj").quant->codes));
  EXPECT_EQ(q.g_idx, b.linears.at("self_attn.q_proj").quant->g_idx);
  const CodebookGrid& nf4 = *r.linears.at("self_attn.k_proj").codebook;
  const CodebookGrid& nf4_in = *b.linears.at("self_attn.k_proj").codebook;
  EXPECT_TRUE(nf4.double_quant);
  EXPECT_EQ(nf4.absmax_offset, nf4_in.absmax_offset);
  EXPECT_EQ(nf4.absmax_map, nf4_in.absmax_map);
  EXPECT_TRUE(same(nf4.absmax_codes, nf4_in.absmax_codes));
  const Fp8Grid& fp8 = *r.linears.at("self_attn.v_proj").fp8;
  EXPECT_EQ(fp8.lambda, 3.9);
  EXPECT_EQ(fp8.optimizer, "row-search");
  EXPECT_TRUE(same(r.tensors.at("model.layers.3.input_layernorm.weight"),
                   b.tensors.at("model.layers.3.input_layernorm.weight")));
}

TEST(BlockRecord, StoresTheWeightOnlyWhenTheRepresentationCannotRebuildIt) {
  const std::string path = test::temp_dir("block_record_weight") + "/b.safetensors";
  write_block_record(path, sample_block());
  const SafetensorsFile f = read_safetensors(path);
  EXPECT_EQ(f.find("self_attn.q_proj.weight"), nullptr);
  EXPECT_EQ(f.find("self_attn.k_proj.weight"), nullptr);
  EXPECT_EQ(f.find("self_attn.v_proj.weight"), nullptr);
  EXPECT_NE(f.find("mlp.up_proj.weight"), nullptr) << "a pruned weight has no other representation";

  // A grid whose codes no longer give the weight: the weight is stored, and read back as it was.
  CompressedBlock b;
  b.index = 0;
  CompressedLinear c = compressed("rtn", random_weight(16, 32, 9));
  c.weight.f32()[5] += 1e-3f;
  b.linears.emplace("mlp.down_proj", c);
  write_block_record(path, b);
  EXPECT_NE(read_safetensors(path).find("mlp.down_proj.weight"), nullptr);
  EXPECT_TRUE(same(read_block_record(path).linears.at("mlp.down_proj").weight, c.weight));
}

TEST(BlockRecord, DamagedRecordsNameTheFileAndThePart) {
  const std::string dir = test::temp_dir("block_record_bad");
  const CompressedBlock b = sample_block();
  write_block_record(dir + "/b.safetensors", b);
  const SafetensorsFile f = read_safetensors(dir + "/b.safetensors");
  std::vector<std::pair<std::string, Tensor>> kept;
  for (const SafetensorsEntry& e : f.entries)
    if (e.name != "self_attn.q_proj.quant.scales") kept.emplace_back(e.name, f.tensor(e.name));
  write_safetensors(dir + "/missing.safetensors", kept, f.metadata);
  EXPECT_EQ(test::error_of([&] { read_block_record(dir + "/missing.safetensors"); }),
            dir + "/missing.safetensors: self_attn.q_proj: missing tensor self_attn.q_proj.quant.scales");

  std::map<std::string, std::string> meta = f.metadata;
  meta["lmpress_block_record"] = "2";
  write_safetensors(dir + "/version.safetensors", kept, meta);
  EXPECT_EQ(test::error_of([&] { read_block_record(dir + "/version.safetensors"); }),
            dir + "/version.safetensors: block record version 2, expected 1");

  write_safetensors(dir + "/plain.safetensors", kept, {});
  EXPECT_EQ(test::error_of([&] { read_block_record(dir + "/plain.safetensors"); }),
            dir + "/plain.safetensors: __metadata__ has no 'lmpress_block_record': not an lmpress block record");
}

}  // namespace
}  // namespace lmp
