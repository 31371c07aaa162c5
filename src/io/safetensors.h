// Safetensors: reader (memory-mapped, zero-copy) and writer (to path + ".tmp", then renamed).
// Format: u64 little-endian header length N, N bytes of JSON {name: {dtype, shape, data_offsets},
// "__metadata__": {str: str}}, then the data section; offsets are relative to its start.
#pragma once
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/tensor.h"
#include "io/mapped_file.h"

namespace lmp {

struct SafetensorsEntry {
  std::string name;
  DType dtype;
  Shape shape;
  uint64_t offset = 0;  // absolute byte offset in the file
  uint64_t nbytes = 0;
};

struct SafetensorsFile {
  std::shared_ptr<const MappedFile> file;
  std::vector<SafetensorsEntry> entries;         // in data-offset order
  std::map<std::string, std::string> metadata;   // "__metadata__"

  const std::string& path() const { return file->path(); }
  const SafetensorsEntry* find(const std::string& name) const;
  // A read-only view of one tensor (keeps the mapping alive); throws naming the tensor if absent.
  Tensor tensor(const std::string& name) const;
};

// Parses and validates the header of `path` (dtypes, shapes, offsets against the file size).
SafetensorsFile read_safetensors(const std::string& path);

// Safetensors dtype string <-> DType ("BF16"); nullopt for a string lmpress does not know.
std::optional<DType> safetensors_dtype(const std::string& s);
std::string safetensors_dtype_name(DType t);  // throws for block-quantized types

// Writes `tensors` in the given order with `metadata` as "__metadata__" to `path` + ".tmp" and renames
// it to `path` once complete. Names must be unique; block-quantized dtypes are rejected.
void write_safetensors(const std::string& path, const std::vector<std::pair<std::string, Tensor>>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

// A tensor whose bytes are loaded only when the writer reaches it (write_safetensors_from), so that a
// file larger than memory is written holding one tensor at a time.
struct SafetensorsSource {
  std::string name;
  DType dtype;
  Shape shape;
  std::function<Tensor()> load;  // must return a tensor of exactly this dtype and shape
};
void write_safetensors_from(const std::string& path, const std::vector<SafetensorsSource>& tensors,
                            const std::map<std::string, std::string>& metadata = {});

}  // namespace lmp
