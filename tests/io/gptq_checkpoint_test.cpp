// GPTQ checkpoints read back (io/gptq_checkpoint): tiny-mistral with every linear replaced by packed
// parts written here (random codes, zeros including 0, f16 scales, act-order g_idx) dequantizes to
// scale · (q − zero) bit for bit for 2/4/8 bits, group -1 / 32, desc_act, gptq and gptq_v2; hand-packed
// words give hand-computed weights; corrupt parts fail with one line naming the file and tensor.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <numeric>
#include <random>

#include "core/dtype.h"
#include "core/error.h"
#include "io/checkpoint.h"
#include "io/gptq_bits.h"
#include "io/safetensors.h"
#include "test_util.h"

namespace lmp {
namespace {

namespace fs = std::filesystem;

struct Layout {
  int bits = 4;
  int64_t group = 32;  // -1: one group per row
  bool desc_act = false, sym = false;
  std::string format = "gptq";
};

struct Packed {
  Tensor qweight, qzeros, scales, g_idx;
  std::vector<float> expected;  // [out, in]
};

std::vector<int32_t> group_index(int64_t in, const Layout& l, std::mt19937& rng) {
  std::vector<int32_t> g(size_t(in), 0);
  if (l.group <= 0) return g;
  std::vector<int64_t> order(static_cast<size_t>(in));
  std::iota(order.begin(), order.end(), 0);
  if (l.desc_act) std::shuffle(order.begin(), order.end(), rng);  // groups formed in permuted order
  for (int64_t j = 0; j < in; ++j) g[size_t(order[size_t(j)])] = int32_t(j / l.group);
  return g;
}

// Random codes, zeros (0 included) and f16 scales for a weight [out, in], packed, with the weight they mean.
Packed random_packed(int64_t out, int64_t in, const Layout& l, std::mt19937& rng) {
  const int64_t per = 32 / l.bits, ng = l.group > 0 ? (in + l.group - 1) / l.group : 1;
  std::uniform_int_distribution<uint32_t> code(0, (1u << l.bits) - 1);
  std::uniform_real_distribution<float> scale(0.001f, 0.1f);
  Packed p;
  p.qweight = Tensor::zeros(DType::I32, {in / per, out});
  p.qzeros = Tensor::zeros(DType::I32, {ng, out / per});
  p.scales = Tensor::zeros(DType::F16, {ng, out});
  p.g_idx = Tensor::zeros(DType::I32, {in});
  const std::vector<int32_t> g = group_index(in, l, rng);
  std::memcpy(p.g_idx.mutable_data(), g.data(), size_t(in) * 4);
  auto* qw = static_cast<int32_t*>(p.qweight.mutable_data());
  auto* qz = static_cast<int32_t*>(p.qzeros.mutable_data());
  auto* sc = static_cast<uint16_t*>(p.scales.mutable_data());
  std::vector<uint32_t> zero(size_t(ng * out));
  for (int64_t k = 0; k < ng; ++k)
    for (int64_t r = 0; r < out; ++r) {
      const uint32_t z = (k + r) % 5 == 0 ? 0 : code(rng);
      zero[size_t(k * out + r)] = z;
      sc[k * out + r] = f32_to_f16(scale(rng));
      gptq_put_zero_field(qz, l.bits, out, k, r, l.format == "gptq_v2" ? z : gptq_v1_field_of_zero(z, l.bits));
    }
  p.expected.resize(size_t(out * in));
  for (int64_t j = 0; j < in; ++j)
    for (int64_t r = 0; r < out; ++r) {
      const uint32_t q = code(rng);
      gptq_put_code(qw, l.bits, out, j, r, q);
      const int64_t k = g[size_t(j)];
      p.expected[size_t(r * in + j)] = f16_to_f32(sc[k * out + r]) * (float(q) - float(zero[size_t(k * out + r)]));
    }
  return p;
}

bool is_linear(const std::string& name) {
  for (const std::string& leaf : names::block_linears())
    if (name.ends_with("." + leaf + ".weight")) return true;
  return false;
}

nlohmann::json quant_config(const Layout& l) {
  return {{"quant_method", "gptq"}, {"bits", l.bits},      {"group_size", l.group},
          {"desc_act", l.desc_act}, {"sym", l.sym},        {"checkpoint_format", l.format}};
}

// tiny-mistral as a GPTQ checkpoint in a fresh dir; `make` packs one linear; returns the expected weights.
std::map<std::string, std::vector<float>> write_gptq_model(const std::string& dir, const nlohmann::json& qcfg,
                                                           const std::function<Packed(int64_t, int64_t)>& make) {
  const std::string src = test::shared_path("models/tiny-mistral");
  auto cfg = nlohmann::json::parse(test::read_file(src + "/config.json"));
  cfg["quantization_config"] = qcfg;
  test::write_file(dir + "/config.json", cfg.dump(2));
  const SafetensorsFile st = read_safetensors(src + "/model.safetensors");
  std::vector<std::pair<std::string, Tensor>> out;
  std::map<std::string, std::vector<float>> expected;
  for (const SafetensorsEntry& e : st.entries) {
    if (!is_linear(e.name)) {
      out.emplace_back(e.name, st.tensor(e.name));
      continue;
    }
    Packed p = make(e.shape[0], e.shape[1]);
    const std::string base = e.name.substr(0, e.name.size() - 7);
    out.emplace_back(base + ".qweight", p.qweight);
    out.emplace_back(base + ".qzeros", p.qzeros);
    out.emplace_back(base + ".scales", p.scales);
    out.emplace_back(base + ".g_idx", p.g_idx);
    expected[e.name] = std::move(p.expected);
  }
  write_safetensors(dir + "/model.safetensors", out, {{"format", "pt"}});
  return expected;
}

void expect_weights(const Checkpoint& ck, const std::map<std::string, std::vector<float>>& expected,
                    const std::string& label) {
  ASSERT_EQ(expected.size(), 14u) << label;
  for (const auto& [name, w] : expected) {
    const Tensor t = ck.load_f32(name);
    ASSERT_EQ(size_t(t.numel()), w.size()) << label << " " << name;
    EXPECT_EQ(std::memcmp(t.f32(), w.data(), w.size() * 4), 0) << label << " " << name;
  }
}

TEST(GptqCheckpoint, DequantizesEveryLayoutExactly) {
  LMP_REQUIRE_SHARED();
  std::mt19937 rng(7);
  for (int bits : {2, 4, 8})
    for (int64_t group : {int64_t(-1), int64_t(32)})
      for (bool desc_act : {false, true})
        for (const char* format : {"gptq", "gptq_v2"}) {
          if (group < 0 && desc_act) continue;
          const Layout l{bits, group, desc_act, bits == 8, format};
          const std::string label = std::to_string(bits) + "-bit g" + std::to_string(group) +
                                    (desc_act ? " desc_act " : " ") + format;
          const std::string dir = test::temp_dir("gptq-ck");
          const auto expected =
              write_gptq_model(dir, quant_config(l), [&](int64_t o, int64_t i) { return random_packed(o, i, l, rng); });
          const Checkpoint ck = Checkpoint::open(dir);
          expect_weights(ck, expected, label);
          const TensorInfo& info = ck.info("model.layers.1.mlp.down_proj.weight");
          EXPECT_EQ(info.shape, (Shape{64, 160})) << label;
          EXPECT_EQ(ck.packing("model.layers.1.mlp.down_proj.weight"), "gptq " + std::to_string(bits) + "-bit")
              << label;
          EXPECT_FALSE(ck.has("model.layers.1.mlp.down_proj.qweight")) << label;
          EXPECT_FALSE(ck.has("model.layers.1.mlp.down_proj.g_idx")) << label;
        }
}

// Every qweight word 0x76543210 (input j of each word: code j), every qzeros word 0xFFFFFFFF (field 15:
// zero 0 under checkpoint_format gptq's zero − 1, 15 under gptq_v2), every scale 0.5.
TEST(GptqCheckpoint, HandPackedWordsGiveHandComputedWeights) {
  LMP_REQUIRE_SHARED();
  for (const char* format : {"gptq", "gptq_v2"}) {
    const Layout l{4, -1, false, false, format};
    const std::string dir = test::temp_dir("gptq-hand");
    write_gptq_model(dir, quant_config(l), [](int64_t out, int64_t in) {
      Packed p;
      p.qweight = Tensor::zeros(DType::I32, {in / 8, out});
      p.qzeros = Tensor::zeros(DType::I32, {1, out / 8});
      p.scales = Tensor::zeros(DType::F16, {1, out});
      p.g_idx = Tensor::zeros(DType::I32, {in});
      for (int64_t i = 0; i < p.qweight.numel(); ++i) static_cast<uint32_t*>(p.qweight.mutable_data())[i] = 0x76543210u;
      for (int64_t i = 0; i < p.qzeros.numel(); ++i) static_cast<uint32_t*>(p.qzeros.mutable_data())[i] = 0xFFFFFFFFu;
      for (int64_t i = 0; i < out; ++i) static_cast<uint16_t*>(p.scales.mutable_data())[i] = 0x3800;  // 0.5
      return p;
    });
    const Checkpoint ck = Checkpoint::open(dir);
    const Tensor w = ck.load_f32("model.layers.0.self_attn.k_proj.weight");
    ASSERT_EQ(w.shape(), (Shape{16, 64}));
    const float zero = std::string(format) == "gptq" ? 0.0f : 15.0f;
    for (int64_t r = 0; r < 16; ++r)
      for (int64_t j = 0; j < 64; ++j) ASSERT_EQ(w.f32()[r * 64 + j], 0.5f * (float(j % 8) - zero)) << format;
  }
}

TEST(GptqCheckpoint, InspectMetadataAndRawAccess) {
  LMP_REQUIRE_SHARED();
  std::mt19937 rng(3);
  const Layout l{4, 32, true, false, "gptq"};
  const std::string dir = test::temp_dir("gptq-meta");
  write_gptq_model(dir, quant_config(l), [&](int64_t o, int64_t i) { return random_packed(o, i, l, rng); });
  const Checkpoint ck = Checkpoint::open(dir);
  EXPECT_EQ(ck.metadata().at("quantization"), "gptq 4-bit, group 32, desc_act, asym (checkpoint_format gptq)");
  const std::string name = "model.layers.0.mlp.up_proj.weight";
  EXPECT_EQ(ck.info(name).file_name, "model.layers.0.mlp.up_proj.qweight");
  EXPECT_EQ(test::error_of([&] { ck.raw(name); }),
            "checkpoint " + dir + ": " + name + ": stored packed (gptq 4-bit in model.layers.0.mlp.up_proj.qweight "
                                                "and its companions); only its f32 values can be loaded");
  EXPECT_EQ(ck.load_f32("model.norm.weight").numel(), 64);  // unpacked tensors as before
}

// A valid 4-bit g32 desc_act checkpoint, then `edit` applied to the tensors before writing.
using Edit = std::function<void(std::vector<std::pair<std::string, Tensor>>&)>;
std::string corrupt_model(const std::string& tag, const Edit& edit, nlohmann::json qcfg = {}) {
  LMP_CHECK(test::have_shared(), "shared/ missing");
  std::mt19937 rng(11);
  const Layout l{4, 32, true, false, "gptq"};
  const std::string dir = test::temp_dir(tag);
  write_gptq_model(dir, qcfg.is_null() ? quant_config(l) : qcfg,
                   [&](int64_t o, int64_t i) { return random_packed(o, i, l, rng); });
  const SafetensorsFile st = read_safetensors(dir + "/model.safetensors");
  std::vector<std::pair<std::string, Tensor>> tensors;  // owned copies: the file is rewritten below
  for (const SafetensorsEntry& e : st.entries) {
    Tensor copy = Tensor::zeros(e.dtype, e.shape);
    std::memcpy(copy.mutable_data(), st.tensor(e.name).data(), copy.nbytes());
    tensors.emplace_back(e.name, std::move(copy));
  }
  edit(tensors);
  write_safetensors(dir + "/model.safetensors", tensors, {{"format", "pt"}});
  return dir;
}

Tensor& tensor_named(std::vector<std::pair<std::string, Tensor>>& ts, const std::string& name) {
  for (auto& [n, t] : ts)
    if (n == name) return t;
  throw Error("test: no tensor " + name);
}

const std::string kDown = "model.layers.1.mlp.down_proj";  // [64, 160]: 5 groups of 32

TEST(GptqCheckpoint, MissingQzerosNamesFileAndTensor) {
  LMP_REQUIRE_SHARED();
  const std::string dir = corrupt_model("gptq-noqz", [](auto& ts) {
    std::erase_if(ts, [](const auto& p) { return p.first == kDown + ".qzeros"; });
  });
  EXPECT_EQ(test::error_of([&] { Checkpoint::open(dir); }),
            "checkpoint " + dir + ": model.safetensors: " + kDown + ".qweight: " + kDown +
                ".qzeros is missing (every GPTQ-packed linear has qweight, qzeros and scales)");
}

TEST(GptqCheckpoint, MisShapedQweightGivesExpectedAndFound) {
  LMP_REQUIRE_SHARED();
  const std::string dir = corrupt_model("gptq-qw", [](auto& ts) {
    tensor_named(ts, kDown + ".qweight") = Tensor::zeros(DType::I32, {19, 64});  // one row of words short
  });
  EXPECT_EQ(test::error_of([&] { Checkpoint::open(dir); }),
            "checkpoint " + dir + ": model.safetensors: " + kDown +
                ".qweight: expected shape [20, 64] (160 inputs in g_idx · 4 bits / 32), found [19, 64]");
}

TEST(GptqCheckpoint, TruncatedQweightWithoutGidxFailsOnTheConfigShape) {
  LMP_REQUIRE_SHARED();
  const std::string dir = corrupt_model(
      "gptq-qw2",
      [](auto& ts) {
        std::erase_if(ts, [](const auto& p) { return p.first.ends_with(".g_idx"); });
        tensor_named(ts, kDown + ".qweight") = Tensor::zeros(DType::I32, {19, 64});
      },
      quant_config(Layout{4, 32, false, false, "gptq"}));
  // 152 inputs now, still 5 groups: the parts agree, the config's shape does not.
  EXPECT_EQ(test::error_of([&] { Checkpoint::open(dir); }),
            "checkpoint " + dir + ": " + kDown + ".weight: expected shape [64, 160], found [64, 152] (gptq 4-bit: " +
                kDown + ".qweight in model.safetensors)");
}

TEST(GptqCheckpoint, QzerosAndScalesShapes) {
  LMP_REQUIRE_SHARED();
  std::string dir = corrupt_model("gptq-qz", [](auto& ts) {
    tensor_named(ts, kDown + ".qzeros") = Tensor::zeros(DType::I32, {5, 16});
  });
  EXPECT_EQ(test::error_of([&] { Checkpoint::open(dir); }),
            "checkpoint " + dir + ": model.safetensors: " + kDown +
                ".qzeros: expected shape [5, 8] (5 groups of 32 over 160 inputs, 64 outputs · 4 bits / 32), "
                "found [5, 16]");
  dir = corrupt_model("gptq-sc", [](auto& ts) {
    tensor_named(ts, kDown + ".scales") = Tensor::zeros(DType::F16, {4, 64});
  });
  EXPECT_EQ(test::error_of([&] { Checkpoint::open(dir); }),
            "checkpoint " + dir + ": model.safetensors: " + kDown +
                ".scales: expected shape [5, 64] (5 groups of 32 over 160 inputs, 64 outputs), found [4, 64]");
}

TEST(GptqCheckpoint, GidxOutOfRange) {
  LMP_REQUIRE_SHARED();
  const std::string dir = corrupt_model("gptq-gidx", [](auto& ts) {
    static_cast<int32_t*>(tensor_named(ts, kDown + ".g_idx").mutable_data())[17] = 5;
  });
  EXPECT_EQ(test::error_of([&] { Checkpoint::open(dir); }),
            "checkpoint " + dir + ": model.safetensors: " + kDown + ".g_idx: g_idx[17] = 5, expected [0, 5)");
}

TEST(GptqCheckpoint, DtypesAndOrphans) {
  LMP_REQUIRE_SHARED();
  std::string dir = corrupt_model("gptq-dt", [](auto& ts) {
    tensor_named(ts, kDown + ".g_idx") = Tensor::zeros(DType::I64, {160});
  });
  EXPECT_EQ(test::error_of([&] { Checkpoint::open(dir); }),
            "checkpoint " + dir + ": model.safetensors: " + kDown + ".g_idx: expected dtype I32, found I64");
  dir = corrupt_model("gptq-orphan", [](auto& ts) {
    std::erase_if(ts, [](const auto& p) { return p.first == kDown + ".qweight"; });
  });
  EXPECT_EQ(test::error_of([&] { Checkpoint::open(dir); }),
            "checkpoint " + dir + ": model.safetensors: " + kDown + ".g_idx: found without " + kDown +
                ".qweight (a GPTQ-packed linear stores qweight, qzeros, scales and g_idx)");
}

TEST(GptqCheckpoint, ConfigErrors) {
  LMP_REQUIRE_SHARED();
  auto q = quant_config(Layout{4, 32, true, false, "gptq"});
  q["bits"] = 3;
  std::string dir = corrupt_model("gptq-bits", [](auto&) {}, q);
  EXPECT_EQ(test::error_of([&] { Checkpoint::open(dir); }),
            "config " + dir + "/config.json: quantization_config.bits: expected 2, 4 or 8, found 3 (3-bit GPTQ packs "
                              "values across int32 words and is not supported)");
  q = quant_config(Layout{4, 32, true, false, "gptq"});
  q["quant_method"] = "awq";
  dir = corrupt_model("gptq-awq", [](auto&) {}, q);
  EXPECT_EQ(test::error_of([&] { Checkpoint::open(dir); }),
            "config " + dir + "/config.json: quantization_config.quant_method: \"awq\" checkpoints are not supported "
                              "(expected gptq)");
  q = quant_config(Layout{4, 32, true, false, "gptq"});
  q["checkpoint_format"] = "marlin";
  dir = corrupt_model("gptq-fmt", [](auto&) {}, q);
  EXPECT_EQ(test::error_of([&] { Checkpoint::open(dir); }),
            "config " + dir + "/config.json: quantization_config.checkpoint_format: expected gptq or gptq_v2, found "
                              "\"marlin\"");
  q = quant_config(Layout{4, 32, false, false, "gptq"});
  dir = corrupt_model("gptq-nocfg", [](auto&) {}, q);
  auto cfg = nlohmann::json::parse(test::read_file(dir + "/config.json"));
  cfg.erase("quantization_config");
  test::write_file(dir + "/config.json", cfg.dump());
  EXPECT_EQ(test::error_of([&] { Checkpoint::open(dir); }),
            "checkpoint " + dir + ": model.layers.0.mlp.down_proj.qweight: a packed tensor, but config.json has no "
                                  "quantization_config (expected quant_method gptq)");
  // AutoGPTQ folders from before transformers' field keep it in quantize_config.json.
  test::write_file(dir + "/quantize_config.json", q.dump());
  EXPECT_EQ(Checkpoint::open(dir).metadata().at("quantization"), "gptq 4-bit, group 32, asym (checkpoint_format gptq)");
}

// Random damage to the packed parts (shapes, dtypes, g_idx entries, missing parts, random words) opens
// and loads cleanly or fails with lmp::Error — never another exception, never a read out of bounds.
TEST(GptqCheckpoint, RandomlyDamagedPartsFailCleanly) {
  LMP_REQUIRE_SHARED();
  std::mt19937 rng(2024);
  const char* parts[] = {".qweight", ".qzeros", ".scales", ".g_idx"};
  const DType dtypes[] = {DType::I32, DType::F16, DType::I64, DType::U8, DType::F32};
  const int32_t values[] = {-1, 5, 6, INT32_MAX, INT32_MIN, 0};
  int failed = 0, loaded = 0;
  for (int it = 0; it < 60; ++it) {
    const std::string name = "model.layers." + std::to_string(rng() % 2) + "." +
                             names::block_linears()[rng() % 7] + parts[rng() % 4];
    const uint32_t kind = rng() % 5;
    const std::string dir = corrupt_model("gptq-fuzz", [&](auto& ts) {
      Tensor& t = tensor_named(ts, name);
      Shape s = t.shape();
      if (kind == 0) {  // another shape, same dtype
        s[rng() % s.size()] += int64_t(rng() % 3) - 1;
        if (rng() % 4 == 0) s.push_back(1);
        t = Tensor::zeros(t.dtype(), s);
      } else if (kind == 1) {  // another dtype
        t = Tensor::zeros(dtypes[rng() % 5], s);
      } else if (kind == 2 && t.dtype() == DType::I32) {  // an entry of any value
        static_cast<int32_t*>(t.mutable_data())[rng() % uint64_t(t.numel())] = values[rng() % 6];
      } else if (kind == 3) {
        std::erase_if(ts, [&](const auto& p) { return p.first == name; });
      } else if (t.dtype() == DType::I32 && name.find(".g_idx") == std::string::npos) {  // random words
        for (int64_t i = 0; i < t.numel(); ++i) static_cast<uint32_t*>(t.mutable_data())[i] = uint32_t(rng());
      }
    });
    try {
      const Checkpoint ck = Checkpoint::open(dir);
      for (const std::string& n : ck.tensor_names()) ck.load_f32(n);
      ++loaded;
    } catch (const Error&) {
      ++failed;
    }
  }
  EXPECT_GT(failed, 10);
  EXPECT_GT(loaded, 3);
}

}  // namespace
}  // namespace lmp
