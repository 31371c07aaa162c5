#include "io/gguf.h"

#include <charconv>
#include <cstring>

#include "core/error.h"
#include "io/byte_reader.h"
#include "io/checked_math.h"
#include "io/printable.h"

namespace lmp {

namespace {

constexpr uint32_t kMaxDims = 4;        // GGML_MAX_DIMS
constexpr int kMaxArrayNesting = 4;

size_t scalar_size(GgufType t) {
  switch (t) {
    case GgufType::U8: case GgufType::I8: case GgufType::BOOL: return 1;
    case GgufType::U16: case GgufType::I16: return 2;
    case GgufType::U32: case GgufType::I32: case GgufType::F32: return 4;
    case GgufType::U64: case GgufType::I64: case GgufType::F64: return 8;
    default: return 0;
  }
}

bool valid_type(uint32_t t) { return t <= uint32_t(GgufType::F64); }

// The double whose shortest decimal form equals the float's (1e-05f -> 1e-05, not 9.99999974e-06).
double float_as_decimal(float v) {
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, v);
  double d = v;
  std::from_chars(buf, res.ptr, d);
  return d;
}

template <typename T>
T load(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

std::string_view read_string(ByteReader& r, std::string_view field) {
  const uint64_t n = r.read<uint64_t>(field);
  return r.bytes(n, field);
}

void read_scalar(ByteReader& r, GgufValue& v, const std::string& key) {
  const uint8_t* p = reinterpret_cast<const uint8_t*>(r.bytes(scalar_size(v.type), key).data());
  switch (v.type) {
    case GgufType::U8: case GgufType::BOOL: v.u = load<uint8_t>(p); break;
    case GgufType::U16: v.u = load<uint16_t>(p); break;
    case GgufType::U32: v.u = load<uint32_t>(p); break;
    case GgufType::U64: v.u = load<uint64_t>(p); break;
    case GgufType::I8: v.i = load<int8_t>(p); break;
    case GgufType::I16: v.i = load<int16_t>(p); break;
    case GgufType::I32: v.i = load<int32_t>(p); break;
    case GgufType::I64: v.i = load<int64_t>(p); break;
    case GgufType::F32: v.f = float_as_decimal(load<float>(p)); break;
    case GgufType::F64: v.f = load<double>(p); break;
    default: break;
  }
}

void read_value(ByteReader& r, GgufValue& v, const std::string& key, int depth);

void read_array(ByteReader& r, GgufArray& a, const std::string& key, int depth) {
  const uint32_t t = r.read<uint32_t>(key);
  LMP_CHECK(valid_type(t), r.what(), ": ", printable(key), ": unknown array element type ", t);
  a.type = GgufType(t);
  a.count = r.read<uint64_t>(key);
  if (a.is_numeric()) {
    const auto n = checked_mul(a.count, scalar_size(a.type));
    LMP_CHECK(n, r.what(), ": ", printable(key), ": array of ", a.count, " elements overflows");
    a.data = reinterpret_cast<const uint8_t*>(r.bytes(*n, key).data());
    return;
  }
  LMP_CHECK(a.count <= r.remaining() / 8, r.what(), ": ", printable(key), ": array of ", a.count,
            " elements exceeds the ", r.remaining(), " bytes left in the file");
  if (a.type == GgufType::STRING) {
    a.strings.reserve(size_t(a.count));
    for (uint64_t i = 0; i < a.count; ++i) a.strings.push_back(read_string(r, key));
    return;
  }
  LMP_CHECK(depth < kMaxArrayNesting, r.what(), ": ", printable(key), ": arrays nested deeper than ", kMaxArrayNesting);
  for (uint64_t i = 0; i < a.count; ++i) {  // nested arrays: parsed to skip them, not kept
    GgufValue inner;
    inner.type = GgufType::ARRAY;
    read_value(r, inner, key, depth + 1);
  }
}

void read_value(ByteReader& r, GgufValue& v, const std::string& key, int depth) {
  if (v.type == GgufType::STRING) v.s = read_string(r, key);
  else if (v.type == GgufType::ARRAY) read_array(r, v.arr, key, depth);
  else read_scalar(r, v, key);
}

GgufKV read_kv(ByteReader& r) {
  GgufKV kv;
  kv.key = std::string(read_string(r, "a metadata key"));
  const uint32_t t = r.read<uint32_t>(kv.key);
  LMP_CHECK(valid_type(t), r.what(), ": ", printable(kv.key), ": unknown value type ", t);
  kv.value.type = GgufType(t);
  read_value(r, kv.value, kv.key, 0);
  return kv;
}

GgufTensor read_tensor_info(ByteReader& r) {
  GgufTensor t;
  t.name = std::string(read_string(r, "a tensor name"));
  const uint32_t nd = r.read<uint32_t>(t.name);
  LMP_CHECK(nd >= 1 && nd <= kMaxDims, r.what(), ": tensor ", printable(t.name), ": expected 1 to ", kMaxDims,
            " dimensions, found ", nd);
  for (uint32_t i = 0; i < nd; ++i) t.ne.push_back(r.read<uint64_t>(t.name));
  t.type = r.read<uint32_t>(t.name);
  t.offset = r.read<uint64_t>(t.name);
  return t;
}

void check_version(ByteReader& r, uint32_t version) {
  if (version == 2 || version == 3) return;
  if (version == 1) fail(r.what(), ": unsupported GGUF version 1 (v2 and v3 are supported)");
  const bool swapped = version == 0x02000000u || version == 0x03000000u;
  fail(r.what(), ": unsupported GGUF version ", version,
       swapped ? " (a big-endian file; only little-endian is supported)" : " (v2 and v3 are supported)");
}

uint64_t read_alignment(const GgufFile& g, const std::string& what) {
  const GgufValue* a = g.find("general.alignment");
  if (!a) return 32;
  const auto v = a->as_int();
  LMP_CHECK(v && *v > 0 && *v <= (1 << 20) && (*v & (*v - 1)) == 0, what,
            ": general.alignment: expected a power of two, found ", a->to_string());
  return uint64_t(*v);
}

// Resolves a tensor's dtype, byte size and absolute offset against the data section.
void place_tensor(GgufTensor& t, const GgufFile& g, const std::string& what) {
  const auto dt = ggml_type_dtype(t.type);
  LMP_CHECK(dt, what, ": tensor ", printable(t.name), ": unsupported tensor type ", t.type, " (", ggml_type_name(t.type),
            "; supported: F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q6_K)");
  t.dtype = *dt;
  std::optional<uint64_t> numel = 1;
  for (uint64_t d : t.ne) {
    LMP_CHECK(d <= uint64_t(INT64_MAX), what, ": tensor ", printable(t.name), ": dimension ", d, " is too large");
    numel = numel ? checked_mul(*numel, d) : numel;
  }
  LMP_CHECK(numel && *numel <= uint64_t(INT64_MAX), what, ": tensor ", printable(t.name), ": shape ", shape_str(t.shape()), " overflows");
  const uint64_t block = dtype_block_elems(t.dtype);
  LMP_CHECK(t.ne[0] % block == 0, what, ": tensor ", printable(t.name), ": ", ggml_type_name(t.type), " row length ", t.ne[0],
            " is not a multiple of its block size ", block);
  const auto nbytes = checked_mul(*numel / block, dtype_block_bytes(t.dtype));
  LMP_CHECK(nbytes, what, ": tensor ", printable(t.name), ": shape ", shape_str(t.shape()), " overflows");
  t.nbytes = *nbytes;
  LMP_CHECK(t.offset % g.alignment == 0, what, ": tensor ", printable(t.name), ": offset ", t.offset,
            " is not a multiple of the alignment ", g.alignment);
  const uint64_t data_size = g.file->size() - g.data_offset;
  const auto end = checked_add(t.offset, t.nbytes);
  LMP_CHECK(end && *end <= data_size, what, ": tensor ", printable(t.name), ": bytes [", t.offset, ", ",
            end ? std::to_string(*end) : std::string("overflow"), ") exceed the data section of ", data_size,
            " bytes (truncated file?)");
  t.offset += g.data_offset;
}

}  // namespace

std::string_view gguf_type_name(GgufType t) {
  static constexpr std::string_view names[] = {"u8",  "i8",    "u16",   "i16", "u32", "i32", "f32",
                                               "bool", "string", "array", "u64", "i64", "f64"};
  return valid_type(uint32_t(t)) ? names[uint32_t(t)] : "?";
}

int64_t GgufArray::int_at(uint64_t i) const {
  const uint8_t* p = data + i * scalar_size(type);
  switch (type) {
    case GgufType::U8: case GgufType::BOOL: return load<uint8_t>(p);
    case GgufType::I8: return load<int8_t>(p);
    case GgufType::U16: return load<uint16_t>(p);
    case GgufType::I16: return load<int16_t>(p);
    case GgufType::U32: return load<uint32_t>(p);
    case GgufType::I32: return load<int32_t>(p);
    case GgufType::U64: return int64_t(load<uint64_t>(p));
    case GgufType::I64: return load<int64_t>(p);
    default: {  // a float array read as integers: saturate instead of overflowing
      const double f = float_at(i);
      if (!(f > -9.2e18 && f < 9.2e18)) return f > 0 ? INT64_MAX : INT64_MIN;
      return int64_t(f);
    }
  }
}

double GgufArray::float_at(uint64_t i) const {
  const uint8_t* p = data + i * scalar_size(type);
  if (type == GgufType::F32) return load<float>(p);
  if (type == GgufType::F64) return load<double>(p);
  return double(int_at(i));
}

bool GgufValue::is_integer() const {
  switch (type) {
    case GgufType::U8: case GgufType::I8: case GgufType::U16: case GgufType::I16: case GgufType::U32:
    case GgufType::I32: case GgufType::U64: case GgufType::I64: return true;
    default: return false;
  }
}

std::optional<int64_t> GgufValue::as_int() const {
  if (!is_integer()) return std::nullopt;
  const bool is_unsigned = type == GgufType::U8 || type == GgufType::U16 || type == GgufType::U32 || type == GgufType::U64;
  if (!is_unsigned) return i;
  if (u > uint64_t(INT64_MAX)) return std::nullopt;
  return int64_t(u);
}

std::string GgufValue::to_string() const {
  if (type == GgufType::STRING) return std::string(s);
  if (type == GgufType::ARRAY) return detail::concat("[", arr.count, " items]");
  if (type == GgufType::BOOL) return u ? "true" : "false";
  if (is_float()) {
    char buf[64];
    auto res = std::to_chars(buf, buf + sizeof buf, f);
    return std::string(buf, res.ptr);
  }
  const auto v = as_int();
  return v ? std::to_string(*v) : std::to_string(u);
}

const GgufValue* GgufFile::find(std::string_view key) const {
  for (const auto& e : kv)
    if (e.key == key) return &e.value;
  return nullptr;
}

Shape GgufTensor::shape() const {
  Shape s;
  for (auto it = ne.rbegin(); it != ne.rend(); ++it) s.push_back(int64_t(*it));
  return s;
}

std::optional<DType> ggml_type_dtype(uint32_t type) {
  switch (type) {
    case 0: return DType::F32;
    case 1: return DType::F16;
    case 2: return DType::Q4_0;
    case 8: return DType::Q8_0;
    case 12: return DType::Q4_K;
    case 14: return DType::Q6_K;
    case 30: return DType::BF16;
    default: return std::nullopt;
  }
}

std::string ggml_type_name(uint32_t type) {
  static constexpr const char* names[] = {
      "F32",  "F16",     "Q4_0",   "Q4_1",    "type 4", "type 5", "Q5_0",   "Q5_1",   "Q8_0",  "Q8_1", "Q2_K",
      "Q3_K", "Q4_K",    "Q5_K",   "Q6_K",    "Q8_K",   "IQ2_XXS", "IQ2_XS", "IQ3_XXS", "IQ1_S", "IQ4_NL", "IQ3_S",
      "IQ2_S", "IQ4_XS", "I8",     "I16",     "I32",    "I64",    "F64",    "IQ1_M",  "BF16"};
  if (type < sizeof names / sizeof names[0]) return names[type];
  return "type " + std::to_string(type);
}

GgufFile read_gguf(const std::string& path) {
  GgufFile g;
  g.file = MappedFile::open(path);
  ByteReader r(g.file->data(), g.file->size(), "gguf " + path);
  const std::string_view magic = r.bytes(4, "the magic");
  LMP_CHECK(magic == "GGUF", r.what(), ": not a GGUF file (bad magic)");
  g.version = r.read<uint32_t>("the version");
  check_version(r, g.version);
  const uint64_t n_tensors = r.read<uint64_t>("the tensor count");
  const uint64_t n_kv = r.read<uint64_t>("the metadata count");
  LMP_CHECK(n_kv <= r.remaining() / 13, r.what(), ": metadata count ", n_kv, " exceeds what the file can hold");
  LMP_CHECK(n_tensors <= r.remaining() / 24, r.what(), ": tensor count ", n_tensors,
            " exceeds what the file can hold");
  g.kv.reserve(size_t(n_kv));
  for (uint64_t i = 0; i < n_kv; ++i) g.kv.push_back(read_kv(r));
  g.alignment = read_alignment(g, r.what());
  g.tensors.reserve(size_t(n_tensors));
  for (uint64_t i = 0; i < n_tensors; ++i) g.tensors.push_back(read_tensor_info(r));
  const uint64_t data_offset = (uint64_t(r.pos()) + g.alignment - 1) / g.alignment * g.alignment;
  LMP_CHECK(data_offset <= g.file->size() || n_tensors == 0, r.what(), ": data section starts at ", data_offset,
            " beyond the end of the file (", g.file->size(), " bytes)");
  g.data_offset = std::min<uint64_t>(data_offset, g.file->size());
  for (auto& t : g.tensors) place_tensor(t, g, r.what());
  return g;
}

}  // namespace lmp
