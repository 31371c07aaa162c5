// GGUF export: a file lmpress did not write (stories260K.gguf) reproduced byte for byte; compress →
// GGUF → reload gives the compressed weights at the file's precision (Q4_0 from 4-bit symmetric g32
// codes: exactly); the converted tokenizer.json vocabulary tokenizes like the original; bad flags and
// shapes Q4_K cannot hold (Q4_K round trips: roundtrip_ppl_test.cpp).
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <map>

#include "compress/pipeline.h"
#include "core/error.h"
#include "export/gguf_writer.h"
#include "io/gguf.h"
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
    EXPECT_EQ(std::string(e.what()), "export gguf: --gguf-type must be f32, f16, q8_0, q4_0 or q4_k, found 'q5_k'");
  }
  EXPECT_EQ(test::read_file(out), "x");  // untouched
}

TEST(GgufExport, CliRefusesAnUnknownTypeBeforeWork) {
  LMP_REQUIRE_SHARED();
  const std::string out = test::temp_dir("gguf-cli") + "/m.gguf";
  const auto r = test::run_cli("compress " + test::shared_path("models/stories260K/stories260K.gguf") + " -o " + out +
                               " --method rtn --format gguf --gguf-type q2_k");
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("--gguf-type must be f32, f16, q8_0, q4_0 or q4_k, found 'q2_k'"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(out));
}

// Q4_K blocks hold 256 weights: lm-s's down_proj (input 704) cannot be written, and the export says so
// before any work, naming the linear, its shape and the types that fit.
TEST(GgufExport, Q4_KFallsBackToQ8_0ForInputsNotAMultipleOf256) {
  LMP_REQUIRE_SHARED();
  // lm-s: hidden 256 (q/k/v/o/gate/up fit Q4_K), intermediate 704 = 2.75 x 256 (down_proj does not).
  const std::string model = test::shared_path("models/lm-s"), out = test::temp_dir("gguf-q4k-shape") + "/m.gguf";
  const auto r = test::run_cli("compress " + model + " -o " + out + " --method rtn --format gguf --gguf-type q4_k --quiet");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("export gguf: 6 linears have an input size that is not a multiple of 256 (one Q4_K block); "
                       "written as Q8_0"),
            std::string::npos)
      << r.err;
  const Checkpoint back = Checkpoint::open(out);
  for (int64_t b = 0; b < back.config().num_layers; ++b) {
    const std::string p = "model.layers." + std::to_string(b) + ".";
    EXPECT_EQ(back.info(p + "mlp.down_proj.weight").dtype, DType::Q8_0) << b;
    EXPECT_EQ(back.info(p + "mlp.up_proj.weight").dtype, DType::Q4_K) << b;
    EXPECT_EQ(back.info(p + "self_attn.q_proj.weight").dtype, DType::Q4_K) << b;
  }
  EXPECT_EQ(back.info("model.embed_tokens.weight").dtype, DType::F16);
}
