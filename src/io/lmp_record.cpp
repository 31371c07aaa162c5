// The lmp per-linear record (see lmp_record.h): JSON in, validated fields out, and back.
#include "io/lmp_record.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/error.h"
#include "io/printable.h"

namespace lmp {

namespace {

using json = nlohmann::json;

constexpr int64_t kMaxDim = int64_t(1) << 31;
constexpr int64_t kMaxNumel = int64_t(1) << 40;
constexpr int64_t kMaxChunk = int64_t(1) << 30;

// A field of the record object `j`; errors name `where` and the field.
struct Fields {
  const json& j;
  const std::string& where;

  const json& get(const char* k) const {
    LMP_CHECK(j.contains(k), where, ": field \"", k, "\" is missing");
    return j[k];
  }
  [[noreturn]] void bad(const char* k, const char* expected) const {
    fail(where, ": field \"", k, "\": expected ", expected, ", found ", printable(j[k].dump(), 60));
  }
  int64_t integer(const char* k, int64_t lo, int64_t hi, const char* expected) const {
    const json& v = get(k);
    if (!v.is_number_integer()) bad(k, expected);
    if (v.is_number_unsigned() && v.get<uint64_t>() > uint64_t(hi)) bad(k, expected);
    const int64_t x = v.get<int64_t>();
    if (x < lo || x > hi) bad(k, expected);
    return x;
  }
  std::string text(const char* k) const {
    const json& v = get(k);
    if (!v.is_string()) bad(k, "a string");
    return v.get<std::string>();
  }
  bool flag(const char* k) const {
    const json& v = get(k);
    if (!v.is_boolean()) bad(k, "true or false");
    return v.get<bool>();
  }
  double number(const char* k) const {
    const json& v = get(k);
    if (!v.is_number() || !std::isfinite(v.get<double>())) bad(k, "a finite number");
    return v.get<double>();
  }
};

LmpCodes parse_codes(const Fields& f) {
  const std::string c = f.text("codes");
  if (c == "fp8_e4m3") return LmpCodes::Fp8E4m3;
  if (c == "int") return LmpCodes::Int;
  if (c == "nf4") return LmpCodes::Nf4;
  if (c == "lowrank") return LmpCodes::LowRank;
  fail(f.where, ": field \"codes\": expected \"fp8_e4m3\", \"int\", \"nf4\" or \"lowrank\", found \"", printable(c, 60),
       "\"");
}

void parse_shape(const Fields& f, LmpRecord& r) {
  const json& s = f.get("shape");
  const char* expected = "[out, in] of two integers in [1, 2^31)";
  if (!s.is_array() || s.size() != 2) f.bad("shape", expected);
  for (const json& d : s)
    if (!d.is_number_integer() || d.get<int64_t>() < 1 || d.get<int64_t>() >= kMaxDim ||
        (d.is_number_unsigned() && d.get<uint64_t>() >= uint64_t(kMaxDim)))
      f.bad("shape", expected);
  r.out = s[0].get<int64_t>();
  r.in = s[1].get<int64_t>();
  LMP_CHECK(r.out * r.in <= kMaxNumel, f.where, ": field \"shape\": ", r.out, " x ", r.in,
            " weights, expected at most 2^40");
}

void parse_kind_fields(const Fields& f, LmpRecord& r) {
  switch (r.codes) {
    case LmpCodes::Fp8E4m3:
      r.lambda = f.number("lambda");
      r.optimizer = f.text("optimizer");
      r.fallback = f.flag("fallback");
      return;
    case LmpCodes::Int:
      r.bits = int(f.integer("bits", 1, 8, "an integer in [1, 8]"));
      r.group = f.integer("group", -1, kMaxDim, "-1 or a positive integer");
      LMP_CHECK(r.group != 0, f.where, ": field \"group\": expected -1 or a positive integer, found 0");
      r.sym = f.flag("sym");
      return;
    case LmpCodes::Nf4:
      r.bits = int(f.integer("bits", 1, 8, "an integer in [1, 8]"));
      r.block = f.integer("block", 1, kMaxDim, "a positive integer");
      r.double_quant = f.flag("double_quant");
      return;
    case LmpCodes::LowRank: {
      const int64_t full = std::min(r.out, r.in);
      r.rank = f.integer("rank", 1, full, ("an integer in [1, " + std::to_string(full) + "] (min of the shape)").c_str());
      return;
    }
  }
}

}  // namespace

const char* lmp_codes_name(LmpCodes c) {
  switch (c) {
    case LmpCodes::Fp8E4m3: return "fp8_e4m3";
    case LmpCodes::Int: return "int";
    case LmpCodes::Nf4: return "nf4";
    case LmpCodes::LowRank: return "lowrank";
  }
  return "?";
}

json LmpRecord::to_json() const {
  json j = {{"codes", lmp_codes_name(codes)}, {"shape", {out, in}}, {"method", method}};
  if (has_stream()) {
    j["chunk_symbols"] = chunk_symbols;
    j["stream_bytes"] = stream_bytes;
  }
  if (codes == LmpCodes::LowRank) {
    j["rank"] = rank;
  } else if (codes == LmpCodes::Fp8E4m3) {
    j["lambda"] = lambda;
    j["optimizer"] = optimizer;
    j["fallback"] = fallback;
  } else if (codes == LmpCodes::Int) {
    j["bits"] = bits;
    j["group"] = group;
    j["sym"] = sym;
  } else {
    j["bits"] = bits;
    j["block"] = block;
    j["double_quant"] = double_quant;
  }
  return j;
}

LmpRecord parse_lmp_record(const std::string& text, const std::string& where) {
  const json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  LMP_CHECK(!j.is_discarded() && j.is_object(), where, ": expected a JSON object, found \"", printable(text, 60),
            "\"");
  const Fields f{j, where};
  LmpRecord r;
  r.codes = parse_codes(f);
  parse_shape(f, r);
  r.method = f.text("method");
  if (r.has_stream()) {
    r.chunk_symbols = uint64_t(f.integer("chunk_symbols", 1, kMaxChunk, "an integer in [1, 2^30]"));
    r.stream_bytes = uint64_t(f.integer("stream_bytes", 0, std::numeric_limits<int64_t>::max(),
                                        "a non-negative integer"));
  }
  parse_kind_fields(f, r);
  return r;
}

std::string lmp_part_name(const std::string& linear, const char* part) { return linear + "." + part; }

uint64_t lmp_record_bytes(const std::string& key, const std::string& value) {
  const auto replace = json::error_handler_t::replace;  // the header's dump cannot fail on bad UTF-8 either
  return json(key).dump(-1, ' ', false, replace).size() + 1 + json(value).dump(-1, ' ', false, replace).size() + 1;
}

}  // namespace lmp
