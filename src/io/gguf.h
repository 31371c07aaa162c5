// GGUF (v2 and v3) reader: header, metadata key/values of every type (arrays included), tensor infos,
// general.alignment and the data section's offset. Zero-copy: strings and numeric arrays are views into
// the mapped file, which GgufFile keeps alive. Every count and length is checked against the bytes left
// in the file before anything is allocated.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/dtype.h"
#include "core/tensor.h"
#include "io/mapped_file.h"

namespace lmp {

enum class GgufType : uint32_t {
  U8 = 0, I8 = 1, U16 = 2, I16 = 3, U32 = 4, I32 = 5, F32 = 6, BOOL = 7, STRING = 8, ARRAY = 9,
  U64 = 10, I64 = 11, F64 = 12
};
std::string_view gguf_type_name(GgufType t);

// An array value: element type, count, and the elements as views into the file.
struct GgufArray {
  GgufType type = GgufType::U8;
  uint64_t count = 0;
  const uint8_t* data = nullptr;           // numeric elements (little-endian, packed)
  std::vector<std::string_view> strings;   // STRING elements

  bool is_numeric() const { return type != GgufType::STRING && type != GgufType::ARRAY; }
  int64_t int_at(uint64_t i) const;        // numeric element i as an integer (floats truncated)
  double float_at(uint64_t i) const;       // numeric element i as a double
};

struct GgufValue {
  GgufType type = GgufType::U8;
  uint64_t u = 0;        // unsigned integers and BOOL
  int64_t i = 0;         // signed integers
  double f = 0;          // F32 (shortest decimal round trip) and F64
  std::string_view s;    // STRING
  GgufArray arr;         // ARRAY

  bool is_integer() const;
  bool is_float() const { return type == GgufType::F32 || type == GgufType::F64; }
  std::optional<int64_t> as_int() const;   // any integer type that fits int64
  std::string to_string() const;           // scalars as text, arrays as "[N items]"
};

struct GgufKV {
  std::string key;
  GgufValue value;
};

struct GgufTensor {
  std::string name;
  std::vector<uint64_t> ne;  // innermost first, as stored
  uint32_t type = 0;         // ggml type number
  DType dtype = DType::F32;
  uint64_t offset = 0;       // absolute byte offset in the file
  uint64_t nbytes = 0;
  Shape shape() const;       // outermost first: ne reversed
};

struct GgufFile {
  std::shared_ptr<const MappedFile> file;
  uint32_t version = 0;
  uint64_t alignment = 32;
  uint64_t data_offset = 0;
  std::vector<GgufKV> kv;
  std::vector<GgufTensor> tensors;

  const std::string& path() const { return file->path(); }
  const GgufValue* find(std::string_view key) const;
};

// The lmpress DType of a ggml tensor type number, or nullopt (F32 0, F16 1, Q4_0 2, Q8_0 8, Q4_K 12,
// Q6_K 14, BF16 30).
std::optional<DType> ggml_type_dtype(uint32_t type);
// "Q4_K" for a ggml type number, or "type N" for one this table does not name.
std::string ggml_type_name(uint32_t type);

GgufFile read_gguf(const std::string& path);

}  // namespace lmp
