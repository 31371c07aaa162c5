// One linear coded for the lmp format (see lmp_encode.h): record, rANS stream of the row-major codes,
// parameter tensors, and the check that they mean exactly the weights the method produced.
#include "export/lmp_encode.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <span>
#include <vector>

#include "compress/quant/quant_grid.h"
#include "core/dtype.h"
#include "core/error.h"
#include "io/lmp_dequant.h"
#include "io/lmp_record.h"

namespace lmp {

namespace {

// A record, the codes and the parameter tensors (by part name) of one linear.
struct Parts {
  LmpRecord rec;
  const Tensor* codes = nullptr;
  std::map<std::string, Tensor> params;
};

// An owned F32 copy of `t`, checked to hold `shape` elements.
Tensor f32_copy(const std::string& what, const Tensor& t, const Shape& shape) {
  LMP_CHECK(t.dtype() == DType::F32 && t.numel() == shape_numel(shape), what, ": expected F32 with ",
            shape_numel(shape), " values ", shape_str(shape), ", found ", dtype_name(t.dtype()), " ", shape_str(t.shape()));
  Tensor out = Tensor::zeros(DType::F32, shape);
  std::memcpy(out.mutable_data(), t.data(), t.nbytes());
  return out;
}

Tensor f32_of(const std::vector<float>& v) { return Tensor::from_f32({int64_t(v.size())}, v); }

// `t` (F32) as BF16 when every value is one exactly (EntQuant's default scales), else unchanged: the
// smallest dtype that keeps the values.
Tensor narrowest_exact(Tensor t) {
  std::vector<uint32_t> bits(size_t(t.numel()));
  std::memcpy(bits.data(), t.data(), t.nbytes());
  for (uint32_t b : bits)
    if ((b & 0xffffu) != 0) return t;  // not a bf16 (the upper half of an f32)
  Tensor b = Tensor::zeros(DType::BF16, t.shape());
  uint16_t* dst = static_cast<uint16_t*>(b.mutable_data());
  for (size_t i = 0; i < bits.size(); ++i) dst[i] = uint16_t(bits[i] >> 16);
  return b;
}

Parts fp8_parts(const std::string& what, const CompressedLinear& c) {
  const Fp8Grid& g = *c.fp8;
  Parts p;
  p.rec.codes = LmpCodes::Fp8E4m3;
  p.rec.lambda = g.lambda;
  p.rec.optimizer = g.optimizer;
  p.rec.fallback = g.fallback;
  p.codes = &g.codes;
  p.params["scales"] = narrowest_exact(f32_copy(what + ": scales", g.scales, {c.weight.dim(0)}));
  return p;
}

Parts int_parts(const std::string& what, const CompressedLinear& c) {
  const QuantGrid& g = *c.quant;
  const int64_t out = c.weight.dim(0), in = c.weight.dim(1);
  Parts p;
  p.rec.codes = LmpCodes::Int;
  p.rec.bits = g.bits;
  p.rec.group = g.group <= 0 ? -1 : g.group;
  p.rec.sym = g.sym;
  p.rec.in = in;  // for n_groups()
  LMP_CHECK(g.bits >= 1 && g.bits <= 8, what, ": ", g.bits, "-bit grid, expected 1 to 8 bits");
  const Shape groups{out, p.rec.n_groups()};
  p.codes = &g.codes;
  p.params["scales"] = narrowest_exact(f32_copy(what + ": scales", g.scales, groups));
  p.params["zeros"] = f32_copy(what + ": zeros", g.zeros, groups);
  LMP_CHECK(g.g_idx.empty() || int64_t(g.g_idx.size()) == in, what, ": g_idx has ", g.g_idx.size(),
            " entries, expected ", in);
  if (!g.g_idx.empty() && g_idx_is_permuted(g)) {
    Tensor t = Tensor::zeros(DType::I32, {in});
    std::memcpy(t.mutable_data(), g.g_idx.data(), size_t(in) * 4);
    p.params["g_idx"] = std::move(t);
  }
  return p;
}

Parts nf4_parts(const std::string& what, const CompressedLinear& c) {
  const CodebookGrid& g = *c.codebook;
  const size_t size = g.codebook.size();
  LMP_CHECK(size >= 2 && size <= 256 && (size & (size - 1)) == 0, what, ": codebook of ", size,
            " values, expected a power of two in [2, 256]");
  Parts p;
  p.rec.codes = LmpCodes::Nf4;
  p.rec.bits = int(std::log2(double(size)));
  p.rec.block = g.block;
  p.rec.double_quant = g.double_quant;
  LMP_CHECK(g.block >= 1, what, ": absmax block ", g.block, ", expected >= 1");
  p.codes = &g.codes;
  const int64_t n = c.weight.numel();
  p.params["scales"] = f32_copy(what + ": absmax", g.absmax, {(n + g.block - 1) / g.block});
  p.params["codebook"] = f32_of(g.codebook);
  return p;
}

Parts lowrank_parts(const std::string& what, const CompressedLinear& c) {
  const LowRankFactors& f = *c.lowrank;
  const int64_t out = c.weight.dim(0), in = c.weight.dim(1), k = f.rank();
  LMP_CHECK(k >= 1 && k <= std::min(out, in), what, ": rank ", k, ", expected [1, ", std::min(out, in), "]");
  Parts p;
  p.rec.codes = LmpCodes::LowRank;
  p.rec.rank = k;
  p.params["a"] = narrowest_exact(f32_copy(what + ": factor A", f.a, {out, k}));
  p.params["b"] = narrowest_exact(f32_copy(what + ": factor B", f.b, {k, in}));
  return p;
}

Parts parts_of(const std::string& what, const CompressedLinear& c) {
  using K = CompressedLinear::Kind;
  if (c.kind == K::LowRank) {
    LMP_CHECK(c.lowrank, what, ": kind lowrank without its factors");
    return lowrank_parts(what, c);
  }
  LMP_CHECK(c.kind != K::Fp8 || c.fp8, what, ": kind fp8 without its Fp8Grid");
  LMP_CHECK(c.kind != K::Quantized || c.quant, what, ": kind quantized without its QuantGrid");
  LMP_CHECK(c.kind != K::Codebook || c.codebook, what, ": kind codebook without its CodebookGrid");
  LMP_CHECK(lmp_codes(c), what, ": a ", kind_name(c.kind), " linear has no lmp codes (it is stored as a plain tensor)");
  return c.kind == K::Fp8 ? fp8_parts(what, c) : c.kind == K::Quantized ? int_parts(what, c) : nf4_parts(what, c);
}

const char* default_method(LmpCodes c) {
  switch (c) {
    case LmpCodes::Fp8E4m3: return "entquant";
    case LmpCodes::Int: return "int";
    case LmpCodes::Nf4: return "nf4";
    case LmpCodes::LowRank: return "lowrank";
  }
  return "?";
}

// Fails, naming the first differing element, unless `got` (what the reader will give back, from
// `source`) is bit-for-bit the method's weight.
void expect_same_weight(const std::string& what, const std::string& source, const LmpRecord& rec,
                        const std::vector<float>& got, const Tensor& weight) {
  if (std::memcmp(got.data(), weight.data(), got.size() * 4) == 0) return;
  size_t i = 0;
  while (std::memcmp(&got[i], weight.f32() + i, 4) == 0) ++i;
  fail(what, ": the ", source, " do not reproduce the method's weight at [", int64_t(i) / rec.in, ", ",
       int64_t(i) % rec.in, "] (they give ", got[i], ", weight is ", weight.f32()[i], ")");
}

// A·B must be exactly c.weight: what the reader will give back.
void check_lowrank_reproduces(const std::string& what, const Parts& p, const Tensor& weight) {
  const Tensor a = p.params.at("a").to_f32(), b = p.params.at("b").to_f32();
  std::vector<float> w(size_t(p.rec.numel()));
  lmp_lowrank_product(a.f32(), b.f32(), p.rec.out, p.rec.rank, p.rec.in, w.data());
  expect_same_weight(what, "factors A·B", p.rec, w, weight);
}

// The codes and parameters must mean exactly c.weight: what the reader will give back.
void check_reproduces(const std::string& what, const Parts& p, const uint8_t* codes, const Tensor& weight) {
  const int64_t bad = lmp_first_bad_code(p.rec, codes);
  LMP_CHECK(bad < 0, what, ": code ", int(codes[bad < 0 ? 0 : bad]), " at element ", bad, " is not a valid ",
            lmp_codes_name(p.rec.codes), " code", p.rec.codes == LmpCodes::Fp8E4m3 ? " (NaN)" : "");
  std::map<std::string, Tensor> f32;  // the float parameters as the reader will see them
  for (const auto& [k, t] : p.params)
    if (dtype_is_float(t.dtype())) f32[k] = t.to_f32();
  auto param = [&](const char* k) -> const float* {
    const auto it = f32.find(k);
    return it == f32.end() ? nullptr : it->second.f32();
  };
  const auto g_idx = p.params.find("g_idx");
  LmpGrid g{codes, param("scales"), param("zeros"),
            g_idx == p.params.end() ? nullptr : static_cast<const int32_t*>(g_idx->second.data()), param("codebook")};
  std::vector<float> w(size_t(p.rec.numel()));
  lmp_dequantize(p.rec, g, w.data());
  expect_same_weight(what, std::string(lmp_codes_name(p.rec.codes)) + " codes", p.rec, w, weight);
}

}  // namespace

bool lmp_codes(const CompressedLinear& c) {
  using K = CompressedLinear::Kind;
  return (c.kind == K::Fp8 && c.fp8) || (c.kind == K::Quantized && c.quant) || (c.kind == K::Codebook && c.codebook) ||
         (c.kind == K::LowRank && c.lowrank);
}

uint64_t LmpLinear::bytes() const {
  uint64_t n = lmp_record_bytes(kLmpRecordPrefix + name, meta.dump());
  for (const auto& [k, t] : tensors) n += t.nbytes();
  return n;
}

LmpLinear encode_lmp_linear(const std::string& name, const CompressedLinear& c, const RansOptions& o,
                            const std::string& method) {
  const std::string what = "export lmp: " + name;
  LMP_CHECK(c.weight.dtype() == DType::F32 && c.weight.ndim() == 2, what, ": expected an F32 [out, in] weight, found ",
            dtype_name(c.weight.dtype()), " ", shape_str(c.weight.shape()));
  Parts p = parts_of(what, c);
  p.rec.out = c.weight.dim(0);
  p.rec.in = c.weight.dim(1);
  p.rec.method = method.empty() ? default_method(p.rec.codes) : method;
  LmpLinear l;
  l.name = name;
  l.weights = c.weight.numel();
  if (!p.rec.has_stream()) {  // lowrank: the factors as they are
    check_lowrank_reproduces(what, p, c.weight);
    l.meta = p.rec.to_json();
    for (auto& [part, t] : p.params) {
      l.ideal_bits += double(t.nbytes()) * 8;
      l.tensors[lmp_part_name(name, part.c_str())] = std::move(t);
    }
    return l;
  }
  LMP_CHECK(p.codes->dtype() == DType::U8 && p.codes->shape() == c.weight.shape(), what, ": codes: expected U8 ",
            shape_str(c.weight.shape()), ", found ", dtype_name(p.codes->dtype()), " ", shape_str(p.codes->shape()));
  const std::span<const uint8_t> codes(static_cast<const uint8_t*>(p.codes->data()), size_t(c.weight.numel()));
  check_reproduces(what, p, codes.data(), c.weight);
  const std::vector<uint8_t> stream = rans_encode(codes, o);
  p.rec.chunk_symbols = o.chunk_symbols;
  p.rec.stream_bytes = stream.size();
  l.meta = p.rec.to_json();
  l.ideal_bits = chunked_entropy_bits(codes, o.chunk_symbols);
  Tensor s = Tensor::zeros(DType::U8, {int64_t(stream.size())});
  std::memcpy(s.mutable_data(), stream.data(), stream.size());
  l.tensors[lmp_part_name(name, "codes")] = std::move(s);
  for (auto& [part, t] : p.params) l.tensors[lmp_part_name(name, part.c_str())] = std::move(t);
  return l;
}

}  // namespace lmp
