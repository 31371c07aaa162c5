// lmp-coded linears as derived f32 tensors (see lmp_checkpoint.h). At open: the records are parsed and
// every part checked against its record (dtypes, shapes, the stream's header, g_idx); in load_f32(): the
// stream is decoded, the codes and parameters checked, and the weights dequantized, one linear at a time.
#include "io/lmp_checkpoint.h"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <sstream>
#include <vector>

#include "codec/rans.h"
#include "core/dtype.h"
#include "core/error.h"
#include "io/lmp_dequant.h"
#include "io/lmp_record.h"
#include "io/printable.h"

namespace lmp {

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

// For messages: "checkpoint DIR: model.safetensors: NAME".
std::string where(const std::string& dir, const std::string& name) {
  return "checkpoint " + dir + ": model.safetensors: " + printable(name);
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string fixed(double v, const char* fmt) {
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, v);
  return buf;
}

std::string hex_byte(uint8_t b) {
  static const char* hex = "0123456789abcdef";
  return std::string("0x") + hex[b >> 4] + hex[b & 15];
}

// "fp8 λ=14.5", "int3 g128", "nf4 b64": for packing() and the description.
std::string codes_label(const LmpRecord& r) {
  switch (r.codes) {
    case LmpCodes::Fp8E4m3: return "fp8 λ=" + fixed(r.lambda, "%g") + (r.fallback ? " fallback" : "");
    case LmpCodes::Int:
      return "int" + std::to_string(r.bits) + (r.group > 0 ? " g" + std::to_string(r.group) : " per-row");
    case LmpCodes::Nf4: return "nf4 b" + std::to_string(r.block) + (r.double_quant ? " dq" : "");
    case LmpCodes::LowRank: return "lowrank";
  }
  return "?";
}

// The stored parts of one coded linear; `data == nullptr` for a part it does not have.
struct Parts {
  TensorEntry codes, scales, zeros, g_idx, codebook, a, b;
  void release_pages() const {
    for (const TensorEntry* e : {&codes, &scales, &zeros, &g_idx, &codebook, &a, &b}) e->release_pages();
  }
  uint64_t bytes() const {
    return codes.info.nbytes + scales.info.nbytes + zeros.info.nbytes + g_idx.info.nbytes + codebook.info.nbytes +
           a.info.nbytes + b.info.nbytes;
  }
};

class LmpLinear final : public DerivedTensor {
 public:
  LmpLinear(LmpRecord r, std::string dir, std::string name, Parts p, std::vector<int32_t> g_idx)
      : rec_(std::move(r)), dir_(std::move(dir)), name_(std::move(name)), parts_(std::move(p)),
        g_idx_(std::move(g_idx)) {}
  Tensor load_f32(Tensor reuse) const override;
  bool load_factors(Tensor& a, Tensor& b) const override;
  // "lmp int3 g128": one label per kind of coding, so that inspect's per-dtype counts group them (the
  // bytes of one linear are its info().nbytes).
  std::string packing() const override { return "lmp " + codes_label(rec_); }

 private:
  std::vector<uint8_t> decode_codes() const;
  std::vector<float> floats(const TensorEntry& e) const;

  LmpRecord rec_;
  std::string dir_, name_;
  Parts parts_;
  std::vector<int32_t> g_idx_;  // empty: j / group
};

std::vector<uint8_t> LmpLinear::decode_codes() const {
  std::vector<uint8_t> q(size_t(rec_.numel()));
  const std::string part = lmp_part_name(name_, "codes");
  rans_decode(std::span(parts_.codes.data, parts_.codes.info.nbytes), q, where(dir_, part));
  const int64_t bad = lmp_first_bad_code(rec_, q.data());
  if (bad < 0) return q;
  const int64_t r = bad / rec_.in, j = bad % rec_.in;
  if (rec_.codes == LmpCodes::Fp8E4m3)
    fail(where(dir_, part), ": code ", hex_byte(q[size_t(bad)]), " at [", r, ", ", j,
         "] is NaN (lmp fp8_e4m3 codes are finite)");
  fail(where(dir_, part), ": code ", int(q[size_t(bad)]), " at [", r, ", ", j, "], expected < ", 1 << rec_.bits,
       " (", rec_.bits, "-bit ", lmp_codes_name(rec_.codes), " codes)");
}

// The values of an F32 or BF16 part as f32 (copied: the mapping gives no alignment guarantee), every one
// finite.
std::vector<float> LmpLinear::floats(const TensorEntry& e) const {
  std::vector<float> v(size_t(shape_numel(e.info.shape)));
  if (!v.empty()) convert_to_f32(e.info.dtype, e.data, v.data(), v.size());
  for (size_t i = 0; i < v.size(); ++i)
    LMP_CHECK(std::isfinite(v[i]), where(dir_, e.info.name), ": element ", i, " is ", v[i], ", expected a finite value");
  return v;
}

bool LmpLinear::load_factors(Tensor& a, Tensor& b) const {
  if (rec_.codes != LmpCodes::LowRank) return false;
  a = Tensor::from_f32({rec_.out, rec_.rank}, floats(parts_.a));
  b = Tensor::from_f32({rec_.rank, rec_.in}, floats(parts_.b));
  parts_.release_pages();
  return true;
}

Tensor LmpLinear::load_f32(Tensor /*reuse*/) const {
  Tensor w = Tensor::zeros(DType::F32, {rec_.out, rec_.in});  // zeros: not every code kind writes every value
  if (rec_.codes == LmpCodes::LowRank) {
    const std::vector<float> a = floats(parts_.a), b = floats(parts_.b);
    lmp_lowrank_product(a.data(), b.data(), rec_.out, rec_.rank, rec_.in, w.f32());
    parts_.release_pages();
    return w;
  }
  const std::vector<uint8_t> q = decode_codes();
  const std::vector<float> scales = floats(parts_.scales);
  const std::vector<float> zeros = parts_.zeros.data ? floats(parts_.zeros) : std::vector<float>{};
  const std::vector<float> book = parts_.codebook.data ? floats(parts_.codebook) : std::vector<float>{};
  LmpGrid g;
  g.codes = q.data();
  g.scales = scales.data();
  g.zeros = zeros.data();
  g.g_idx = g_idx_.empty() ? nullptr : g_idx_.data();
  g.codebook = book.data();
  lmp_dequantize(rec_, g, w.f32());
  parts_.release_pages();
  return w;
}

// ---- open: records and parts ----

void check_version(const std::map<std::string, std::string>& meta, const std::string& dir) {
  const auto fmt = meta.find("format");
  LMP_CHECK(fmt != meta.end() && fmt->second == "lmp", "checkpoint ", dir, ": model.safetensors: __metadata__ format is ",
            fmt == meta.end() ? "missing" : "\"" + printable(fmt->second, 40) + "\"",
            ", expected \"lmp\" (config.json declares quant_method lmpress)");
  const auto v = meta.find("lmp_version");
  LMP_CHECK(v != meta.end(), "checkpoint ", dir, ": model.safetensors: __metadata__ has no lmp_version (expected \"",
            kLmpVersion, "\")");
  LMP_CHECK(v->second == std::to_string(kLmpVersion), "checkpoint ", dir, ": model.safetensors: lmp_version ",
            printable(v->second, 40), " is not supported (this lmpress reads version ", kLmpVersion, ")");
}

// X's part `part`, or an empty entry when absent; `required` / `allowed` say whether it must / may exist.
TensorEntry take_part(const LoadedCheckpoint& c, const std::string& dir, const std::string& x, const LmpRecord& r,
                      const char* part, bool required, bool allowed) {
  const std::string name = lmp_part_name(x, part);
  const auto it = c.tensors.find(name);
  if (it == c.tensors.end()) {
    LMP_CHECK(!required, where(dir, kLmpRecordPrefix + x), ": tensor ", printable(name), " is missing (",
              lmp_codes_name(r.codes), " codes store it)");
    return {};
  }
  LMP_CHECK(allowed, where(dir, name), ": not expected beside ", lmp_codes_name(r.codes), " codes (record ",
            printable(kLmpRecordPrefix + x), ")");
  return it->second;
}

// `e` is of `dtype` (or of `alt`, when given) and `shape`.
void expect(const std::string& dir, const TensorEntry& e, DType dtype, const Shape& shape, const std::string& why,
            std::optional<DType> alt = std::nullopt) {
  LMP_CHECK(e.info.dtype == dtype || e.info.dtype == alt, where(dir, e.info.name), ": expected dtype ",
            dtype_name(dtype), alt ? std::string(" or ").append(dtype_name(*alt)) : std::string(), ", found ",
            dtype_name(e.info.dtype));
  LMP_CHECK(e.info.shape == shape, where(dir, e.info.name), ": expected shape ", shape_str(shape), " (", why,
            "), found ", shape_str(e.info.shape));
}

// What the record says X.scales holds, for messages.
std::string scales_why(const LmpRecord& r) {
  if (r.codes == LmpCodes::Fp8E4m3) return "one scale per output row";
  if (r.codes == LmpCodes::LowRank) return "rank " + std::to_string(r.rank);
  if (r.codes == LmpCodes::Int)
    return std::to_string(r.out) + " rows x " + std::to_string(r.n_groups()) + " groups of " +
           (r.group > 0 ? std::to_string(r.group) : "all") + " over " + std::to_string(r.in) + " inputs";
  return "one absmax per " + std::to_string(r.block) + " weights of " + std::to_string(r.numel());
}

Parts find_parts(const LoadedCheckpoint& c, const std::string& dir, const std::string& x, const LmpRecord& r) {
  const bool is_int = r.codes == LmpCodes::Int, is_nf4 = r.codes == LmpCodes::Nf4;
  const bool low = r.codes == LmpCodes::LowRank;
  Parts p;
  p.codes = take_part(c, dir, x, r, "codes", !low, !low);
  p.scales = take_part(c, dir, x, r, "scales", !low, !low);
  p.a = take_part(c, dir, x, r, "a", low, low);
  p.b = take_part(c, dir, x, r, "b", low, low);
  if (low) {
    expect(dir, p.a, DType::F32, {r.out, r.rank}, scales_why(r) + " of the record", DType::BF16);
    expect(dir, p.b, DType::F32, {r.rank, r.in}, scales_why(r) + " of the record", DType::BF16);
    return p;
  }
  p.zeros = take_part(c, dir, x, r, "zeros", is_int, is_int);
  p.g_idx = take_part(c, dir, x, r, "g_idx", false, is_int);
  p.codebook = take_part(c, dir, x, r, "codebook", is_nf4, is_nf4);
  expect(dir, p.codes, DType::U8, {int64_t(r.stream_bytes)}, "stream_bytes of the record");
  const Shape scales = r.codes == LmpCodes::Fp8E4m3 ? Shape{r.out} : is_int ? Shape{r.out, r.n_groups()}
                                                                            : Shape{r.n_blocks()};
  expect(dir, p.scales, DType::F32, scales, scales_why(r), DType::BF16);
  if (is_int) expect(dir, p.zeros, DType::F32, scales, scales_why(r));
  if (p.g_idx.data) expect(dir, p.g_idx, DType::I32, {r.in}, "the group of each input column");
  if (is_nf4) expect(dir, p.codebook, DType::F32, {int64_t(1) << r.bits}, std::to_string(r.bits) + "-bit codes");
  return p;
}

// The stream's header against the record: out·in symbols in chunks of chunk_symbols.
void check_stream(const std::string& dir, const std::string& x, const LmpRecord& r, const TensorEntry& codes) {
  const std::string what = where(dir, codes.info.name);
  const RansStreamInfo s = rans_stream_info(std::span(codes.data, codes.info.nbytes), what);
  LMP_CHECK(s.symbols == uint64_t(r.numel()), what, ": the stream holds ", s.symbols, " codes, expected ", r.numel(),
            " (shape ", shape_str({r.out, r.in}), " of the record)");
  LMP_CHECK(s.chunk_symbols == r.chunk_symbols, what, ": the stream's chunks are of ", s.chunk_symbols,
            " symbols, expected chunk_symbols ", r.chunk_symbols, " of the record");
}

std::vector<int32_t> group_index(const std::string& dir, const LmpRecord& r, const TensorEntry& g) {
  if (!g.data) return {};
  std::vector<int32_t> idx(size_t(r.in));
  std::memcpy(idx.data(), g.data, idx.size() * 4);
  for (size_t j = 0; j < idx.size(); ++j)
    LMP_CHECK(idx[j] >= 0 && idx[j] < r.n_groups(), where(dir, g.info.name), ": g_idx[", j, "] = ", idx[j],
              ", expected [0, ", r.n_groups(), ")");
  return idx;
}

TensorEntry derived_entry(const std::string& dir, const std::string& x, const LmpRecord& r, Parts p) {
  TensorEntry e;
  const TensorEntry& first = r.has_stream() ? p.codes : p.a;  // where info() says the linear starts
  e.info = first.info;
  e.info.name = x;
  e.info.shape = {r.out, r.in};
  e.info.nbytes = p.bytes();
  e.data = first.data;
  e.owner = first.owner;
  std::vector<int32_t> g_idx = group_index(dir, r, p.g_idx);
  e.derived = std::make_shared<LmpLinear>(r, dir, x, std::move(p), std::move(g_idx));
  return e;
}

// A part of a coded linear without its record.
void reject_orphans(const LoadedCheckpoint& c, const std::string& dir) {
  for (const auto& [name, e] : c.tensors)
    for (const char* part : kLmpParts) {
      const std::string suffix = std::string(".weight.") + part;
      if (!ends_with(name, suffix)) continue;
      const std::string x = name.substr(0, name.size() - std::strlen(part) - 1);
      fail(where(dir, name), ": no record ", printable(kLmpRecordPrefix + x),
           " in __metadata__ (every coded linear has one)");
    }
}

struct Summary {
  int64_t linears = 0, weights = 0;
  uint64_t bytes = 0;
  std::map<std::string, int64_t> labels;  // "rtn int3 g128" → linears
  std::string text() const {
    std::string s = "lmp v" + std::to_string(kLmpVersion) + ": " + std::to_string(linears) + " coded linears (";
    bool first = true;
    for (const auto& [label, n] : labels) {
      s += (first ? "" : ", ") + std::to_string(n) + " " + label;
      first = false;
    }
    return s + "), " + fixed(weights ? double(bytes) * 8 / double(weights) : 0, "%.2f") + " bpw";
  }
};

}  // namespace

bool declares_lmp(const std::string& dir) {
  const std::string path = (fs::path(dir) / "config.json").string();
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  const json j = json::parse(ss.str(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object() || !j.contains("quantization_config")) return false;
  const json& q = j["quantization_config"];
  if (!q.is_object() || !q.contains("quant_method") || q["quant_method"] != "lmpress") return false;
  LMP_CHECK(q.contains("format") && q["format"] == "lmp", "config ", path,
            ": quantization_config.format: expected \"lmp\" for quant_method lmpress, found ",
            q.contains("format") ? printable(q["format"].dump(), 60) : "nothing");
  const json* v = q.contains("format_version") ? &q["format_version"] : nullptr;
  LMP_CHECK(v && v->is_number_integer(), "config ", path, ": quantization_config.format_version: expected ",
            kLmpVersion, ", found ", v ? printable(v->dump(), 60) : "nothing");
  LMP_CHECK(*v == kLmpVersion, "config ", path, ": quantization_config.format_version: ", printable(v->dump(), 60),
            " is not supported (this lmpress reads version ", kLmpVersion, ")");
  return true;
}

void reject_undeclared_lmp(const SafetensorsFile& st, const std::string& dir) {
  const auto v = st.metadata.find("lmp_version");
  const auto f = st.metadata.find("format");
  LMP_CHECK(v == st.metadata.end() && (f == st.metadata.end() || f->second != "lmp"), "checkpoint ", dir, ": ",
            fs::path(st.path()).filename().string(), ": __metadata__ declares an lmp checkpoint, but config.json has ",
            "no quantization_config with quant_method lmpress");
}

int64_t attach_lmp_linears(LoadedCheckpoint& c, const std::string& dir, std::string* description) {
  const fs::path file = fs::path(dir) / "model.safetensors";
  std::error_code ec;
  LMP_CHECK(!fs::exists(fs::path(dir) / "model.safetensors.index.json", ec), "checkpoint ", dir, ": lmp version ",
            kLmpVersion, " stores one model.safetensors, found model.safetensors.index.json");
  const SafetensorsFile st = read_safetensors(file.string());
  check_version(st.metadata, dir);
  const std::string prefix = kLmpRecordPrefix;
  Summary sum;
  for (const auto& [key, value] : st.metadata) {
    if (key.compare(0, prefix.size(), prefix) != 0) continue;
    const std::string x = key.substr(prefix.size());
    const LmpRecord r = parse_lmp_record(value, where(dir, key));
    LMP_CHECK(!c.tensors.count(x), where(dir, x), ": stored too (expected either the tensor or its lmp parts)");
    Parts p = find_parts(c, dir, x, r);
    if (r.has_stream()) check_stream(dir, x, r, p.codes);
    const uint64_t bytes = p.bytes() + lmp_record_bytes(key, value);
    TensorEntry e = derived_entry(dir, x, r, std::move(p));
    for (const char* part : kLmpParts) c.tensors.erase(lmp_part_name(x, part));
    c.add(std::move(e), "checkpoint " + dir);
    sum.linears += 1;
    sum.weights += r.numel();
    sum.bytes += bytes;
    const std::string label = codes_label(r);  // "int4 g32", or "rtn int4 g32" when the method says more
    sum.labels[label.rfind(r.method, 0) == 0 ? label : r.method + " " + label] += 1;
  }
  reject_orphans(c, dir);
  if (description) *description = sum.text();
  return sum.linears;
}

}  // namespace lmp
