// Corrupted lmp checkpoints (io/lmp_checkpoint.h) must open and load cleanly or fail with lmp::Error:
// never crash, never read outside a stream, never throw anything else. The checkpoint is built here
// with io-level code only (records, rANS streams, the safetensors writer) — tiny-mistral with FP8, int
// (default and permuted g_idx) and NF4 linears — then its header, its streams and its config are
// corrupted, and every tensor is loaded. Built under ASan/UBSan.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>
#include <numeric>
#include <random>

#include "codec/rans.h"
#include "core/fp8.h"
#include "io/checkpoint.h"
#include "io/corruption.h"
#include "io/lmp_record.h"
#include "io/safetensors.h"
#include "test_util.h"

namespace lmp {
namespace {

using Tensors = std::vector<std::pair<std::string, Tensor>>;
using Meta = std::map<std::string, std::string>;

Tensor u8(const std::vector<uint8_t>& v) {
  Tensor t = Tensor::zeros(DType::U8, {int64_t(v.size())});
  std::memcpy(t.mutable_data(), v.data(), v.size());
  return t;
}

LmpRecord record(LmpCodes codes, int64_t out, int64_t in, const char* method) {
  LmpRecord r;
  r.codes = codes;
  r.out = out;
  r.in = in;
  r.method = method;
  return r;
}

// Adds X's stream to `t` and its record to `meta`.
void add_coded(Tensors& t, Meta& meta, const std::string& x, LmpRecord r, const std::vector<uint8_t>& codes) {
  RansOptions o;
  o.chunk_symbols = 2048;  // several chunks per linear
  const std::vector<uint8_t> s = rans_encode(codes, o);
  r.chunk_symbols = o.chunk_symbols;
  r.stream_bytes = s.size();
  t.emplace_back(x + ".codes", u8(s));
  meta[kLmpRecordPrefix + x] = r.to_json().dump();
}

void add_fp8(Tensors& t, Meta& meta, const std::string& x, const Tensor& w) {
  LmpRecord r = record(LmpCodes::Fp8E4m3, w.dim(0), w.dim(1), "entquant");
  r.optimizer = "absmax";
  std::vector<uint8_t> q(size_t(w.numel()));
  Tensor scales = Tensor::zeros(DType::F32, {r.out});
  for (int64_t i = 0; i < r.out; ++i) {
    float a = 0;
    for (int64_t j = 0; j < r.in; ++j) a = std::max(a, std::fabs(w.f32()[i * r.in + j]));
    scales.f32()[i] = std::ldexp(1.0f, a > 0 ? int(std::ceil(std::log2(a / 448.0f))) : 0);
    for (int64_t j = 0; j < r.in; ++j) q[size_t(i * r.in + j)] = fp8_e4m3_encode(w.f32()[i * r.in + j] / scales.f32()[i]);
  }
  add_coded(t, meta, x, r, q);
  t.emplace_back(x + ".scales", scales);
}

Tensor random_f32(Shape s, std::mt19937& rng, float lo, float hi) {
  Tensor t = Tensor::zeros(DType::F32, std::move(s));
  std::uniform_real_distribution<float> d(lo, hi);
  for (int64_t i = 0; i < t.numel(); ++i) t.f32()[i] = d(rng);
  return t;
}

std::vector<uint8_t> random_codes(int64_t n, int bits, std::mt19937& rng) {
  std::vector<uint8_t> q(static_cast<size_t>(n));
  std::binomial_distribution<int> d((1 << bits) - 1, 0.5);  // peaked, as real codes are
  for (auto& c : q) c = uint8_t(d(rng));
  return q;
}

void add_int(Tensors& t, Meta& meta, const std::string& x, const Shape& s, bool permuted, std::mt19937& rng) {
  LmpRecord r = record(LmpCodes::Int, s[0], s[1], "gptq");
  r.bits = 4;
  r.group = 32;
  add_coded(t, meta, x, r, random_codes(r.numel(), 4, rng));
  t.emplace_back(x + ".scales", random_f32({r.out, r.n_groups()}, rng, 0.001f, 0.1f));
  Tensor zeros = random_f32({r.out, r.n_groups()}, rng, 0, 15);
  for (int64_t i = 0; i < zeros.numel(); ++i) zeros.f32()[i] = std::nearbyint(zeros.f32()[i]);
  t.emplace_back(x + ".zeros", zeros);
  if (!permuted) return;
  std::vector<int32_t> g(size_t(r.in));
  for (int64_t j = 0; j < r.in; ++j) g[size_t(j)] = int32_t(j / r.group);
  std::shuffle(g.begin(), g.end(), rng);
  Tensor gi = Tensor::zeros(DType::I32, {r.in});
  std::memcpy(gi.mutable_data(), g.data(), g.size() * 4);
  t.emplace_back(x + ".g_idx", gi);
}

void add_nf4(Tensors& t, Meta& meta, const std::string& x, const Shape& s, std::mt19937& rng) {
  LmpRecord r = record(LmpCodes::Nf4, s[0], s[1], "nf4");
  r.bits = 4;
  r.block = 64;
  add_coded(t, meta, x, r, random_codes(r.numel(), 4, rng));
  t.emplace_back(x + ".scales", random_f32({r.n_blocks()}, rng, 0.01f, 0.2f));
  Tensor book = Tensor::zeros(DType::F32, {16});
  for (int k = 0; k < 16; ++k) book.f32()[k] = float(k - 7) / 8.0f;
  t.emplace_back(x + ".codebook", book);
}

void add_lowrank(Tensors& t, Meta& meta, const std::string& x, const Shape& s, std::mt19937& rng) {
  LmpRecord r = record(LmpCodes::LowRank, s[0], s[1], "aa-svd");
  r.rank = 8;
  meta[kLmpRecordPrefix + x] = r.to_json().dump();
  t.emplace_back(x + ".a", random_f32({r.out, r.rank}, rng, -0.1f, 0.1f));
  t.emplace_back(x + ".b", random_f32({r.rank, r.in}, rng, -0.1f, 0.1f));
}

// tiny-mistral as an lmp checkpoint in `dir`.
void write_lmp(const std::string& dir) {
  const std::string src = test::shared_path("models/tiny-mistral");
  auto cfg = nlohmann::json::parse(test::read_file(src + "/config.json"));
  cfg["quantization_config"] = {{"quant_method", "lmpress"}, {"format", "lmp"}, {"format_version", kLmpVersion}};
  test::write_file(dir + "/config.json", cfg.dump(2));
  const SafetensorsFile st = read_safetensors(src + "/model.safetensors");
  std::mt19937 rng(11);
  Tensors t;
  Meta meta = {{"format", "lmp"}, {"lmp_version", std::to_string(kLmpVersion)}};
  for (const SafetensorsEntry& e : st.entries) {
    const std::string& n = e.name;
    auto has = [&](const char* leaf) { return n.find(leaf) != std::string::npos; };
    if (has("q_proj") || has("k_proj") || has("v_proj")) add_fp8(t, meta, n, st.tensor(n).to_f32());
    else if (has("o_proj") || has("gate_proj")) add_int(t, meta, n, e.shape, has("o_proj"), rng);
    else if (has("up_proj") && has("layers.0.")) add_lowrank(t, meta, n, e.shape, rng);
    else if (has("up_proj")) add_int(t, meta, n, e.shape, false, rng);
    else if (has("down_proj")) add_nf4(t, meta, n, e.shape, rng);
    else t.emplace_back(n, st.tensor(n));
  }
  std::stable_sort(t.begin(), t.end(), [](const auto& a, const auto& b) {  // aligned, as LmpWriter writes
    return dtype_block_bytes(a.second.dtype()) > dtype_block_bytes(b.second.dtype());
  });
  write_safetensors(dir + "/model.safetensors", t, meta);
}

void open_and_load_all(const std::string& dir) {
  const Checkpoint ck = Checkpoint::open(dir);
  for (const auto& name : ck.tensor_names()) {
    if (ck.packing(name).empty()) ck.raw(name);
    ck.load_f32(name);
  }
  for (const auto& [k, v] : ck.metadata()) (void)v.size();
}

// The byte ranges of the rANS streams in the file.
std::vector<std::pair<size_t, size_t>> stream_ranges(const std::string& path) {
  std::vector<std::pair<size_t, size_t>> r;
  for (const SafetensorsEntry& e : read_safetensors(path).entries)
    if (e.name.size() > 6 && e.name.compare(e.name.size() - 6, 6, ".codes") == 0) r.emplace_back(e.offset, e.nbytes);
  return r;
}

TEST(FuzzLmp, ValidCheckpointLoads) {
  LMP_REQUIRE_SHARED();
  const std::string dir = test::temp_dir("fuzz-lmp-valid");
  write_lmp(dir);
  EXPECT_NO_THROW(open_and_load_all(dir));
  EXPECT_EQ(Checkpoint::open(dir).packing("model.layers.1.mlp.down_proj.weight"), "lmp nf4 b64");
  EXPECT_EQ(Checkpoint::open(dir).packing("model.layers.0.mlp.up_proj.weight"), "lmp lowrank");
}

TEST(FuzzLmp, CorruptedHeaderFailsCleanly) {
  LMP_REQUIRE_SHARED();
  const std::string dir = test::temp_dir("fuzz-lmp-header");
  write_lmp(dir);
  const std::string orig = test::read_file(dir + "/model.safetensors");
  uint64_t header_len = 0;
  std::memcpy(&header_len, orig.data(), 8);
  test::Corruptor c(20250101);
  test::Outcomes out;
  test::FileImage file(dir + "/model.safetensors");
  const int iterations = test::fuzz_iterations(1500);
  for (int i = 0; i < iterations; ++i) {
    file.set(c.corrupt(orig, 8 + header_len));
    out.run(i, [&] { open_and_load_all(dir); });
  }
  EXPECT_GT(out.errors, iterations / 2);
  EXPECT_GT(out.ok, 0);
}

// Corruptions inside one stream (its header, tables, states, words), the file's length unchanged.
TEST(FuzzLmp, CorruptedStreamsFailCleanly) {
  LMP_REQUIRE_SHARED();
  const std::string dir = test::temp_dir("fuzz-lmp-streams");
  write_lmp(dir);
  const std::string orig = test::read_file(dir + "/model.safetensors");
  const auto ranges = stream_ranges(dir + "/model.safetensors");
  ASSERT_EQ(ranges.size(), 13u);  // 14 linears, one of them lowrank (no stream)
  test::Corruptor c(77);
  test::Outcomes out;
  test::FileImage file(dir + "/model.safetensors");
  const int iterations = test::fuzz_iterations(1000);
  for (int i = 0; i < iterations; ++i) {
    const auto [at, n] = ranges[c.below(ranges.size())];
    std::string s = c.corrupt(orig.substr(at, n), c.below(2) ? 64 : n);  // mostly in the header and first table
    s.resize(n, '\0');
    std::string bytes = orig;
    bytes.replace(at, n, s);
    file.set(bytes);
    out.run(i, [&] { open_and_load_all(dir); });
  }
  EXPECT_GT(out.errors, iterations / 2);
}

TEST(FuzzLmp, CorruptedConfigFailsCleanly) {
  LMP_REQUIRE_SHARED();
  const std::string dir = test::temp_dir("fuzz-lmp-config");
  write_lmp(dir);
  const std::string orig = test::read_file(dir + "/config.json");
  const test::Outcomes out =
      test::fuzz_config_json(dir, orig, 5, test::fuzz_iterations(300), [&] { open_and_load_all(dir); });
  EXPECT_GT(out.errors, 0);
  EXPECT_GT(out.ok, 0);
}

}  // namespace
}  // namespace lmp
