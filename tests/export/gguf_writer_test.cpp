// GGUF export: a file lmpress did not write (stories260K.gguf) reproduced byte for byte; compress →
// GGUF → reload gives the compressed weights at the file's precision (Q4_0 from 4-bit symmetric g32
// codes: exactly; Q6_K and the Q4_K_M mix: the reference quantizers' values); the Q4_K_M policy; the
// converted tokenizer.json vocabulary tokenizes like the original; bad flags and shapes the k-quants
// cannot hold (k-quant round trips with perplexity: roundtrip_ppl_test.cpp).
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <map>
#include <random>
#include <set>

#include "compress/pipeline.h"
#include "core/error.h"
#include "export/gguf_writer.h"
#include "io/gguf.h"
#include "io/gguf_quantize_k.h"
#include "io/gguf_test_writer.h"
#include "test_util.h"

using namespace lmp;
namespace fs = std::filesystem;

namespace {

// lm-s compressed with RTN (no calibration), exported as GGUF `type`; the compressed weights by name.
std::map<std::string, Tensor> compress_to_gguf(const std::string& out, const std::string& type, int64_t group,
                                               bool sym, GgufWriter::Stats* stats, int bits = 4) {
  Model m = Model::open(test::shared_path("models/lm-s"));
  GgufWriter w(m.checkpoint(), out, type, true);
  PipelineOptions po;
  po.spec.method = "rtn";
  po.spec.bits = bits;
  po.spec.group = group;
  po.spec.sym = sym;
  po.spec.scales_f16 = true;
  std::map<std::string, Tensor> weights;
  compress_model(m, {1}, 1, 1, po, [&](const CompressedBlock& b) {
    for (const auto& [leaf, cl] : b.linears) weights[names::layer(b.index, leaf + ".weight")] = cl.weight;
    w.add_block(b);
  });
  w.finish();
  *stats = w.stats();
  return weights;
}

}  // namespace

TEST(GgufExport, Stories260KAsF32ReproducesEveryTensorByteForByte) {
  LMP_REQUIRE_SHARED();
  const std::string src = test::shared_path("models/stories260K/stories260K.gguf");
  const std::string out = test::temp_dir("gguf-stories") + "/out.gguf";
  const Checkpoint ck = Checkpoint::open(src);
  GgufWriter w(ck, out, "f32", false);
  for (int64_t b = 0; b < ck.config().num_layers; ++b) w.add_block(CompressedBlock{b, {}});  // uncompressed
  w.finish();
  const GgufFile a = read_gguf(src), b = read_gguf(out);
  ASSERT_EQ(a.tensors.size(), b.tensors.size());
  std::map<std::string, const GgufTensor*> by_name;
  for (const GgufTensor& t : b.tensors) by_name[t.name] = &t;
  for (const GgufTensor& t : a.tensors) {
    ASSERT_TRUE(by_name.count(t.name)) << t.name;
    const GgufTensor& u = *by_name[t.name];
    ASSERT_EQ(t.type, 0u) << t.name << ": the reference file holds F32 tensors";
    EXPECT_EQ(u.type, t.type) << t.name;
    EXPECT_EQ(u.ne, t.ne) << t.name;
    ASSERT_EQ(u.nbytes, t.nbytes) << t.name;
    EXPECT_EQ(std::memcmp(a.file->data() + t.offset, b.file->data() + u.offset, t.nbytes), 0) << t.name;
  }
  // Hyperparameters and the vocabulary survive.
  const Checkpoint back = Checkpoint::open(out);
  EXPECT_EQ(back.config().num_heads, ck.config().num_heads);
  EXPECT_EQ(back.config().num_kv_heads, ck.config().num_kv_heads);
  EXPECT_EQ(back.config().intermediate_size, ck.config().intermediate_size);
  EXPECT_EQ(back.tokenizer_source().spm.pieces, ck.tokenizer_source().spm.pieces);
  EXPECT_EQ(back.tokenizer_source().spm.scores, ck.tokenizer_source().spm.scores);
}

TEST(GgufExport, Q4_0FromSymmetricG32CodesReloadsExactly) {
  LMP_REQUIRE_SHARED();
  const std::string out = test::temp_dir("gguf-q4") + "/m.gguf";
  GgufWriter::Stats st;
  const auto weights = compress_to_gguf(out, "q4_0", 32, true, &st);
  EXPECT_EQ(st.from_codes, int64_t(weights.size()));
  EXPECT_EQ(st.requantized, 0);
  const Checkpoint back = Checkpoint::open(out);
  EXPECT_EQ(back.info("model.layers.0.self_attn.q_proj.weight").dtype, DType::Q4_0);
  EXPECT_EQ(back.info("model.norm.weight").dtype, DType::F32);
  for (const auto& [name, w] : weights) {
    const Tensor r = back.load_f32(name);
    ASSERT_EQ(r.shape(), w.shape()) << name;
    EXPECT_EQ(std::memcmp(r.f32(), w.f32(), size_t(w.numel()) * 4), 0) << name;
  }
}

TEST(GgufExport, Q8_0FromSymmetricG32EightBitCodesReloadsExactly) {
  LMP_REQUIRE_SHARED();
  const std::string out = test::temp_dir("gguf-q8") + "/m.gguf";
  GgufWriter::Stats st;
  const auto weights = compress_to_gguf(out, "q8_0", 32, true, &st, 8);
  EXPECT_EQ(st.from_codes, int64_t(weights.size()));
  const Checkpoint back = Checkpoint::open(out);
  EXPECT_EQ(back.info("model.layers.0.mlp.down_proj.weight").dtype, DType::Q8_0);
  for (const auto& [name, w] : weights) {
    const Tensor r = back.load_f32(name);
    EXPECT_EQ(std::memcmp(r.f32(), w.f32(), size_t(w.numel()) * 4), 0) << name;
  }
}

TEST(GgufExport, F16ReloadsTheF16RoundedWeightsAndTokenizesLikeTheInput) {
  LMP_REQUIRE_SHARED();
  const std::string out = test::temp_dir("gguf-f16") + "/m.gguf";
  GgufWriter::Stats st;
  const auto weights = compress_to_gguf(out, "f16", 128, false, &st);
  const Checkpoint back = Checkpoint::open(out);
  for (const auto& [name, w] : weights) {
    const Tensor r = back.load_f32(name);
    for (int64_t i = 0; i < w.numel(); ++i)
      ASSERT_EQ(r.f32()[i], f16_to_f32(f32_to_f16(w.f32()[i]))) << name << " [" << i << "]";
  }
  const Model in = Model::open(test::shared_path("models/lm-s")), g = Model::open(out);
  const std::string text = "Once upon a time, a little fox said: \"Hello, world!\" 123 naïve café\n  two spaces";
  EXPECT_EQ(g.tokenizer().encode(text, true), in.tokenizer().encode(text, true));
}

TEST(GgufExport, ExistingOutputNeedsForceAndTheTypeMustBeKnown) {
  LMP_REQUIRE_SHARED();
  const std::string out = test::temp_dir("gguf-exists") + "/m.gguf";
  test::write_file(out, "x");
  const Checkpoint ck = Checkpoint::open(test::shared_path("models/stories260K/stories260K.gguf"));
  try {
    GgufWriter w(ck, out, "f16", false);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "export gguf: output '" + out + "' exists (use --force to replace it)");
  }
  try {
    GgufWriter w(ck, out, "q5_k", true);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()),
              "export gguf: --gguf-type must be f32, f16, q8_0, q4_0, q4_k, q6_k or q4_k_m, found 'q5_k'");
  }
  EXPECT_EQ(test::read_file(out), "x");  // untouched
}

TEST(GgufExport, CliRefusesAnUnknownTypeBeforeWork) {
  LMP_REQUIRE_SHARED();
  const std::string out = test::temp_dir("gguf-cli") + "/m.gguf";
  const auto r = test::run_cli("compress " + test::shared_path("models/stories260K/stories260K.gguf") + " -o " + out +
                               " --method rtn --format gguf --gguf-type q2_k");
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("--gguf-type must be f32, f16, q8_0, q4_0, q4_k, q6_k or q4_k_m, found 'q2_k'"), std::string::npos)
      << r.err;
  EXPECT_FALSE(fs::exists(out));
}

// Q4_K and Q6_K blocks hold 256 weights: lm-s's down_proj (input 704) cannot be written so; it is
// written as Q8_0, and the export says so.
TEST(GgufExport, KQuantsFallBackToQ8_0ForInputsNotAMultipleOf256) {
  LMP_REQUIRE_SHARED();
  // lm-s: hidden 256 (q/k/v/o/gate/up fit a k-quant), intermediate 704 = 2.75 x 256 (down_proj does not).
  const std::string model = test::shared_path("models/lm-s");
  for (const auto& [type, name, dtype] : {std::tuple{"q4_k", "Q4_K", DType::Q4_K}, {"q6_k", "Q6_K", DType::Q6_K}}) {
    const std::string out = test::temp_dir(std::string("gguf-k-shape-") + type) + "/m.gguf";
    const auto r = test::run_cli("compress " + model + " -o " + out + " --method rtn --format gguf --gguf-type " + type +
                                 " --quiet");
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.err.find(std::string("export gguf: 6 linears have an input size that is not a multiple of 256 (one ") +
                         name + " block); written as Q8_0"),
              std::string::npos)
        << r.err;
    const Checkpoint back = Checkpoint::open(out);
    for (int64_t b = 0; b < back.config().num_layers; ++b) {
      const std::string p = "model.layers." + std::to_string(b) + ".";
      EXPECT_EQ(back.info(p + "mlp.down_proj.weight").dtype, DType::Q8_0) << type << " " << b;
      EXPECT_EQ(back.info(p + "mlp.up_proj.weight").dtype, dtype) << type << " " << b;
      EXPECT_EQ(back.info(p + "self_attn.q_proj.weight").dtype, dtype) << type << " " << b;
    }
    EXPECT_EQ(back.info("model.embed_tokens.weight").dtype, DType::F16) << type;
  }
}

namespace {

// The layers whose v_proj and down_proj llama.cpp's Q4_K_M raises to Q6_K (use_more_bits(i, n): i < n/8,
// i >= 7n/8, or (i - n/8) % 3 == 2), written out by hand.
const std::map<int64_t, std::set<int64_t>> kMoreBits = {
    {1, {0}},
    {2, {1}},
    {6, {2, 5}},
    {8, {0, 3, 6, 7}},
    {12, {0, 3, 6, 9, 10, 11}},
    {32, {0, 1, 2, 3, 6, 9, 12, 15, 18, 21, 24, 27, 28, 29, 30, 31}},  // LLaMA-7B: half of them
};

// A random LLaMA of `layers` blocks in GGUF (F32): hidden 256 (4 heads, 2 KV heads), ffn 256, vocab 8.
std::string random_llama_gguf(const std::string& dir, uint32_t layers) {
  test::GgufWriter g;
  test::llama_header(g, 256, 256, 4, 2, layers);
  std::mt19937 rng(layers);
  std::normal_distribution<float> normal(0.0f, 0.02f);
  auto t = [&](const std::string& name, std::vector<uint64_t> ne) {
    std::vector<float> v(ne.size() == 1 ? ne[0] : ne[0] * ne[1]);
    for (float& x : v) x = normal(rng);
    g.tensor_f32(name, std::move(ne), v);
  };
  t("token_embd.weight", {256, 8});
  for (uint32_t b = 0; b < layers; ++b) {
    const std::string p = "blk." + std::to_string(b) + ".";
    t(p + "attn_norm.weight", {256});
    t(p + "attn_q.weight", {256, 256});
    t(p + "attn_k.weight", {256, 128});
    t(p + "attn_v.weight", {256, 128});
    t(p + "attn_output.weight", {256, 256});
    t(p + "ffn_norm.weight", {256});
    t(p + "ffn_gate.weight", {256, 256});
    t(p + "ffn_up.weight", {256, 256});
    t(p + "ffn_down.weight", {256, 256});
  }
  t("output_norm.weight", {256});
  t("output.weight", {256, 8});
  const std::string path = dir + "/in.gguf";
  test::write_file(path, g.build());
  return path;
}

// `in` exported as GGUF `type` with every linear uncompressed (written from the input's values).
void export_uncompressed(const Checkpoint& in, const std::string& out, const std::string& type) {
  GgufWriter w(in, out, type, true);
  for (int64_t b = 0; b < in.config().num_layers; ++b) w.add_block(CompressedBlock{b, {}});
  w.finish();
}

// Every block linear of `out` reads back bit for bit as the reference quantizer of its stored type
// (Q4_K or Q6_K) gives the input's rows.
void expect_k_quants_of_the_input(const Checkpoint& in, const Checkpoint& out) {
  for (int64_t b = 0; b < in.config().num_layers; ++b)
    for (const std::string& leaf : names::block_linears()) {
      const std::string name = names::layer(b, leaf + ".weight");
      const Tensor x = in.load_f32(name), y = out.load_f32(name);
      const DType t = out.info(name).dtype;
      ASSERT_TRUE(t == DType::Q4_K || t == DType::Q6_K) << name;
      const int64_t n = x.dim(1);
      std::vector<float> want(static_cast<size_t>(n));
      std::vector<BlockQ4_K> q4(size_t(n) / 256);
      std::vector<BlockQ6_K> q6(size_t(n) / 256);
      for (int64_t r = 0; r < x.dim(0); ++r) {
        if (t == DType::Q4_K) {
          quantize_q4_k(x.f32() + r * n, q4.data(), size_t(n));
          dequantize_q4_k(q4.data(), want.data(), size_t(n));
        } else {
          quantize_q6_k(x.f32() + r * n, q6.data(), size_t(n));
          dequantize_q6_k(q6.data(), want.data(), size_t(n));
        }
        ASSERT_EQ(std::memcmp(y.f32() + r * n, want.data(), size_t(n) * 4), 0) << name << " row " << r;
      }
    }
}

}  // namespace

TEST(GgufExport, Q4_KMTypeFollowsLlamaCppUseMoreBits) {
  for (const auto& [n, raised] : kMoreBits)
    for (int64_t i = 0; i < n; ++i)
      for (const std::string& leaf : names::block_linears()) {
        const bool v_or_down = leaf == "self_attn.v_proj" || leaf == "mlp.down_proj";
        const GgmlType want = v_or_down && raised.count(i) ? GgmlType::Q6_K : GgmlType::Q4_K;
        EXPECT_EQ(q4_k_m_type(names::layer(i, leaf + ".weight"), n), want) << leaf << " of layer " << i << " of " << n;
      }
  EXPECT_EQ(q4_k_m_type(names::lm_head(), 8), GgmlType::Q4_K);
}

// q4_k_m on 12 layers: the file holds Q6_K exactly for attn_v and ffn_down of layers 0, 3, 6, 9, 10, 11,
// Q4_K for every other linear, F16 matrices and F32 norms, file type 15; every linear reads back as its
// type's reference quantization of the input.
TEST(GgufExport, Q4_KMRaisesVAndDownOfTheUseMoreBitsLayers) {
  const std::string dir = test::temp_dir("gguf-q4km");
  const Checkpoint in = Checkpoint::open(random_llama_gguf(dir, 12));
  export_uncompressed(in, dir + "/out.gguf", "q4_k_m");
  const GgufFile g = read_gguf(dir + "/out.gguf");
  EXPECT_EQ(g.find("general.file_type")->u, 15u);  // LLAMA_FTYPE_MOSTLY_Q4_K_M
  std::set<std::string> q6;
  for (const GgufTensor& t : g.tensors) {
    if (t.ne.size() == 1 || t.name.rfind("blk.", 0) != 0) {
      EXPECT_EQ(t.type, t.ne.size() == 1 ? 0u : 1u) << t.name;
      continue;
    }
    EXPECT_TRUE(t.type == 12 || t.type == 14) << t.name << ": type " << t.type;
    if (t.type == 14) q6.insert(t.name);
  }
  std::set<std::string> want;
  for (int64_t i : kMoreBits.at(12))
    for (const char* leaf : {".attn_v.weight", ".ffn_down.weight"}) want.insert("blk." + std::to_string(i) + leaf);
  EXPECT_EQ(q6, want);
  expect_k_quants_of_the_input(in, Checkpoint::open(dir + "/out.gguf"));
}

// q6_k: every linear Q6_K, file type 18, read back bit for bit as the reference quantizer's values.
TEST(GgufExport, Q6_KReadsBackAsTheReferenceQuantization) {
  const std::string dir = test::temp_dir("gguf-q6k");
  const Checkpoint in = Checkpoint::open(random_llama_gguf(dir, 2));
  export_uncompressed(in, dir + "/out.gguf", "q6_k");
  const Checkpoint out = Checkpoint::open(dir + "/out.gguf");
  EXPECT_EQ(read_gguf(dir + "/out.gguf").find("general.file_type")->u, 18u);  // LLAMA_FTYPE_MOSTLY_Q6_K
  for (int64_t b = 0; b < 2; ++b)
    for (const std::string& leaf : names::block_linears())
      EXPECT_EQ(out.info(names::layer(b, leaf + ".weight")).dtype, DType::Q6_K) << leaf;
  EXPECT_EQ(out.info(names::lm_head()).dtype, DType::F16);
  EXPECT_EQ(out.info(names::final_norm()).dtype, DType::F32);
  expect_k_quants_of_the_input(in, out);
}

// On lm-m (8 layers, intermediate 1408, not a multiple of 256): v_proj of layers 0, 3, 6, 7 Q6_K, every
// down_proj Q8_0 with the note, the rest Q4_K.
TEST(GgufExport, Q4_KMOnLmM) {
  LMP_REQUIRE_SHARED();
  const std::string out = test::temp_dir("gguf-q4km-lm-m") + "/m.gguf";
  const auto r = test::run_cli("compress " + test::shared_path("models/lm-m") + " -o " + out +
                               " --method rtn --ignore '.*' --format gguf --gguf-type q4_k_m --quiet");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("export gguf: 8 linears have an input size that is not a multiple of 256 (one Q4_K block); "
                       "written as Q8_0"),
            std::string::npos)
      << r.err;
  const Checkpoint back = Checkpoint::open(out);
  ASSERT_EQ(back.config().num_layers, 8);
  for (int64_t b = 0; b < 8; ++b)
    for (const std::string& leaf : names::block_linears()) {
      const DType want = leaf == "mlp.down_proj"                                  ? DType::Q8_0
                         : leaf == "self_attn.v_proj" && kMoreBits.at(8).count(b) ? DType::Q6_K
                                                                                  : DType::Q4_K;
      EXPECT_EQ(back.info(names::layer(b, leaf + ".weight")).dtype, want) << leaf << " of layer " << b;
    }
}
