// lmp export (export/lmp_writer.h) and read-back (io/lmp_checkpoint.h): compress → write → open gives
// every coded linear bit for bit (RTN w3, GPTQ act-order, hand-built FP8, NF4 double-quant, permuted
// g_idx), the plain tensors byte for byte, sizes() equal to the file; damaged checkpoints fail with one
// line naming the directory, model.safetensors, the record or tensor and, for a corrupt stream, the chunk.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <numeric>
#include <random>

#include "codec/rans.h"
#include "compress/pipeline.h"
#include "compress/quant/nf4.h"
#include "compress/quant/quant_grid.h"
#include "compress/quant/rtn.h"
#include "compress/registry.h"
#include "core/error.h"
#include "core/fp8.h"
#include "data/text_file.h"
#include "export/lmp_encode.h"
#include "export/lmp_writer.h"
#include "io/safetensors.h"
#include "model/model.h"
#include "test_util.h"

using namespace lmp;
namespace fs = std::filesystem;

namespace {

using Weights = std::map<std::string, Tensor>;  // canonical name → the f32 weight the method produced

bool same_bytes(const Tensor& a, const Tensor& b) {
  return a.dtype() == b.dtype() && a.shape() == b.shape() && std::memcmp(a.data(), b.data(), a.nbytes()) == 0;
}

// Every coded linear bit-identical, every other tensor of the input byte-identical and in its dtype.
void expect_round_trip(const std::string& out, const Checkpoint& input, const Weights& coded) {
  const Checkpoint ck = Checkpoint::open(out);
  for (const auto& [name, w] : coded) EXPECT_TRUE(same_bytes(ck.load_f32(name), w)) << name;
  for (const std::string& name : input.tensor_names())
    if (!coded.count(name)) {
      EXPECT_TRUE(same_bytes(ck.raw(name), input.raw(name))) << name;
    }
  for (const std::string& name : ck.tensor_names())
    EXPECT_EQ(name.find(".weight."), std::string::npos) << "part left as a tensor: " << name;
}

void expect_sizes(const std::string& out, const LmpSizes& s) {
  EXPECT_EQ(s.file_bytes, fs::file_size(out + "/model.safetensors"));
  EXPECT_GT(s.linear_bytes, 0u);
  EXPECT_LT(s.linear_bytes, s.file_bytes);
  EXPECT_LE(s.bpw_ideal(), s.bpw_linears());
  for (const SafetensorsEntry& e : read_safetensors(out + "/model.safetensors").entries)
    EXPECT_EQ(e.offset % dtype_block_bytes(e.dtype), 0u) << e.name << " is not aligned to its element size";
}

std::vector<int32_t> calib_tokens(const Model& m, int64_t n, int64_t seq) {
  auto ids = m.tokenizer().encode(load_eval_text(test::shared_path("data/corpus/heldout_dev.jsonl")), true);
  ids.resize(size_t(n * seq));
  return ids;
}

// lm-s compressed by `po` and written by LmpWriter; the compressed weights and Σ encode_lmp_linear bytes.
LmpSizes compress_to_lmp(const std::string& out, const PipelineOptions& po, int64_t n, int64_t seq, Weights& w,
                         uint64_t& encoded_bytes) {
  Model m = Model::open(test::shared_path("models/lm-s"));
  const std::vector<int32_t> ids = n > 1 ? calib_tokens(m, n, seq) : std::vector<int32_t>{1};
  LmpWriter writer(m.checkpoint(), out, true, false, {}, [&](const std::string&) { return po.spec.method; });
  compress_model(m, ids, n, seq, po, [&](const CompressedBlock& b) {
    for (const auto& [leaf, cl] : b.linears) {
      const std::string name = names::layer(b.index, leaf + ".weight");
      w[name] = cl.weight;
      encoded_bytes += encode_lmp_linear(name, cl, {}, po.spec.method).bytes();
    }
    writer.add_block(b);
  });
  writer.finish();
  return writer.sizes();
}

// FP8 E4M3 with one power-of-two scale per row (absmax ≤ 448·scale), as EntQuant's λ = 0 start.
CompressedLinear fp8_linear(const Tensor& w) {
  const int64_t out = w.dim(0), in = w.dim(1);
  CompressedLinear c;
  c.kind = CompressedLinear::Kind::Fp8;
  Fp8Grid g;
  g.codes = Tensor::zeros(DType::U8, {out, in});
  g.scales = Tensor::zeros(DType::F32, {out});
  g.optimizer = "absmax";
  c.weight = Tensor::zeros(DType::F32, {out, in});
  auto* codes = static_cast<uint8_t*>(g.codes.mutable_data());
  for (int64_t r = 0; r < out; ++r) {
    float a = 0;
    for (int64_t j = 0; j < in; ++j) a = std::max(a, std::fabs(w.f32()[r * in + j]));
    const float s = std::ldexp(1.0f, a > 0 ? int(std::ceil(std::log2(a / 448.0f))) : 0);
    g.scales.f32()[r] = s;
    for (int64_t j = 0; j < in; ++j) {
      codes[r * in + j] = fp8_e4m3_encode(w.f32()[r * in + j] / s);
      c.weight.f32()[r * in + j] = fp8_e4m3_decode(codes[r * in + j]) * s;
    }
  }
  c.fp8 = std::move(g);
  return c;
}

// RTN 4-bit g32 whose groups are a random partition of the columns (as act-order without static groups).
CompressedLinear permuted_int_linear(const Tensor& w, uint64_t seed) {
  QuantConfig qc;
  qc.bits = 4;
  CompressedLinear c = rtn_quantize(w, qc, 32);
  std::vector<int32_t>& g = c.quant->g_idx;
  std::shuffle(g.begin(), g.end(), std::mt19937(uint32_t(seed)));
  c.weight = dequantize_grid(*c.quant);
  return c;
}

CompressedLinear dense(Tensor w) {
  CompressedLinear c;
  c.weight = std::move(w);
  return c;
}

// Hand-built blocks: q fp8, k nf4 (double-quant), v int with a permuted g_idx, o dense unchanged, gate
// dense changed, up rtn w3 g-1, down skipped. Returns the expected weights of the coded and changed ones.
Weights add_mixed_blocks(const Checkpoint& in, LmpWriter& w) {
  Weights expect;
  for (int64_t b = 0; b < in.config().num_layers; ++b) {
    CompressedBlock blk;
    blk.index = b;
    auto weight = [&](const char* leaf) { return in.load_f32(names::layer(b, std::string(leaf) + ".weight")); };
    blk.linears["self_attn.q_proj"] = fp8_linear(weight("self_attn.q_proj"));
    blk.linears["self_attn.k_proj"] = nf4_quantize(weight("self_attn.k_proj"), 64, true);
    blk.linears["self_attn.v_proj"] = permuted_int_linear(weight("self_attn.v_proj"), uint64_t(b));
    blk.linears["self_attn.o_proj"] = dense(weight("self_attn.o_proj"));
    Tensor gate = weight("mlp.gate_proj");
    for (int64_t i = 0; i < gate.numel(); ++i) gate.f32()[i] *= 0.5f;
    blk.linears["mlp.gate_proj"] = dense(gate);
    QuantConfig w3;
    w3.bits = 3;
    blk.linears["mlp.up_proj"] = rtn_quantize(weight("mlp.up_proj"), w3, -1);
    for (const auto& [leaf, cl] : blk.linears)
      if (leaf != "self_attn.o_proj") expect[names::layer(b, leaf + ".weight")] = cl.weight;
    w.add_block(blk);
  }
  return expect;
}

}  // namespace

TEST(LmpExport, RtnW3RoundTripIsBitExactAndSmallerThanThreeBits) {
  LMP_REQUIRE_SHARED();
  const std::string out = test::temp_dir("lmp-rtn") + "/model";
  PipelineOptions po;
  po.spec.method = "rtn";
  po.spec.bits = 3;
  po.spec.group = 128;
  Weights w;
  uint64_t encoded = 0;
  const LmpSizes s = compress_to_lmp(out, po, 1, 1, w, encoded);
  const Checkpoint input = Checkpoint::open(test::shared_path("models/lm-s"));
  ASSERT_EQ(w.size(), 7u * size_t(input.config().num_layers));
  expect_round_trip(out, input, w);
  expect_sizes(out, s);
  EXPECT_EQ(s.linear_bytes, encoded);  // what encode_lmp_linear measures is what the file holds
  EXPECT_LT(s.bpw_linears(), 3.2) << "entropy coding w3 codes + f32 scales and zeros";
  EXPECT_EQ(read_safetensors(out + "/model.safetensors").find("model.layers.0.mlp.up_proj.weight.scales")->dtype,
            DType::F32) << "RTN scales are not bf16 values: kept in f32";
  EXPECT_GT(s.bpw_linears(), 2.0);
  uint64_t linear_weights = 0, total = 0;
  for (const auto& [name, t] : w) linear_weights += uint64_t(t.numel());
  for (const std::string& name : input.tensor_names()) total += uint64_t(shape_numel(input.info(name).shape));
  EXPECT_EQ(s.linear_weights, linear_weights);
  EXPECT_EQ(s.total_weights, total);
  // The model runs from it; its layout, config and metadata.
  const Model m = Model::open(out);
  EXPECT_TRUE(same_bytes(m.block(2).linear("mlp.down_proj"), w.at("model.layers.2.mlp.down_proj.weight")));
  for (const char* f : {"config.json", "tokenizer.json", "generation_config.json", "model.safetensors"})
    EXPECT_TRUE(fs::exists(out + "/" + f)) << f;
  EXPECT_FALSE(fs::exists(out + "/model.safetensors.index.json"));
  EXPECT_FALSE(fs::exists(out + ".tmp"));
  const SafetensorsFile st = read_safetensors(out + "/model.safetensors");
  EXPECT_EQ(st.metadata.at("format"), "lmp");
  EXPECT_EQ(st.metadata.at("lmp_version"), "1");
  const auto rec = nlohmann::json::parse(st.metadata.at("lmp:model.layers.0.mlp.up_proj.weight"));
  EXPECT_EQ(rec.at("codes"), "int");
  EXPECT_EQ(rec.at("method"), "rtn");
  EXPECT_EQ(rec.at("bits"), 3);
  EXPECT_EQ(rec.at("group"), 128);
  EXPECT_EQ(rec.at("shape"), nlohmann::json({704, 256}));
  EXPECT_EQ(rec.at("chunk_symbols"), 262144);
  EXPECT_FALSE(st.find("model.layers.0.mlp.up_proj.weight.g_idx")) << "a default g_idx is implied";
  EXPECT_EQ(uint64_t(rec.at("stream_bytes")), st.find("model.layers.0.mlp.up_proj.weight.codes")->nbytes);
  std::ifstream cf(out + "/config.json");
  const auto q = nlohmann::json::parse(cf).at("quantization_config");
  EXPECT_EQ(q, nlohmann::json({{"quant_method", "lmpress"}, {"format", "lmp"}, {"format_version", 1}}));
  const Checkpoint ck = Checkpoint::open(out);
  EXPECT_EQ(ck.metadata().at("quantization").rfind("lmp v1: 42 coded linears (42 rtn int3 g128), ", 0), 0u)
      << ck.metadata().at("quantization");
  EXPECT_EQ(ck.packing("model.layers.0.mlp.up_proj.weight"), "lmp int3 g128");
}

TEST(LmpExport, GptqActOrderRoundTripIsBitExact) {
  LMP_REQUIRE_SHARED();
  const std::string out = test::temp_dir("lmp-gptq") + "/model";
  PipelineOptions po;
  po.spec.method = "gptq";
  po.spec.bits = 4;
  po.spec.group = 32;
  po.spec.act_order = true;
  Weights w;
  uint64_t encoded = 0;
  const LmpSizes s = compress_to_lmp(out, po, 4, 64, w, encoded);
  expect_round_trip(out, Checkpoint::open(test::shared_path("models/lm-s")), w);
  expect_sizes(out, s);
  EXPECT_EQ(s.linear_bytes, encoded);
  const SafetensorsFile st = read_safetensors(out + "/model.safetensors");
  EXPECT_TRUE(st.find("model.layers.0.self_attn.q_proj.weight.g_idx")) << "act-order stores its groups";
}

TEST(LmpExport, EntQuantFp8RoundTripIsBitExact) {
  LMP_REQUIRE_SHARED();
  const std::string out = test::temp_dir("lmp-entquant") + "/model";
  PipelineOptions po;
  po.spec.method = "entquant";
  po.spec.lambda = 14.5;
  Weights w;
  uint64_t encoded = 0;
  const LmpSizes s = compress_to_lmp(out, po, 1, 1, w, encoded);
  expect_round_trip(out, Checkpoint::open(test::shared_path("models/lm-s")), w);
  expect_sizes(out, s);
  EXPECT_EQ(s.linear_bytes, encoded);
  EXPECT_LT(s.bpw_linears(), 4.0) << "λ = 14.5 is the paper's ~3-bit preset";
  const SafetensorsFile st = read_safetensors(out + "/model.safetensors");
  const auto rec = nlohmann::json::parse(st.metadata.at("lmp:model.layers.3.mlp.gate_proj.weight"));
  EXPECT_EQ(rec.at("codes"), "fp8_e4m3");
  EXPECT_EQ(rec.at("method"), "entquant");
  EXPECT_EQ(rec.at("lambda"), 14.5);
  EXPECT_EQ(rec.at("optimizer"), "lbfgs");
  EXPECT_EQ(rec.at("fallback"), false);
  EXPECT_EQ(st.find("model.layers.3.mlp.gate_proj.weight.scales")->shape, (Shape{704}));
  EXPECT_EQ(st.find("model.layers.3.mlp.gate_proj.weight.scales")->dtype, DType::BF16)
      << "--scale-dtype bf16 (the default) rounds the scales to bf16, so the writer keeps 16 bits per row";
  po.spec.scale_dtype = "f32";
  const std::string out32 = test::temp_dir("lmp-entquant-f32") + "/model";
  Weights w32;
  const LmpSizes s32 = compress_to_lmp(out32, po, 1, 1, w32, encoded);
  expect_round_trip(out32, Checkpoint::open(test::shared_path("models/lm-s")), w32);
  EXPECT_EQ(read_safetensors(out32 + "/model.safetensors").find("model.layers.3.mlp.gate_proj.weight.scales")->dtype,
            DType::F32);
  EXPECT_LT(s.linear_bytes + 2 * 2432 - 300, s32.linear_bytes) << "2 bytes saved per row of the block (2432 rows)";
}

TEST(LmpExport, MixedRepresentationsAndHeadRoundTrip) {
  LMP_REQUIRE_SHARED();
  const Checkpoint in = Checkpoint::open(test::shared_path("models/lm-s"));
  const std::string out = test::temp_dir("lmp-mixed") + "/model";
  LmpWriter w(in, out, false, true);
  Weights expect = add_mixed_blocks(in, w);
  const CompressedLinear head = fp8_linear(in.load_f32(names::lm_head()));
  expect[names::lm_head()] = head.weight;
  w.add_head(head);
  w.finish();
  expect_round_trip(out, in, expect);
  expect_sizes(out, w.sizes());
  const Checkpoint ck = Checkpoint::open(out);
  EXPECT_EQ(ck.info("model.layers.0.self_attn.o_proj.weight").dtype, DType::BF16) << "unchanged: as stored";
  EXPECT_EQ(ck.info("model.layers.0.mlp.gate_proj.weight").dtype, DType::F32) << "changed dense: f32";
  EXPECT_EQ(ck.info("model.layers.0.mlp.down_proj.weight").dtype, DType::BF16) << "skipped: as stored";
  EXPECT_EQ(ck.packing("model.layers.0.self_attn.q_proj.weight"), "lmp fp8 λ=0");
  EXPECT_EQ(ck.packing("model.layers.0.self_attn.k_proj.weight"), "lmp nf4 b64 dq");
  EXPECT_EQ(ck.packing("model.layers.0.mlp.up_proj.weight"), "lmp int3 per-row");
  EXPECT_EQ(ck.packing(names::lm_head()), "lmp fp8 λ=0");
  const SafetensorsFile st = read_safetensors(out + "/model.safetensors");
  EXPECT_TRUE(st.find("model.layers.0.self_attn.v_proj.weight.g_idx"));
  EXPECT_TRUE(st.find("model.layers.0.self_attn.k_proj.weight.codebook"));
  const uint64_t coded = 6 * (256 * 256 + 128 * 256 + 128 * 256 + 704 * 256) + 32000 * 256;
  EXPECT_EQ(w.sizes().linear_weights, coded);
  EXPECT_GT(Model::open(out).config().num_layers, 0);
}

TEST(LmpExport, CompressedTiedHeadIsUntied) {
  LMP_REQUIRE_SHARED();
  const Checkpoint in = Checkpoint::open(test::shared_path("models/tiny-llama3"));
  ASSERT_TRUE(in.config().tie_word_embeddings);
  const std::string out = test::temp_dir("lmp-tied") + "/model";
  LmpWriter w(in, out, false, true);
  for (int64_t b = 0; b < in.config().num_layers; ++b) w.add_block(CompressedBlock{b, {}});  // all skipped
  const CompressedLinear head = fp8_linear(in.load_f32(names::embed()));
  w.add_head(head);
  w.finish();
  const Checkpoint ck = Checkpoint::open(out);
  EXPECT_FALSE(ck.config().tie_word_embeddings);
  EXPECT_TRUE(same_bytes(ck.load_f32(names::lm_head()), head.weight));
  EXPECT_TRUE(same_bytes(ck.raw(names::embed()), in.raw(names::embed())));
}

TEST(LmpExport, WriterRefusesMisuse) {
  LMP_REQUIRE_SHARED();
  const Checkpoint in = Checkpoint::open(test::shared_path("models/tiny-mistral"));
  const std::string existing = test::temp_dir("lmp-exists");
  EXPECT_EQ(test::error_of([&] { LmpWriter(in, existing, false, false); }),
            "export lmp: output '" + existing + "' exists (use --force to replace it)");
  LmpWriter w(in, existing + "/m", false, false);
  w.add_block(CompressedBlock{0, {}});
  EXPECT_EQ(test::error_of([&] { w.finish(); }),
            "export lmp: 7 linears were never given (first: model.layers.1.mlp.down_proj.weight); add every block "
            "(and the head) before finish()");
  // Codes that do not mean the weight the method reports.
  CompressedLinear c = fp8_linear(in.load_f32("model.layers.0.self_attn.q_proj.weight"));
  c.weight.f32()[5] += 1.0f;
  EXPECT_EQ(test::error_of([&] { encode_lmp_linear("q", c, {}); }).rfind(
                "export lmp: q: the fp8_e4m3 codes do not reproduce the method's weight at [0, 5]", 0),
            0u);
}

// ---- damaged checkpoints ----

namespace {

using Tensors = std::vector<std::pair<std::string, Tensor>>;
using Meta = std::map<std::string, std::string>;
const std::string kQ = "model.layers.0.self_attn.q_proj.weight";  // fp8 [64, 64]
const std::string kUp = "model.layers.1.mlp.up_proj.weight";      // int4 g32, permuted [160, 64]
const std::string kO = "model.layers.0.self_attn.o_proj.weight";   // lowrank, rank 8 [64, 64]

// svd at rank 8 (compress/lowrank/).
CompressedLinear lowrank_o(const Tensor& w) {
  MethodSpec s;
  s.method = "svd";
  s.rank = 8;
  return make_method(s)->compress(kO, w, LinearStats());
}

// tiny-mistral as an lmp checkpoint (the hand-built mix) in a fresh directory; returns the directory.
std::string small_lmp(const std::string& tag) {
  const Checkpoint in = Checkpoint::open(test::shared_path("models/tiny-mistral"));
  const std::string out = test::temp_dir(tag) + "/m";
  LmpWriter w(in, out, false, false);
  for (int64_t b = 0; b < in.config().num_layers; ++b) {
    CompressedBlock blk{b, {}};
    blk.linears["self_attn.q_proj"] = fp8_linear(in.load_f32(names::layer(b, "self_attn.q_proj.weight")));
    blk.linears["mlp.up_proj"] = permuted_int_linear(in.load_f32(names::layer(b, "mlp.up_proj.weight")), 3);
    blk.linears["mlp.down_proj"] = nf4_quantize(in.load_f32(names::layer(b, "mlp.down_proj.weight")), 64, false);
    blk.linears["self_attn.o_proj"] = lowrank_o(in.load_f32(names::layer(b, "self_attn.o_proj.weight")));
    w.add_block(blk);
  }
  w.finish();
  return out;
}

// Rewrites DIR/model.safetensors after `edit` changed its tensors and metadata.
void rewrite(const std::string& dir, const std::function<void(Tensors&, Meta&)>& edit) {
  const SafetensorsFile st = read_safetensors(dir + "/model.safetensors");
  Tensors t;
  for (const SafetensorsEntry& e : st.entries) {
    const Tensor v = st.tensor(e.name);
    Tensor copy = Tensor::zeros(v.dtype(), v.shape());
    std::memcpy(copy.mutable_data(), v.data(), v.nbytes());
    t.emplace_back(e.name, std::move(copy));
  }
  Meta meta = st.metadata;
  edit(t, meta);
  write_safetensors(dir + "/model.safetensors", t, meta);
}

Tensor& tensor(Tensors& t, const std::string& name) {
  for (auto& [n, v] : t)
    if (n == name) return v;
  throw std::runtime_error("no tensor " + name);
}

// Replaces X's stream by the rANS coding of `codes` and updates the record's stream_bytes.
void replace_codes(Tensors& t, Meta& meta, const std::string& x, const std::vector<uint8_t>& codes) {
  const std::vector<uint8_t> s = rans_encode(codes);
  Tensor& c = tensor(t, x + ".codes");
  c = Tensor::zeros(DType::U8, {int64_t(s.size())});
  std::memcpy(c.mutable_data(), s.data(), s.size());
  auto rec = nlohmann::json::parse(meta.at("lmp:" + x));
  rec["stream_bytes"] = s.size();
  meta["lmp:" + x] = rec.dump();
}

std::string open_error(const std::string& dir) {
  return test::error_of([&] { Checkpoint::open(dir); });
}

std::string load_error(const std::string& dir, const std::string& name) {
  return test::error_of([&] { Checkpoint::open(dir).load_f32(name); });
}

void edit_config(const std::string& dir, const std::function<void(nlohmann::json&)>& f) {
  auto cfg = nlohmann::json::parse(test::read_file(dir + "/config.json"));
  f(cfg);
  test::write_file(dir + "/config.json", cfg.dump(2));
}

}  // namespace

TEST(LmpCheckpoint, SmallCheckpointOpensAndDecodesLazily) {
  LMP_REQUIRE_SHARED();
  const std::string dir = small_lmp("lmp-small");
  const Checkpoint ck = Checkpoint::open(dir);
  EXPECT_EQ(ck.info(kQ).shape, (Shape{64, 64}));
  EXPECT_EQ(ck.info(kUp).file_name, kUp + ".codes");
  EXPECT_EQ(test::error_of([&] { ck.raw(kQ); }).rfind("checkpoint " + dir + ": " + kQ + ": stored packed (lmp fp8", 0),
            0u);
  EXPECT_EQ(ck.metadata().at("quantization").rfind("lmp v1: 8 coded linears (2 entquant fp8 λ=0, 2 int4 g32, "
                                                   "2 lowrank, 2 nf4 b64), ", 0),
            0u)
      << ck.metadata().at("quantization");
}

TEST(LmpCheckpoint, VersionMismatchesAreRefused) {
  LMP_REQUIRE_SHARED();
  const std::string dir = small_lmp("lmp-version");
  rewrite(dir, [](Tensors&, Meta& m) { m.insert_or_assign("lmp_version", std::string("2")); });
  EXPECT_EQ(open_error(dir),
            "checkpoint " + dir + ": model.safetensors: lmp_version 2 is not supported (this lmpress reads version 1)");
  rewrite(dir, [](Tensors&, Meta& m) { m.insert_or_assign("lmp_version", std::string("1")); });
  edit_config(dir, [](nlohmann::json& c) { c["quantization_config"]["format_version"] = 2; });
  EXPECT_EQ(open_error(dir), "config " + dir + "/config.json: quantization_config.format_version: 2 is not supported "
                             "(this lmpress reads version 1)");
}

TEST(LmpCheckpoint, ConfigAndMetadataMustAgree) {
  LMP_REQUIRE_SHARED();
  const std::string dir = small_lmp("lmp-agree");
  edit_config(dir, [](nlohmann::json& c) { c.erase("quantization_config"); });
  EXPECT_EQ(open_error(dir), "checkpoint " + dir + ": model.safetensors: __metadata__ declares an lmp checkpoint, "
                             "but config.json has no quantization_config with quant_method lmpress");
  edit_config(dir, [](nlohmann::json& c) {
    c["quantization_config"] = {{"quant_method", "lmpress"}, {"format", "lmp"}, {"format_version", 1}};
  });
  rewrite(dir, [](Tensors&, Meta& m) {
    m.erase("lmp_version");
    m["format"] = "pt";
  });
  EXPECT_EQ(open_error(dir), "checkpoint " + dir + ": model.safetensors: __metadata__ format is \"pt\", expected "
                             "\"lmp\" (config.json declares quant_method lmpress)");
}

TEST(LmpCheckpoint, MissingOrMisshapenPartsAreNamed) {
  LMP_REQUIRE_SHARED();
  const std::string dir = small_lmp("lmp-parts");
  rewrite(dir, [](Tensors& t, Meta&) {
    t.erase(std::find_if(t.begin(), t.end(), [](const auto& p) { return p.first == kQ + ".codes"; }));
  });
  EXPECT_EQ(open_error(dir), "checkpoint " + dir + ": model.safetensors: lmp:" + kQ + ": tensor " + kQ +
                                 ".codes is missing (fp8_e4m3 codes store it)");
  const std::string d2 = small_lmp("lmp-shape");
  rewrite(d2, [](Tensors& t, Meta&) { tensor(t, kQ + ".scales") = Tensor::zeros(DType::F32, {63}); });
  EXPECT_EQ(open_error(d2), "checkpoint " + d2 + ": model.safetensors: " + kQ +
                                ".scales: expected shape [64] (one scale per output row), found [63]");
  const std::string d3 = small_lmp("lmp-gidx");
  rewrite(d3, [](Tensors& t, Meta&) { static_cast<int32_t*>(tensor(t, kUp + ".g_idx").mutable_data())[7] = 2; });
  EXPECT_EQ(open_error(d3), "checkpoint " + d3 + ": model.safetensors: " + kUp + ".g_idx: g_idx[7] = 2, expected [0, 2)");
  const std::string d4 = small_lmp("lmp-record");
  rewrite(d4, [](Tensors&, Meta& m) {
    auto rec = nlohmann::json::parse(m.at("lmp:" + kUp));
    rec["chunk_symbols"] = 1024;
    m["lmp:" + kUp] = rec.dump();
  });
  EXPECT_EQ(open_error(d4), "checkpoint " + d4 + ": model.safetensors: " + kUp + ".codes: the stream's chunks are "
                                "of 262144 symbols, expected chunk_symbols 1024 of the record");
  rewrite(d4, [](Tensors&, Meta& m) {
    auto rec = nlohmann::json::parse(m.at("lmp:" + kUp));
    rec["chunk_symbols"] = 262144;
    rec["bits"] = 9;
    m["lmp:" + kUp] = rec.dump();
  });
  EXPECT_EQ(open_error(d4), "checkpoint " + d4 + ": model.safetensors: lmp:" + kUp +
                                ": field \"bits\": expected an integer in [1, 8], found 9");
  const std::string d5 = small_lmp("lmp-orphan");
  rewrite(d5, [](Tensors&, Meta& m) { m.erase("lmp:" + kQ); });
  EXPECT_EQ(open_error(d5).rfind("checkpoint " + d5 + ": model.safetensors: " + kQ + ".", 0), 0u) << open_error(d5);
  EXPECT_NE(open_error(d5).find(": no record lmp:" + kQ + " in __metadata__"), std::string::npos) << open_error(d5);
}

TEST(LmpCheckpoint, ScalesMayBeBf16ButNoOtherNarrowType) {
  LMP_REQUIRE_SHARED();
  const std::string dir = small_lmp("lmp-bf16-scales");
  // fp8_linear's scales are powers of two, so the writer narrowed them to BF16; they read back exactly.
  EXPECT_EQ(read_safetensors(dir + "/model.safetensors").find(kQ + ".scales")->dtype, DType::BF16);
  const Checkpoint in = Checkpoint::open(test::shared_path("models/tiny-mistral"));
  EXPECT_TRUE(same_bytes(Checkpoint::open(dir).load_f32(kQ), fp8_linear(in.load_f32(kQ)).weight));
  rewrite(dir, [](Tensors& t, Meta&) { tensor(t, kQ + ".scales") = Tensor::zeros(DType::F16, {64}); });
  EXPECT_EQ(open_error(dir), "checkpoint " + dir + ": model.safetensors: " + kQ +
                                 ".scales: expected dtype F32 or BF16, found F16");
}

TEST(LmpCheckpoint, LowRankLinearsRoundTripAsFactorsAndBadOnesAreNamed) {
  LMP_REQUIRE_SHARED();
  const std::string dir = small_lmp("lmp-lowrank");
  const Checkpoint in = Checkpoint::open(test::shared_path("models/tiny-mistral"));
  const CompressedLinear want = lowrank_o(in.load_f32(kO));
  const Checkpoint ck = Checkpoint::open(dir);
  EXPECT_TRUE(same_bytes(ck.load_f32(kO), want.weight)) << "A·B read back bit for bit";
  Tensor a, b;
  ASSERT_TRUE(ck.load_factors(kO, a, b));
  EXPECT_TRUE(same_bytes(a, want.lowrank->a));
  EXPECT_TRUE(same_bytes(b, want.lowrank->b));
  EXPECT_FALSE(ck.load_factors(kQ, a, b)) << "an fp8 linear has no factors";
  EXPECT_EQ(ck.info(kO).nbytes, uint64_t(64 * 8 + 8 * 64) * 4);
  EXPECT_EQ(ck.packing(kO), "lmp lowrank");
  rewrite(dir, [](Tensors&, Meta& m) {
    auto rec = nlohmann::json::parse(m.at("lmp:" + kO));
    rec["rank"] = 65;
    m["lmp:" + kO] = rec.dump();
  });
  EXPECT_EQ(open_error(dir), "checkpoint " + dir + ": model.safetensors: lmp:" + kO +
                                 ": field \"rank\": expected an integer in [1, 64] (min of the shape), found 65");
  const std::string d2 = small_lmp("lmp-lowrank-b");
  rewrite(d2, [](Tensors& t, Meta&) { tensor(t, kO + ".b") = Tensor::zeros(DType::F32, {8, 63}); });
  EXPECT_EQ(open_error(d2), "checkpoint " + d2 + ": model.safetensors: " + kO +
                                ".b: expected shape [8, 64] (rank 8 of the record), found [8, 63]");
  const std::string d3 = small_lmp("lmp-lowrank-codes");
  rewrite(d3, [](Tensors& t, Meta&) { t.emplace_back(kO + ".codes", Tensor::zeros(DType::U8, {4})); });
  EXPECT_EQ(open_error(d3), "checkpoint " + d3 + ": model.safetensors: " + kO +
                                ".codes: not expected beside lowrank codes (record lmp:" + kO + ")");
  const std::string d4 = small_lmp("lmp-lowrank-nan");
  rewrite(d4, [](Tensors& t, Meta&) { tensor(t, kO + ".a").f32()[3] = std::nanf(""); });
  EXPECT_EQ(load_error(d4, kO), "checkpoint " + d4 + ": model.safetensors: " + kO +
                                    ".a: element 3 is nan, expected a finite value");
}

TEST(LmpCheckpoint, CorruptStreamNamesFileTensorAndChunk) {
  LMP_REQUIRE_SHARED();
  const std::string dir = small_lmp("lmp-corrupt");
  rewrite(dir, [](Tensors& t, Meta&) {
    Tensor& c = tensor(t, kQ + ".codes");
    static_cast<uint8_t*>(c.mutable_data())[c.numel() - 3] ^= 0x5a;
  });
  EXPECT_NO_THROW(Checkpoint::open(dir)) << "opening decodes nothing";
  const std::string e = load_error(dir, kQ);
  EXPECT_EQ(e.rfind("checkpoint " + dir + ": model.safetensors: " + kQ + ".codes: rANS chunk 0 of 1: ", 0), 0u) << e;
}

TEST(LmpCheckpoint, InvalidCodesAreRefusedAtLoad) {
  LMP_REQUIRE_SHARED();
  const std::string dir = small_lmp("lmp-codes");
  rewrite(dir, [](Tensors& t, Meta& m) {
    std::vector<uint8_t> q(64 * 64, 0x38);
    q[64 + 9] = 0xFF;
    replace_codes(t, m, kQ, q);
    std::vector<uint8_t> u(160 * 64, 3);
    u[2 * 64 + 1] = 16;
    replace_codes(t, m, kUp, u);
  });
  EXPECT_EQ(load_error(dir, kQ), "checkpoint " + dir + ": model.safetensors: " + kQ +
                                     ".codes: code 0xff at [1, 9] is NaN (lmp fp8_e4m3 codes are finite)");
  EXPECT_EQ(load_error(dir, kUp), "checkpoint " + dir + ": model.safetensors: " + kUp +
                                      ".codes: code 16 at [2, 1], expected < 16 (4-bit int codes)");
  const std::string d2 = small_lmp("lmp-nan");
  rewrite(d2, [](Tensors& t, Meta&) { tensor(t, kUp + ".scales").f32()[5] = NAN; });
  EXPECT_EQ(load_error(d2, kUp).rfind("checkpoint " + d2 + ": model.safetensors: " + kUp +
                                           ".scales: element 5 is nan, expected a finite value", 0),
            0u);
}

TEST(LmpCheckpoint, TruncatedFileFailsCleanly) {
  LMP_REQUIRE_SHARED();
  const std::string dir = small_lmp("lmp-trunc");
  const std::string bytes = test::read_file(dir + "/model.safetensors");
  test::write_file(dir + "/model.safetensors", bytes.substr(0, bytes.size() / 2));
  const std::string e = open_error(dir);
  EXPECT_NE(e.find(dir + "/model.safetensors"), std::string::npos) << e;
}
