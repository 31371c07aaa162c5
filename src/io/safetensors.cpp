#include "io/safetensors.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "io/checked_math.h"
#include "io/printable.h"

namespace lmp {

namespace {

using json = nlohmann::json;
constexpr uint64_t kMaxHeaderBytes = 100ull << 20;  // the reference implementation's limit

struct Table { const char* name; DType dtype; };
constexpr Table kDTypes[] = {{"F32", DType::F32}, {"F16", DType::F16}, {"BF16", DType::BF16},
                             {"F64", DType::F64}, {"I8", DType::I8},   {"I16", DType::I16},
                             {"I32", DType::I32}, {"I64", DType::I64}, {"U8", DType::U8},
                             {"BOOL", DType::BOOL}};

std::string json_type_str(const json& j) {
  std::string s = j.dump();
  if (s.size() > 40) s = s.substr(0, 37) + "...";
  return s;
}

json parse_header(const MappedFile& f, uint64_t& header_len) {
  const std::string& path = f.path();
  LMP_CHECK(f.size() >= 8, "safetensors ", path, ": file is ", f.size(),
            " bytes, too short for the 8-byte header length");
  std::memcpy(&header_len, f.data(), 8);
  LMP_CHECK(header_len <= f.size() - 8, "safetensors ", path, ": header length ", header_len,
            " exceeds the file size (", f.size(), " bytes)");
  LMP_CHECK(header_len <= kMaxHeaderBytes, "safetensors ", path, ": header length ", header_len,
            " exceeds the 100 MiB limit");
  const char* begin = reinterpret_cast<const char*>(f.data() + 8);
  json j = json::parse(begin, begin + header_len, nullptr, /*allow_exceptions=*/false);
  LMP_CHECK(!j.is_discarded(), "safetensors ", path, ": header is not valid JSON");
  LMP_CHECK(j.is_object(), "safetensors ", path, ": header is not a JSON object");
  return j;
}

std::map<std::string, std::string> parse_metadata(const json& m, const std::string& path) {
  std::map<std::string, std::string> out;
  LMP_CHECK(m.is_object(), "safetensors ", path, ": __metadata__: expected an object, found ",
            json_type_str(m));
  for (const auto& [k, v] : m.items()) {
    LMP_CHECK(v.is_string(), "safetensors ", path, ": __metadata__.", printable(k), ": expected a string, found ",
              json_type_str(v));
    out[k] = v.get<std::string>();
  }
  return out;
}

Shape parse_shape(const json& s, const std::string& path, const std::string& name, uint64_t& numel) {
  LMP_CHECK(s.is_array(), "safetensors ", path, ": ", printable(name), ": shape: expected an array, found ",
            json_type_str(s));
  Shape shape;
  numel = 1;
  for (const auto& d : s) {
    LMP_CHECK(d.is_number_unsigned(), "safetensors ", path, ": ", printable(name),
              ": shape: expected non-negative integers, found ", json_type_str(s));
    const uint64_t v = d.get<uint64_t>();
    auto n = checked_mul(numel, v);
    LMP_CHECK(n && v <= uint64_t(INT64_MAX) && *n <= uint64_t(INT64_MAX), "safetensors ", path, ": ",
              name, ": shape ", json_type_str(s), " overflows");
    numel = *n;
    shape.push_back(int64_t(v));
  }
  return shape;
}

SafetensorsEntry parse_entry(const std::string& name, const json& e, const std::string& path,
                             uint64_t data_size) {
  LMP_CHECK(e.is_object(), "safetensors ", path, ": ", printable(name), ": expected an object, found ",
            json_type_str(e));
  LMP_CHECK(e.contains("dtype") && e["dtype"].is_string(), "safetensors ", path, ": ", printable(name),
            ": missing string field dtype");
  const std::string ds = e["dtype"].get<std::string>();
  const auto dt = safetensors_dtype(ds);
  LMP_CHECK(dt, "safetensors ", path, ": ", printable(name), ": unknown dtype \"", printable(ds),
            "\" (expected F32, F16, BF16, F64, I8, I16, I32, I64, U8 or BOOL)");
  LMP_CHECK(e.contains("shape"), "safetensors ", path, ": ", printable(name), ": missing field shape");
  uint64_t numel = 0;
  Shape shape = parse_shape(e["shape"], path, name, numel);
  const json& o = e.contains("data_offsets") ? e["data_offsets"] : json();
  LMP_CHECK(o.is_array() && o.size() == 2 && o[0].is_number_unsigned() && o[1].is_number_unsigned(),
            "safetensors ", path, ": ", printable(name), ": data_offsets: expected [begin, end], found ",
            json_type_str(o));
  const uint64_t b = o[0].get<uint64_t>(), end = o[1].get<uint64_t>();
  LMP_CHECK(b <= end && end <= data_size, "safetensors ", path, ": ", printable(name), ": data_offsets [", b, ", ",
            end, "] out of range for a data section of ", data_size, " bytes");
  const auto want = checked_mul(numel, dtype_block_bytes(*dt));
  LMP_CHECK(want && *want == end - b, "safetensors ", path, ": ", printable(name), ": ", ds, " ",
            shape_str(shape), " needs ", want ? std::to_string(*want) : std::string("too many"),
            " bytes, data_offsets span ", end - b);
  return SafetensorsEntry{name, *dt, std::move(shape), b, end - b};
}

}  // namespace

std::optional<DType> safetensors_dtype(const std::string& s) {
  for (const auto& t : kDTypes)
    if (s == t.name) return t.dtype;
  return std::nullopt;
}

std::string safetensors_dtype_name(DType t) {
  for (const auto& e : kDTypes)
    if (e.dtype == t) return e.name;
  fail("safetensors: dtype ", dtype_name(t), " cannot be stored in safetensors");
}

SafetensorsFile read_safetensors(const std::string& path) {
  SafetensorsFile out;
  out.file = MappedFile::open(path);
  uint64_t header_len = 0;
  const json j = parse_header(*out.file, header_len);
  const uint64_t data_start = 8 + header_len;
  const uint64_t data_size = out.file->size() - data_start;
  for (const auto& [k, v] : j.items()) {
    if (k == "__metadata__") {
      out.metadata = parse_metadata(v, path);
      continue;
    }
    SafetensorsEntry e = parse_entry(k, v, path, data_size);
    e.offset += data_start;
    out.entries.push_back(std::move(e));
  }
  std::sort(out.entries.begin(), out.entries.end(),
            [](const auto& a, const auto& b) { return a.offset < b.offset; });
  return out;
}

const SafetensorsEntry* SafetensorsFile::find(const std::string& name) const {
  for (const auto& e : entries)
    if (e.name == name) return &e;
  return nullptr;
}

Tensor SafetensorsFile::tensor(const std::string& name) const {
  const SafetensorsEntry* e = find(name);
  LMP_CHECK(e, "safetensors ", path(), ": no tensor named ", printable(name));
  return Tensor::view(e->dtype, e->shape, file->data() + e->offset, file);
}

}  // namespace lmp
