// Block records (see block_record.h).
#include "compress/block_record.h"

#include <cstring>
#include <nlohmann/json.hpp>

#include "compress/quant/quant_grid.h"
#include "core/error.h"
#include "io/lmp_dequant.h"
#include "io/safetensors.h"

namespace lmp {

namespace {

using Kind = CompressedLinear::Kind;
constexpr const char* kTensorPrefix = "tensor:";

Kind kind_of(const std::string& s, const std::string& where) {
  for (Kind k : {Kind::Dense, Kind::Quantized, Kind::Codebook, Kind::Sparse, Kind::Fp8, Kind::LowRank})
    if (s == kind_name(k)) return k;
  fail(where, ": unknown kind '", s, "'");
}

Tensor vector_tensor(DType t, const void* data, size_t n) {
  Tensor v = Tensor::zeros(t, {int64_t(n)});
  if (n) std::memcpy(v.mutable_data(), data, v.nbytes());
  return v;
}

LmpRecord dequant_record(LmpCodes codes, int64_t out, int64_t in) {
  LmpRecord r;
  r.codes = codes;
  r.out = out;
  r.in = in;
  return r;
}

// The dense weight the representation of `c` stands for, with the methods' own float operations; empty
// for the kinds that have none (dense, sparse).
Tensor rebuild_weight(const CompressedLinear& c, int64_t out, int64_t in) {
  if (c.kind == Kind::Quantized && c.quant) return dequantize_grid(*c.quant);
  if (!c.codebook && !c.fp8 && !c.lowrank) return Tensor();
  Tensor w = Tensor::zeros(DType::F32, {out, in});
  if (c.kind == Kind::Codebook && c.codebook) {
    LmpRecord r = dequant_record(LmpCodes::Nf4, out, in);
    r.block = c.codebook->block;
    LmpGrid g;
    g.codes = static_cast<const uint8_t*>(c.codebook->codes.data());
    g.scales = c.codebook->absmax.f32();
    g.codebook = c.codebook->codebook.data();
    lmp_dequantize(r, g, w.f32());
    return w;
  }
  if (c.kind == Kind::Fp8 && c.fp8) {
    LmpGrid g;
    g.codes = static_cast<const uint8_t*>(c.fp8->codes.data());
    g.scales = c.fp8->scales.f32();
    lmp_dequantize(dequant_record(LmpCodes::Fp8E4m3, out, in), g, w.f32());
    return w;
  }
  if (c.kind == Kind::LowRank && c.lowrank) {
    lmp_lowrank_product(c.lowrank->a.f32(), c.lowrank->b.f32(), out, c.lowrank->rank(), in, w.f32());
    return w;
  }
  return Tensor();
}

// Whether the weight must be stored: the grids are rebuilt and compared in full; a low-rank product
// (costly: out·in·rank) on its first and last rows.
bool weight_rebuilds(const CompressedLinear& c) {
  const Tensor& w = c.weight;
  if (w.empty()) return false;
  const int64_t out = w.dim(0), in = w.dim(1);
  if (c.kind == Kind::LowRank && c.lowrank) {
    const int64_t k = c.lowrank->rank();
    std::vector<float> row(static_cast<size_t>(in));
    for (int64_t r : {int64_t(0), out - 1}) {
      lmp_lowrank_product(c.lowrank->a.f32() + r * k, c.lowrank->b.f32(), 1, k, in, row.data());
      if (std::memcmp(row.data(), w.f32() + r * in, row.size() * sizeof(float)) != 0) return false;
    }
    return true;
  }
  const Tensor rebuilt = rebuild_weight(c, out, in);
  return !rebuilt.empty() && std::memcmp(rebuilt.data(), w.data(), w.nbytes()) == 0;
}

struct Parts {
  std::vector<std::pair<std::string, Tensor>> tensors;
  void put(const std::string& leaf, const char* part, const Tensor& t) {
    tensors.emplace_back(leaf + "." + part, t);
  }
};

nlohmann::json write_linear(const std::string& leaf, const CompressedLinear& c, Parts& p) {
  nlohmann::json j = {{"kind", kind_name(c.kind)}, {"shape", c.weight.shape()}};
  if (c.quant) {
    const QuantGrid& q = *c.quant;
    j["quant"] = {{"bits", q.bits}, {"group", q.group}, {"sym", q.sym}};
    p.put(leaf, "quant.codes", q.codes);
    p.put(leaf, "quant.scales", q.scales);
    p.put(leaf, "quant.zeros", q.zeros);
    p.put(leaf, "quant.g_idx", vector_tensor(DType::I32, q.g_idx.data(), q.g_idx.size()));
  }
  if (c.codebook) {
    const CodebookGrid& q = *c.codebook;
    j["codebook"] = {{"block", q.block}, {"double_quant", q.double_quant}, {"absmax_offset", q.absmax_offset},
                     {"absmax_block", q.absmax_block}};
    p.put(leaf, "codebook.values", vector_tensor(DType::F32, q.codebook.data(), q.codebook.size()));
    p.put(leaf, "codebook.codes", q.codes);
    p.put(leaf, "codebook.absmax", q.absmax);
    if (q.double_quant) {
      p.put(leaf, "codebook.absmax_map", vector_tensor(DType::F32, q.absmax_map.data(), q.absmax_map.size()));
      p.put(leaf, "codebook.absmax_codes", q.absmax_codes);
      p.put(leaf, "codebook.absmax_scales", q.absmax_scales);
    }
  }
  if (c.fp8) {
    j["fp8"] = {{"lambda", c.fp8->lambda}, {"optimizer", c.fp8->optimizer}, {"fallback", c.fp8->fallback}};
    p.put(leaf, "fp8.codes", c.fp8->codes);
    p.put(leaf, "fp8.scales", c.fp8->scales);
  }
  if (c.lowrank) {
    p.put(leaf, "lowrank.a", c.lowrank->a);
    p.put(leaf, "lowrank.b", c.lowrank->b);
  }
  if (!c.mask.empty()) p.put(leaf, "mask", c.mask);
  const bool rebuilt = weight_rebuilds(c);
  j["weight"] = rebuilt ? "rebuilt" : c.weight.empty() ? "none" : "stored";
  if (!rebuilt && !c.weight.empty()) p.put(leaf, "weight", c.weight);
  return j;
}

// Reads the parts of one linear from a mapped record.
class LinearReader {
 public:
  LinearReader(const SafetensorsFile& f, std::string where, std::string leaf)
      : f_(f), where_(std::move(where)), leaf_(std::move(leaf)) {}

  // The part as a view, checked for its dtype and element count (`numel` < 0: any).
  Tensor part(const std::string& name, DType dtype, int64_t numel) const {
    const std::string full = leaf_ + "." + name;
    LMP_CHECK(f_.find(full), where_, ": ", leaf_, ": missing tensor ", full);
    Tensor t = f_.tensor(full);
    LMP_CHECK(t.dtype() == dtype, where_, ": ", full, ": dtype ", dtype_name(t.dtype()), ", expected ",
              dtype_name(dtype));
    LMP_CHECK(numel < 0 || t.numel() == numel, where_, ": ", full, ": ", t.numel(), " elements, expected ", numel);
    return t;
  }
  template <typename T>
  std::vector<T> vec(const std::string& name, DType dtype, int64_t numel) const {
    const Tensor t = part(name, dtype, numel);
    const T* p = static_cast<const T*>(t.data());
    return std::vector<T>(p, p + t.numel());
  }
  template <typename T>
  T field(const nlohmann::json& j, const char* key) const {
    LMP_CHECK(j.is_object() && j.contains(key), where_, ": ", leaf_, ": the record has no field '", key, "'");
    try {
      return j.at(key).get<T>();
    } catch (const nlohmann::json::exception&) {
      fail(where_, ": ", leaf_, ": field '", key, "' has the wrong type: ", j.at(key).dump());
    }
  }
  const std::string& where() const { return where_; }

 private:
  const SafetensorsFile& f_;
  std::string where_, leaf_;
};

CompressedLinear read_linear(const LinearReader& r, const nlohmann::json& j) {
  CompressedLinear c;
  c.kind = kind_of(r.field<std::string>(j, "kind"), r.where());
  const std::vector<int64_t> shape = r.field<std::vector<int64_t>>(j, "shape");
  LMP_CHECK(shape.size() == 2 && shape[0] > 0 && shape[1] > 0, r.where(), ": shape must be [out, in], found ",
            j.at("shape").dump());
  const int64_t out = shape[0], in = shape[1], n = out * in;
  if (j.contains("quant")) {
    const nlohmann::json& q = j.at("quant");
    QuantGrid g;
    g.bits = r.field<int>(q, "bits");
    g.group = r.field<int64_t>(q, "group");
    g.sym = r.field<bool>(q, "sym");
    g.codes = r.part("quant.codes", DType::U8, n);
    g.scales = r.part("quant.scales", DType::F32, out * n_groups_for(in, g.group));
    g.zeros = r.part("quant.zeros", DType::F32, g.scales.numel());
    g.g_idx = r.vec<int32_t>("quant.g_idx", DType::I32, in);
    c.quant = std::move(g);
  }
  if (j.contains("codebook")) {
    const nlohmann::json& q = j.at("codebook");
    CodebookGrid g;
    g.block = r.field<int64_t>(q, "block");
    LMP_CHECK(g.block > 0, r.where(), ": codebook.block must be > 0, found ", g.block);
    g.double_quant = r.field<bool>(q, "double_quant");
    g.absmax_offset = r.field<float>(q, "absmax_offset");
    g.absmax_block = r.field<int64_t>(q, "absmax_block");
    g.codebook = r.vec<float>("codebook.values", DType::F32, -1);
    g.codes = r.part("codebook.codes", DType::U8, n);
    g.absmax = r.part("codebook.absmax", DType::F32, (n + g.block - 1) / g.block);
    if (g.double_quant) {
      g.absmax_map = r.vec<float>("codebook.absmax_map", DType::F32, 256);
      g.absmax_codes = r.part("codebook.absmax_codes", DType::U8, g.absmax.numel());
      g.absmax_scales = r.part("codebook.absmax_scales", DType::F32, -1);
    }
    c.codebook = std::move(g);
  }
  if (j.contains("fp8")) {
    const nlohmann::json& q = j.at("fp8");
    Fp8Grid g;
    g.lambda = r.field<double>(q, "lambda");
    g.optimizer = r.field<std::string>(q, "optimizer");
    g.fallback = r.field<bool>(q, "fallback");
    g.codes = r.part("fp8.codes", DType::U8, n);
    g.scales = r.part("fp8.scales", DType::F32, out);
    c.fp8 = std::move(g);
  }
  if (c.kind == Kind::LowRank) {
    LowRankFactors f;
    f.a = r.part("lowrank.a", DType::F32, -1);
    LMP_CHECK(f.a.ndim() == 2 && f.a.dim(0) == out, r.where(), ": lowrank.a must be [", out, ", rank]");
    f.b = r.part("lowrank.b", DType::F32, f.a.dim(1) * in);
    c.lowrank = std::move(f);
  }
  if (j.contains("mask") && j.at("mask").get<bool>()) c.mask = r.part("mask", DType::U8, n);
  const std::string weight = r.field<std::string>(j, "weight");
  if (weight == "stored") c.weight = r.part("weight", DType::F32, n).reshaped({out, in});
  else if (weight == "rebuilt") c.weight = rebuild_weight(c, out, in);
  else LMP_CHECK(weight == "none", r.where(), ": weight must be stored, rebuilt or none, found '", weight, "'");
  LMP_CHECK(weight != "rebuilt" || !c.weight.empty(), r.where(), ": the weight of a ", kind_name(c.kind),
            " linear cannot be rebuilt from its parts");
  return c;
}

}  // namespace

void write_block_record(const std::string& path, const CompressedBlock& block) {
  Parts parts;
  nlohmann::json linears = nlohmann::json::object();
  for (const auto& [leaf, c] : block.linears) {
    linears[leaf] = write_linear(leaf, c, parts);
    linears[leaf]["mask"] = !c.mask.empty();
  }
  for (const auto& [name, t] : block.tensors) parts.tensors.emplace_back(kTensorPrefix + name, t);
  write_safetensors(path, parts.tensors,
                    {{"lmpress_block_record", "1"}, {"block", std::to_string(block.index)}, {"linears", linears.dump()}});
}

CompressedBlock read_block_record(const std::string& path) {
  const SafetensorsFile f = read_safetensors(path);
  const auto meta = [&](const char* key) -> const std::string& {
    const auto it = f.metadata.find(key);
    LMP_CHECK(it != f.metadata.end(), path, ": __metadata__ has no '", key, "': not an lmpress block record");
    return it->second;
  };
  LMP_CHECK(meta("lmpress_block_record") == "1", path, ": block record version ", meta("lmpress_block_record"),
            ", expected 1");
  CompressedBlock b;
  try {
    b.index = std::stoll(meta("block"));
  } catch (const std::exception&) {
    fail(path, ": __metadata__ block is not an integer: '", meta("block"), "'");
  }
  nlohmann::json linears;
  try {
    linears = nlohmann::json::parse(meta("linears"));
  } catch (const nlohmann::json::exception& e) {
    fail(path, ": __metadata__ linears is not JSON: ", e.what());
  }
  LMP_CHECK(linears.is_object(), path, ": __metadata__ linears must be an object");
  for (const auto& [leaf, j] : linears.items()) b.linears.emplace(leaf, read_linear(LinearReader(f, path, leaf), j));
  const std::string prefix = kTensorPrefix;
  for (const SafetensorsEntry& e : f.entries)
    if (e.name.rfind(prefix, 0) == 0) b.tensors.emplace(e.name.substr(prefix.size()), f.tensor(e.name));
  return b;
}

}  // namespace lmp
