// Every export of `lmpress compress` reloads: lm-s compressed in memory, written as HF (f32, bf16, f16),
// GPTQ (4-bit act-order GPTQ, 8-bit RTN) and GGUF (f16, q8_0, q4_0, q4_k, q6_k, q4_k_m), reopened with
// Model::open. The reloaded model holds exactly the in-memory weights at the export's precision — every
// linear, norm, embedding and lm_head bit for bit — and scores the same perplexity (relative 1e-4).
//
// "At the export's precision": the compressed linears are rounded in memory the way the export stores
// them (bf16 / f16; Q4_K / Q6_K: quantized and dequantized row by row by the reference code, for Q4_K_M
// with the type of each linear from q4_k_m_type; or not at all when the method's values are exactly
// representable: f32, GPTQ-packed, Q8_0 / Q4_0 blocks from codes).
// The k-quants need linear inputs that are multiples of 256, which lm-s's down_proj (704) is not: those
// cases run on lm-s with its MLP zero-padded to 768 (the same function: the padded units output 0). The tensors the pipeline does not compress are stored by some exports
// at a lower precision (GPTQ: f16; GGUF: f16 embeddings and lm_head, f32 norms), so those cases compress
// a copy of lm-s whose uncompressed tensors were rounded the same way beforehand; the export then
// stores them without loss and the in-memory model is the reference as it stands.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <tuple>
#include <utility>

#include "calib/calib_set.h"
#include "compress/pipeline.h"
#include "compress/quant/quant_grid.h"
#include "data/text_file.h"
#include "eval/perplexity.h"
#include "export/gguf_writer.h"
#include "export/gptq_writer.h"
#include "export/hf_writer.h"
#include "io/gguf.h"
#include "io/gguf_quant.h"
#include "io/gguf_quantize_k.h"
#include "io/safetensors.h"
#include "test_util.h"

using namespace lmp;
namespace fs = std::filesystem;

namespace {

enum class Round { None, BF16, F16, Q4K, Q6K, Q4KM };  // Q4KM: Q4K or Q6K per linear (q4_k_m_type)

struct ExportCase {
  std::string label, format, type;  // format hf | gptq | gguf; type: --dtype or --gguf-type
  MethodSpec spec;
  Round linears;                    // how the export stores the compressed linears' values
  Round matrices, norms;            // how it stores embeddings / lm_head, and norms
  bool head = false;                // --include-head: lm_head compressed and exported like the linears
  int64_t mlp = 0;                  // > 0: lm-s with its MLP zero-padded to this intermediate size
};

void PrintTo(const ExportCase& c, std::ostream* os) { *os << c.label; }

float round_to(Round r, float v) {
  if (r == Round::BF16) return bf16_to_f32(f32_to_bf16(v));
  if (r == Round::F16) return f16_to_f32(f32_to_f16(v));
  return v;
}

// Each row through a k-quant reference quantizer and back.
template <typename Block>
Tensor k_quant_rows(const Tensor& t, void (*quantize)(const float*, Block*, size_t),
                    void (*dequantize)(const void*, float*, size_t)) {
  const int64_t rows = t.dim(0), n = t.dim(1);
  Tensor out = Tensor::zeros(DType::F32, t.shape());
  std::vector<Block> blocks(size_t(n) / kSuperBlock);
  for (int64_t r = 0; r < rows; ++r) {
    quantize(std::as_const(t).f32() + r * n, blocks.data(), size_t(n));
    dequantize(blocks.data(), out.f32() + r * n, size_t(n));
  }
  return out;
}

Tensor rounded(const Tensor& t, Round r) {
  if (r == Round::Q4K) return k_quant_rows(t, quantize_q4_k, dequantize_q4_k);
  if (r == Round::Q6K) return k_quant_rows(t, quantize_q6_k, dequantize_q6_k);
  Tensor out = Tensor::zeros(DType::F32, t.shape());
  for (int64_t i = 0; i < t.numel(); ++i) out.f32()[i] = round_to(r, std::as_const(t).f32()[i]);
  return out;
}

// `t` [rows, cols] zero-padded to [rows', cols'].
Tensor padded(const Tensor& t, int64_t rows, int64_t cols) {
  Tensor out = Tensor::zeros(DType::F32, {rows, cols});
  for (int64_t r = 0; r < t.dim(0); ++r)
    std::memcpy(out.f32() + r * cols, std::as_const(t).f32() + r * t.dim(1), size_t(t.dim(1)) * 4);
  return out;
}

// An MLP tensor of an intermediate size padded to `mlp`: gate/up rows and down columns of zeros.
Tensor pad_mlp(const std::string& name, Tensor t, int64_t mlp) {
  if (name.find(".mlp.gate_proj.") != std::string::npos || name.find(".mlp.up_proj.") != std::string::npos)
    return padded(t, mlp, t.dim(1));
  if (name.find(".mlp.down_proj.") != std::string::npos) return padded(t, t.dim(0), mlp);
  return t;
}

void copy_config(const fs::path& from, const fs::path& to, int64_t mlp) {
  if (mlp == 0 || from.filename() != "config.json") {
    fs::copy_file(from, to);
    return;
  }
  nlohmann::json c = nlohmann::json::parse(std::ifstream(from));
  c["intermediate_size"] = mlp;
  std::ofstream(to) << c.dump(2);
}

bool is_block_linear(const std::string& name) {
  return name.find(".self_attn.") != std::string::npos || name.find(".mlp.") != std::string::npos;
}

// lm-s with its uncompressed tensors rounded (norms to `norms`, embeddings / lm_head to `matrices`) and
// its MLP padded to `mlp` (when > 0); lm-s itself when nothing changes. One copy per variant, kept for
// the test program's lifetime.
std::string input_for(Round matrices, Round norms, int64_t mlp = 0) {
  const std::string lm_s = test::shared_path("models/lm-s");
  if (matrices == Round::None && norms == Round::None && mlp == 0) return lm_s;
  static std::map<std::tuple<Round, Round, int64_t>, std::string> made;
  std::string& dir = made[{matrices, norms, mlp}];
  if (!dir.empty()) return dir;
  dir = test::temp_dir("rt-input-" + std::to_string(int(matrices)) + "-" + std::to_string(int(norms)) + "-" +
                       std::to_string(mlp));  // one folder per variant: temp_dir empties the folder it returns
  for (const auto& e : fs::directory_iterator(lm_s))
    if (e.path().extension() != ".safetensors" && e.path().filename() != "model.safetensors.index.json")
      copy_config(e.path(), fs::path(dir) / e.path().filename(), mlp);
  const Checkpoint ck = Checkpoint::open(lm_s);
  std::vector<std::pair<std::string, Tensor>> tensors;
  for (const std::string& name : ck.tensor_names()) {
    const Round r = is_block_linear(name) ? Round::None : ck.info(name).shape.size() == 1 ? norms : matrices;
    Tensor t = rounded(ck.load_f32(name), r);
    tensors.emplace_back(name, mlp > 0 ? pad_mlp(name, std::move(t), mlp) : std::move(t));
  }
  write_safetensors(dir + "/model.safetensors", tensors, {{"format", "pt"}});
  return dir;
}

// The calibration ids: the first 4 windows of the reference set (GPTQ's Hessians; RTN ignores them).
const CalibSet& calib() {
  static const CalibSet c = [] {
    CalibSet all = read_calib_set(test::shared_path("reference/calib_128x512.safetensors"), 32000);
    all.n = 4;
    all.input_ids.resize(size_t(all.n * all.seq));
    return all;
  }();
  return c;
}

// Compresses `m` in place, streaming each block to the export's writer; `on_block` sees each block too.
void compress_and_export(Model& m, const ExportCase& c, const std::string& out,
                         const std::function<void(const CompressedBlock&)>& on_block, GgufWriter::Stats* stats) {
  std::unique_ptr<HfWriter> hf;
  std::unique_ptr<GptqWriter> gptq;
  std::unique_ptr<GgufWriter> gguf;
  if (c.format == "hf") hf = std::make_unique<HfWriter>(m.checkpoint(), out, c.type, false, c.head);
  if (c.format == "gptq") gptq = std::make_unique<GptqWriter>(m.checkpoint(), out, c.spec, false, c.head);
  if (c.format == "gguf") gguf = std::make_unique<GgufWriter>(m.checkpoint(), out, c.type, false, c.head);
  PipelineOptions po;
  po.spec = c.spec;
  po.include_head = c.head;
  compress_model(
      m, calib().input_ids, calib().n, calib().seq, po,
      [&](const CompressedBlock& b) {
        on_block(b);
        hf ? hf->add_block(b) : gptq ? gptq->add_block(b) : gguf->add_block(b);
      },
      [&](const CompressedLinear& h) { hf ? hf->add_head(h) : gptq ? gptq->add_head(h) : gguf->add_head(h); });
  hf ? hf->finish() : gptq ? gptq->finish() : gguf->finish();
  if (gguf) *stats = gguf->stats();
}

// How the export stores linear `name`: Round::Q4KM as its Q4_K_M type, the others as they are.
Round linear_round(Round r, const std::string& name, int64_t n_layers) {
  if (r != Round::Q4KM) return r;
  return q4_k_m_type(name, n_layers) == GgmlType::Q6_K ? Round::Q6K : Round::Q4K;
}

// The in-memory compressed linears (and a compressed head) rounded as the export stores them.
void round_linears(Model& m, Round r, bool head) {
  if (r == Round::None) return;
  const int64_t L = m.config().num_layers;
  for (int64_t b = 0; b < L; ++b) {
    BlockWeights w = m.block(b);
    for (const std::string& leaf : names::block_linears())
      w.linear(leaf) = rounded(w.linear(leaf), linear_round(r, names::layer(b, leaf + ".weight"), L));
    m.set_block(b, std::move(w));
  }
  if (head) m.set_lm_head(rounded(m.lm_head(), linear_round(r, names::lm_head(), L)));
}

bool bit_equal(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && std::memcmp(a.data(), b.data(), a.nbytes()) == 0;
}

void expect_same_weights(const Model& mem, const Model& back) {
  for (const std::string& name : {names::embed(), names::final_norm()})
    EXPECT_TRUE(bit_equal(mem.checkpoint().load_f32(name), back.checkpoint().load_f32(name))) << name;
  EXPECT_TRUE(bit_equal(mem.lm_head(), back.lm_head())) << "lm_head";  // compressed in memory with --include-head
  for (int64_t b = 0; b < mem.config().num_layers; ++b) {
    const BlockWeights &x = mem.block(b), &y = back.block(b);
    EXPECT_TRUE(bit_equal(x.attn_norm, y.attn_norm)) << "block " << b;
    EXPECT_TRUE(bit_equal(x.ffn_norm, y.ffn_norm)) << "block " << b;
    for (const std::string& leaf : names::block_linears())
      EXPECT_TRUE(bit_equal(x.linear(leaf), y.linear(leaf))) << names::layer(b, leaf);
  }
}

// heldout_dev, 4 windows of 256 tokens, tokenized by the model's own tokenizer.
PerplexityResult ppl_of(const Model& m) {
  static const std::string text = load_eval_text(test::shared_path("data/corpus/heldout_dev.jsonl")).substr(0, 20000);
  PerplexityOptions o;
  o.ctx = 256;
  o.max_windows = 4;
  return evaluate_perplexity(m, m.tokenizer().encode(text, true), o);
}

MethodSpec method(const std::string& name, int bits, int64_t group, bool sym, bool f16_scales) {
  MethodSpec s;
  s.method = name;
  s.bits = bits;
  s.group = group;
  s.sym = sym;
  s.act_order = name == "gptq";
  s.scales_f16 = f16_scales;  // what `compress` sets for GPTQ and Q8_0 / Q4_0 exports
  return s;
}

std::vector<ExportCase> cases() {
  const MethodSpec rtn4 = method("rtn", 4, 128, false, false);
  return {
      {"hf_f32", "hf", "f32", rtn4, Round::None, Round::None, Round::None},
      {"hf_bf16", "hf", "bf16", rtn4, Round::BF16, Round::BF16, Round::BF16},
      {"hf_f16", "hf", "f16", rtn4, Round::F16, Round::F16, Round::F16},
      {"gptq_w4_act_order", "gptq", "", method("gptq", 4, 128, false, true), Round::None, Round::F16, Round::F16},
      {"gptq_w8_rtn_sym_per_row", "gptq", "", method("rtn", 8, -1, true, true), Round::None, Round::F16, Round::F16},
      {"gguf_f16", "gguf", "f16", rtn4, Round::F16, Round::F16, Round::None},
      {"gguf_q8_0", "gguf", "q8_0", method("rtn", 8, 32, true, true), Round::None, Round::F16, Round::None},
      {"gguf_q4_0", "gguf", "q4_0", method("rtn", 4, 32, true, true), Round::None, Round::F16, Round::None},
      {"hf_f32_gptq_head", "hf", "f32", method("gptq", 4, 128, false, false), Round::None, Round::None, Round::None, true},
      {"gptq_w4_head", "gptq", "", method("gptq", 4, 128, false, true), Round::None, Round::F16, Round::F16, true},
      {"gguf_q4_0_head", "gguf", "q4_0", method("rtn", 4, 32, true, true), Round::None, Round::F16, Round::None, true},
      {"gguf_q4_k", "gguf", "q4_k", rtn4, Round::Q4K, Round::F16, Round::None, false, 768},
      {"gguf_q4_k_gptq_head", "gguf", "q4_k", method("gptq", 4, 128, false, false), Round::Q4K, Round::F16, Round::None,
       true, 768},
      {"gguf_q6_k", "gguf", "q6_k", rtn4, Round::Q6K, Round::F16, Round::None, false, 768},
      {"gguf_q4_k_m_gptq_head", "gguf", "q4_k_m", method("gptq", 4, 128, false, false), Round::Q4KM, Round::F16,
       Round::None, true, 768},
  };
}

class ExportRoundTrip : public ::testing::TestWithParam<ExportCase> {};

}  // namespace

TEST_P(ExportRoundTrip, ReloadsTheSameWeightsAndPerplexity) {
  LMP_REQUIRE_SHARED();
  const ExportCase& c = GetParam();
  Model m = Model::open(input_for(c.matrices, c.norms, c.mlp));
  const std::string out = test::temp_dir("rt-" + c.label) + (c.format == "gguf" ? "/model.gguf" : "/model");
  bool permuted = false;
  GgufWriter::Stats stats;
  compress_and_export(m, c, out, [&](const CompressedBlock& b) {
    for (const auto& [leaf, cl] : b.linears) permuted |= cl.quant && g_idx_is_permuted(*cl.quant);
  }, &stats);
  round_linears(m, c.linears, c.head);
  const Model back = Model::open(out);
  expect_same_weights(m, back);
  const PerplexityResult a = ppl_of(m), b = ppl_of(back);
  EXPECT_EQ(b.scored_tokens, a.scored_tokens);
  EXPECT_EQ(a.scored_tokens, 4 * 255);
  EXPECT_NEAR(b.ppl, a.ppl, a.ppl * 1e-4) << c.label;
  std::printf("%s: in memory %.6f, reloaded %.6f\n", c.label.c_str(), a.ppl, b.ppl);
  if (c.spec.act_order) {
    EXPECT_TRUE(permuted) << "act-order should give a non-trivial g_idx";
  }
  if (c.format == "gptq") {
    EXPECT_EQ(back.checkpoint().packing("model.layers.0.mlp.down_proj.weight"),
              "gptq " + std::to_string(c.spec.bits) + "-bit");
  }
  if (c.head) {
    const Tensor original = Checkpoint::open(input_for(c.matrices, c.norms, c.mlp)).load_f32(names::lm_head());
    EXPECT_FALSE(bit_equal(original, m.lm_head())) << "the head should have been compressed";
  }
  if (c.type == "q8_0" || c.type == "q4_0") {  // blocks written from the codes, none re-quantized
    EXPECT_EQ(stats.from_codes, 7 * m.config().num_layers + (c.head ? 1 : 0));
    EXPECT_EQ(stats.requantized, 0);
  }
  if (c.type == "q4_k" || c.type == "q6_k" || c.type == "q4_k_m") {  // no grid is exactly a k-quant: all re-quantized
    EXPECT_EQ(stats.from_codes, 0);
    EXPECT_EQ(stats.requantized, 7 * m.config().num_layers + (c.head ? 1 : 0));
  }
  if (c.type == "q4_k_m") {  // lm-s, 6 layers: use_more_bits holds for layers 2 and 5
    EXPECT_EQ(back.checkpoint().info("model.layers.2.self_attn.v_proj.weight").dtype, DType::Q6_K);
    EXPECT_EQ(back.checkpoint().info("model.layers.5.mlp.down_proj.weight").dtype, DType::Q6_K);
    EXPECT_EQ(back.checkpoint().info("model.layers.4.mlp.down_proj.weight").dtype, DType::Q4_K);
  }
}

INSTANTIATE_TEST_SUITE_P(Exports, ExportRoundTrip, ::testing::ValuesIn(cases()),
                         [](const ::testing::TestParamInfo<ExportCase>& i) { return i.param.label; });

// `lmpress eval` on the first two ctx-256 windows of `text` (NaN after a failure it reports), and the
// options that score the same windows in memory.
double cli_eval_ppl(const std::string& model, const std::string& text) {
  const auto r = test::run_cli("eval " + model + " --text " + text + " --ctx 256 --max-windows 2 --json --quiet");
  EXPECT_EQ(r.code, 0) << r.err;
  return r.code == 0 ? nlohmann::json::parse(r.out).at("ppl").get<double>() : std::nan("");
}

PerplexityOptions two_windows() {
  PerplexityOptions o;
  o.ctx = 256;
  o.max_windows = 2;
  return o;
}

// The CLI end to end: `compress --format gptq` → `eval` and `inspect` read it.
TEST(ExportRoundTripCli, GptqExportEvaluatesAndInspects) {
  LMP_REQUIRE_SHARED();
  const std::string out = test::temp_dir("rt-cli") + "/model";
  const std::string text = test::shared_path("data/corpus/heldout_dev.jsonl");
  auto r = test::run_cli("compress " + test::shared_path("models/lm-s") + " -o " + out +
                         " --method rtn --bits 4 --group 64 --format gptq --quiet");
  ASSERT_EQ(r.code, 0) << r.err;
  const double ppl = cli_eval_ppl(out, text);
  const PerplexityOptions o = two_windows();
  const Model m = Model::open(out);
  EXPECT_NEAR(ppl, evaluate_perplexity(m, m.tokenizer().encode(load_eval_text(text), true), o).ppl, ppl * 1e-4);
  r = test::run_cli("inspect " + out + " --quiet");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("quantization  gptq 4-bit, group 64, asym (checkpoint_format gptq)"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("gptq 4-bit"), std::string::npos);
}

// The CLI end to end with a k-quant: `compress --format gguf --gguf-type TYPE` of the padded lm-s with
// every linear skipped (--ignore), so the file holds the k-quants of the input's own weights; `eval` of
// the file scores the perplexity of the input with those weights quantized and dequantized in memory,
// within `tol` of the unquantized model's; `inspect` and the GGUF metadata name the types: `block_type`
// gives the ggml type of each block linear, `params` the parameters by dtype, `file_type` the llama_ftype.
struct KQuantCli {
  std::string type, config_dtype;
  Round round;
  double tol;
  uint32_t file_type;
  std::function<uint32_t(const std::string& gguf_name)> block_type;
  std::map<std::string, int64_t> params;
};

void expect_cli_eval_of_dequantized(const KQuantCli& c) {
  const std::string in = input_for(Round::F16, Round::None, 768), out = test::temp_dir("rt-cli-" + c.type) + "/m.gguf";
  const std::string text = test::shared_path("data/corpus/heldout_dev.jsonl");
  auto r = test::run_cli("compress " + in + " -o " + out + " --method rtn --ignore '.*' --format gguf --gguf-type " +
                         c.type + " --quiet");
  ASSERT_EQ(r.code, 0) << r.err;
  const double ppl = cli_eval_ppl(out, text);
  const PerplexityOptions o = two_windows();
  const std::vector<int32_t> ids = Model::open(out).tokenizer().encode(load_eval_text(text), true);
  Model mem = Model::open(in);
  const double base = evaluate_perplexity(mem, ids, o).ppl;
  round_linears(mem, c.round, false);
  const double want = evaluate_perplexity(mem, ids, o).ppl;
  std::printf("%s: unquantized %.6f, in memory %.6f, lmpress eval %.6f\n", c.type.c_str(), base, want, ppl);
  EXPECT_NEAR(ppl, want, want * 1e-4);
  EXPECT_NE(want, base);
  EXPECT_LT(std::abs(ppl / base - 1.0), c.tol);
  r = test::run_cli("inspect " + out + " --json --quiet");
  ASSERT_EQ(r.code, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j.at("config").at("dtype"), c.config_dtype);
  for (const auto& [dtype, n] : c.params) EXPECT_EQ(j.at("parameters_by_dtype").at(dtype), n) << dtype;
  const GgufFile g = read_gguf(out);
  EXPECT_EQ(g.find("general.file_type")->u, c.file_type);
  EXPECT_EQ(g.find("general.quantization_version")->u, 2u);
  for (const GgufTensor& t : g.tensors)
    EXPECT_EQ(t.type, t.name.rfind("blk.", 0) == 0 && t.ne.size() == 2 ? c.block_type(t.name) : t.ne.size() == 1 ? 0u : 1u)
        << t.name;
}

// Parameters of the padded lm-s's linears: 6 blocks of q/o (256 x 256), k/v (128 x 256), gate/up/down (768 x 256).
constexpr int64_t kVParams = 128 * 256, kDownParams = 768 * 256, kLinearParams = 6 * (2 * 256 * 256 + 2 * kVParams + 3 * kDownParams);

TEST(ExportRoundTripCli, GgufQ4_KEvaluatesAsTheDequantizedWeights) {
  LMP_REQUIRE_SHARED();
  // LLAMA_FTYPE_MOSTLY_Q4_K_S
  expect_cli_eval_of_dequantized({"q4_k", "q4_k", Round::Q4K, 0.05, 14, [](const std::string&) { return 12u; },
                                  {{"Q4_K", kLinearParams}}});
}

TEST(ExportRoundTripCli, GgufQ6_KEvaluatesAsTheDequantizedWeights) {
  LMP_REQUIRE_SHARED();
  // LLAMA_FTYPE_MOSTLY_Q6_K
  expect_cli_eval_of_dequantized({"q6_k", "q6_k", Round::Q6K, 0.01, 18, [](const std::string&) { return 14u; },
                                  {{"Q6_K", kLinearParams}}});
}

// Q4_K_M on 6 layers: v_proj (attn_v) and down_proj (ffn_down) of layers 2 and 5 are Q6_K.
TEST(ExportRoundTripCli, GgufQ4_KMEvaluatesAsTheDequantizedWeights) {
  LMP_REQUIRE_SHARED();
  auto block_type = [](const std::string& name) {
    const bool raised = name == "blk.2.attn_v.weight" || name == "blk.2.ffn_down.weight" ||
                        name == "blk.5.attn_v.weight" || name == "blk.5.ffn_down.weight";
    return raised ? 14u : 12u;
  };
  const int64_t q6 = 2 * (kVParams + kDownParams);
  // LLAMA_FTYPE_MOSTLY_Q4_K_M; blk.0.attn_q is Q4_K
  expect_cli_eval_of_dequantized({"q4_k_m", "q4_k", Round::Q4KM, 0.05, 15, block_type,
                                  {{"Q4_K", kLinearParams - q6}, {"Q6_K", q6}}});
}

// A head tied to the embeddings (tiny-llama3): --include-head unties it in the export (config.json says
// so, the embeddings stay as they were); skipping lm_head by --ignore keeps the tie.
TEST(IncludeHead, TiedHeadIsUntiedOnlyWhenCompressed) {
  LMP_REQUIRE_SHARED();
  const std::string model = test::shared_path("models/tiny-llama3"), dir = test::temp_dir("head-tied");
  const Model base = Model::open(model);
  ASSERT_TRUE(base.config().tie_word_embeddings);
  for (const std::string format : {"hf", "gptq"}) {
    const std::string out = dir + "/" + format;
    auto r = test::run_cli("compress " + model + " -o " + out + " --method rtn --bits 4 --group 32 --include-head "
                           "--dtype f32 --format " + format + " --json --quiet");
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(nlohmann::json::parse(r.out).at("linears"), 7 * base.config().num_layers + 1) << format;
    const Model back = Model::open(out);
    EXPECT_FALSE(back.config().tie_word_embeddings) << format;
    EXPECT_FALSE(bit_equal(back.lm_head(), base.lm_head())) << format;
    if (format != "hf") continue;
    EXPECT_TRUE(bit_equal(back.checkpoint().load_f32(names::embed()), base.lm_head()));
    // The export runs as the in-memory model does: same embeddings, the compressed head beside them.
    Model mem = Model::open(model);
    for (int64_t b = 0; b < mem.config().num_layers; ++b) mem.set_block(b, back.block(b));
    mem.set_lm_head(back.lm_head());
    const std::vector<int32_t> ids = {1, 5, 9, 200, 17, 3};
    EXPECT_EQ(mem.forward(ids, BatchShape{1, 6, {}}), back.forward(ids, BatchShape{1, 6, {}}));
  }
  const std::string kept = dir + "/ignored";
  auto r = test::run_cli("compress " + model + " -o " + kept + " --method rtn --include-head --ignore lm_head --json --quiet");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out).at("linears"), 7 * base.config().num_layers);
  EXPECT_TRUE(Model::open(kept).config().tie_word_embeddings);
}
