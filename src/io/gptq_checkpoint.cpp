// GPTQ-packed linears as derived f32 tensors (see gptq_checkpoint.h). The packed parts are checked
// against each other when the checkpoint is opened (shapes, dtypes, every g_idx entry); dequantization
// happens in load_f32(), one linear at a time, so a checkpoint is never unpacked whole.
#include "io/gptq_checkpoint.h"

#include <cstring>
#include <filesystem>
#include <vector>

#include "core/dtype.h"
#include "core/error.h"
#include "io/gptq_bits.h"
#include "io/printable.h"

namespace lmp {

namespace {

namespace fs = std::filesystem;

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// For messages: "checkpoint DIR: SHARD: TENSOR".
std::string where(const std::string& dir, const TensorEntry& e) {
  return "checkpoint " + dir + ": " + fs::path(e.info.file).filename().string() + ": " + printable(e.info.name);
}

struct Geometry {
  int64_t in = 0, out = 0, groups = 0;
};

// The stored parts of one packed linear; g_idx may be absent (then j / group_size).
struct Parts {
  std::string base;
  const TensorEntry *qweight = nullptr, *qzeros = nullptr, *scales = nullptr, *g_idx = nullptr;
};

class GptqLinear final : public DerivedTensor {
 public:
  GptqLinear(const Parts& p, const Geometry& g, std::vector<int32_t> g_idx, const GptqConfig& q)
      : qweight_(*p.qweight), qzeros_(*p.qzeros), scales_(*p.scales), g_idx_(std::move(g_idx)), geo_(g),
        bits_(q.bits), v2_(q.v2()) {}
  Tensor load_f32(Tensor reuse) const override;
  std::string packing() const override { return "gptq " + std::to_string(bits_) + "-bit"; }

 private:
  std::vector<float> group_params(bool zeros) const;  // [groups, out]: scales, or zero points

  TensorEntry qweight_, qzeros_, scales_;
  std::vector<int32_t> g_idx_;
  Geometry geo_;
  int bits_;
  bool v2_;
};

// int32 words of a mapped tensor, copied (the mapping gives no alignment guarantee).
std::vector<int32_t> words(const TensorEntry& e, int64_t n) {
  std::vector<int32_t> w(static_cast<size_t>(n));
  std::memcpy(w.data(), e.data, size_t(n) * 4);
  return w;
}

std::vector<float> GptqLinear::group_params(bool zeros) const {
  const int64_t n = geo_.groups * geo_.out;
  std::vector<float> v(static_cast<size_t>(n));
  if (!zeros) {
    convert_to_f32(scales_.info.dtype, scales_.data, v.data(), size_t(n));
    return v;
  }
  const std::vector<int32_t> qz = words(qzeros_, n / gptq_per_word(bits_));
  for (int64_t k = 0; k < geo_.groups; ++k)
    for (int64_t r = 0; r < geo_.out; ++r) {
      const uint32_t field = gptq_zero_field(qz.data(), bits_, geo_.out, k, r);
      v[size_t(k * geo_.out + r)] = float(v2_ ? field : gptq_v1_zero_of_field(field, bits_));
    }
  return v;
}

Tensor GptqLinear::load_f32(Tensor reuse) const {
  const int64_t in = geo_.in, out = geo_.out, per = gptq_per_word(bits_);
  const std::vector<float> scale = group_params(false), zero = group_params(true);
  const std::vector<int32_t> qw = words(qweight_, in / per * out);
  Tensor w = Tensor::f32_buffer({out, in}, std::move(reuse));  // every value written below
  float* dst = w.f32();
  for (int64_t jw = 0; jw < in / per; ++jw)  // one row of words: `per` consecutive inputs of every output
    for (int64_t r = 0; r < out; ++r)
      for (int64_t j = jw * per; j < (jw + 1) * per; ++j) {
        const size_t p = size_t(int64_t(g_idx_[size_t(j)]) * out + r);
        dst[r * in + j] = scale[p] * (float(gptq_code(qw.data(), bits_, out, j, r)) - zero[p]);
      }
  for (const TensorEntry* e : {&qweight_, &qzeros_, &scales_}) e->release_pages();
  return w;
}

void expect_dtype(const std::string& dir, const TensorEntry& e, bool ok, const char* expected) {
  LMP_CHECK(ok, where(dir, e), ": expected dtype ", expected, ", found ", dtype_name(e.info.dtype));
}

void expect_shape(const std::string& dir, const TensorEntry& e, const Shape& s, const std::string& why) {
  LMP_CHECK(e.info.shape == s, where(dir, e), ": expected shape ", shape_str(s), " (", why, "), found ",
            shape_str(e.info.shape));
}

const TensorEntry* part(const LoadedCheckpoint& c, const std::string& dir, const TensorEntry& qweight,
                        const std::string& base, const char* suffix, bool required, const char* why) {
  const auto it = c.tensors.find(base + suffix);
  LMP_CHECK(it != c.tensors.end() || !required, where(dir, qweight), ": ", printable(base + suffix),
            " is missing (", why, ")");
  return it == c.tensors.end() ? nullptr : &it->second;
}

Parts find_parts(const LoadedCheckpoint& c, const std::string& dir, const GptqConfig& q, const std::string& base) {
  Parts p;
  p.base = base;
  p.qweight = &c.tensors.at(base + ".qweight");
  const char* every = "every GPTQ-packed linear has qweight, qzeros and scales";
  p.qzeros = part(c, dir, *p.qweight, base, ".qzeros", true, every);
  p.scales = part(c, dir, *p.qweight, base, ".scales", true, every);
  p.g_idx = part(c, dir, *p.qweight, base, ".g_idx", q.desc_act,
                 "desc_act is true, so the group of each input column must be stored");
  LMP_CHECK(!c.tensors.count(base + ".weight"), where(dir, *p.qweight), ": ", printable(base),
            ".weight is stored too (expected either the dense weight or the GPTQ-packed parts)");
  expect_dtype(dir, *p.qweight, p.qweight->info.dtype == DType::I32, "I32");
  expect_dtype(dir, *p.qzeros, p.qzeros->info.dtype == DType::I32, "I32");
  const DType s = p.scales->info.dtype;
  expect_dtype(dir, *p.scales, s == DType::F16 || s == DType::BF16 || s == DType::F32, "F16, BF16 or F32");
  if (p.g_idx) expect_dtype(dir, *p.g_idx, p.g_idx->info.dtype == DType::I32, "I32");
  return p;
}

// "6 groups of 128 over 704 inputs", for messages.
std::string group_label(const GptqConfig& q, const Geometry& g) {
  if (q.group_size <= 0) return "group_size -1: one group";
  return std::to_string(g.groups) + " groups of " + std::to_string(q.group_size) + " over " + std::to_string(g.in) +
         " inputs";
}

// in and out from g_idx (or qweight) and qweight; every part checked against them and group_size.
Geometry check_geometry(const std::string& dir, const GptqConfig& q, const Parts& p) {
  const int64_t per = gptq_per_word(q.bits);
  const Shape& sw = p.qweight->info.shape;
  LMP_CHECK(sw.size() == 2, where(dir, *p.qweight), ": expected 2 dimensions [in·bits/32, out], found ",
            shape_str(sw));
  if (p.g_idx)
    LMP_CHECK(p.g_idx->info.shape.size() == 1, where(dir, *p.g_idx), ": expected 1 dimension [in], found ",
              shape_str(p.g_idx->info.shape));
  Geometry g;
  g.out = sw[1];
  g.in = p.g_idx ? p.g_idx->info.shape[0] : sw[0] * per;
  if (p.g_idx)
    LMP_CHECK(g.in % per == 0, where(dir, *p.g_idx), ": ", g.in, " input columns, expected a multiple of ", per,
              " for ", q.bits, "-bit GPTQ");
  const std::string bits = std::to_string(q.bits);
  expect_shape(dir, *p.qweight, {g.in / per, g.out},
               std::to_string(g.in) + " inputs in g_idx · " + bits + " bits / 32");
  LMP_CHECK(g.out % per == 0, where(dir, *p.qweight), ": ", g.out, " outputs, expected a multiple of ", per,
            " (qzeros packs ", per, " outputs per int32)");
  g.groups = q.group_size > 0 ? g.in / q.group_size + (g.in % q.group_size != 0) : 1;  // no overflow
  const std::string groups = group_label(q, g);
  expect_shape(dir, *p.scales, {g.groups, g.out}, groups + ", " + std::to_string(g.out) + " outputs");
  expect_shape(dir, *p.qzeros, {g.groups, g.out / per}, groups + ", " + std::to_string(g.out) + " outputs · " + bits +
                                                            " bits / 32");
  return g;
}

// The group of each input column: the stored g_idx (every entry checked) or j / group_size.
std::vector<int32_t> group_index(const std::string& dir, const GptqConfig& q, const Parts& p, const Geometry& g) {
  std::vector<int32_t> idx(size_t(g.in));
  if (!p.g_idx) {
    for (int64_t j = 0; j < g.in; ++j) idx[size_t(j)] = q.group_size > 0 ? int32_t(j / q.group_size) : 0;
    return idx;
  }
  idx = words(*p.g_idx, g.in);
  for (int64_t j = 0; j < g.in; ++j)
    LMP_CHECK(idx[size_t(j)] >= 0 && idx[size_t(j)] < g.groups, where(dir, *p.g_idx), ": g_idx[", j, "] = ",
              idx[size_t(j)], ", expected [0, ", g.groups, ")");
  return idx;
}

TensorEntry derived_entry(const Parts& p, const Geometry& g, const GptqConfig& q, std::vector<int32_t> g_idx) {
  TensorEntry e;
  e.info = p.qweight->info;
  e.info.name = p.base + ".weight";
  e.info.shape = {g.out, g.in};
  e.info.nbytes = 0;
  for (const TensorEntry* t : {p.qweight, p.qzeros, p.scales, p.g_idx}) e.info.nbytes += t ? t->info.nbytes : 0;
  e.data = p.qweight->data;
  e.owner = p.qweight->owner;
  e.derived = std::make_shared<GptqLinear>(p, g, std::move(g_idx), q);
  return e;
}

// Names X of every X.qweight; a qzeros / scales / g_idx without its qweight is an error.
std::vector<std::string> packed_bases(const LoadedCheckpoint& c, const std::string& dir) {
  std::vector<std::string> bases;
  for (const auto& [name, e] : c.tensors) {
    if (ends_with(name, ".qweight")) bases.push_back(name.substr(0, name.size() - 8));
    for (const char* s : {".qzeros", ".scales", ".g_idx"}) {
      if (!ends_with(name, s)) continue;
      const std::string base = name.substr(0, name.size() - std::strlen(s));
      LMP_CHECK(c.tensors.count(base + ".qweight"), where(dir, e), ": found without ", printable(base),
                ".qweight (a GPTQ-packed linear stores qweight, qzeros, scales and g_idx)");
    }
  }
  return bases;
}

}  // namespace

int64_t attach_gptq_linears(LoadedCheckpoint& c, const GptqConfig& q, const std::string& dir) {
  const std::vector<std::string> bases = packed_bases(c, dir);
  for (const std::string& base : bases) {
    const Parts p = find_parts(c, dir, q, base);
    const Geometry g = check_geometry(dir, q, p);
    TensorEntry e = derived_entry(p, g, q, group_index(dir, q, p, g));
    for (const char* s : {".qweight", ".qzeros", ".scales", ".g_idx"}) c.tensors.erase(base + s);
    c.add(std::move(e), "checkpoint " + dir);
  }
  return int64_t(bases.size());
}

}  // namespace lmp
