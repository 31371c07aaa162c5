// GGUF v3 container writer: metadata key/values, tensor infos, then the data section with every tensor
// at an offset aligned to general.alignment (32). Offsets are fixed by the tensor infos, so tensors may
// be written in any order as they become available (block by block). The file is written to
// `path` + ".tmp" and renamed to `path` by finish(), once every tensor was written.
#pragma once
#include <cstdint>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace lmp {

// ggml tensor type numbers this writer emits, and the stored bytes of a row of `n` elements.
enum class GgmlType : uint32_t { F32 = 0, F16 = 1, Q4_0 = 2, Q8_0 = 8, Q4_K = 12, Q6_K = 14 };
uint64_t ggml_row_bytes(GgmlType t, uint64_t n);  // throws unless n fits the type's block size
const char* ggml_type_str(GgmlType t);            // "F32", "F16", "Q4_0", "Q8_0", "Q4_K", "Q6_K"

class GgufFileWriter {
 public:
  static constexpr uint64_t kAlignment = 32;
  explicit GgufFileWriter(std::string path);
  ~GgufFileWriter();  // removes the temporary file when finish() was not reached

  // Metadata, in the order given (before begin_data()). Keys must be unique.
  void kv_u32(const std::string& key, uint32_t v);
  void kv_i32(const std::string& key, int32_t v);
  void kv_f32(const std::string& key, float v);
  void kv_bool(const std::string& key, bool v);
  void kv_str(const std::string& key, const std::string& v);
  void kv_str_array(const std::string& key, const std::vector<std::string>& v);
  void kv_f32_array(const std::string& key, const std::vector<float>& v);
  void kv_i32_array(const std::string& key, const std::vector<int32_t>& v);

  // Declares a tensor (before begin_data()); `shape` outermost first ([out, in]), as Tensor shapes.
  void add_tensor(const std::string& name, const Shape& shape, GgmlType type);
  // Writes the header, the tensor infos and the padding; afterwards only write_tensor() and finish().
  void begin_data();
  // The stored bytes of a declared tensor; `nbytes` must be exactly its size.
  void write_tensor(const std::string& name, const void* data, uint64_t nbytes);
  // Checks every tensor was written, pads the file, closes it and renames it to the final path.
  void finish();

 private:
  struct Info {
    Shape shape;
    GgmlType type;
    uint64_t offset = 0, nbytes = 0;
    bool written = false;
  };
  void key(const std::string& k, uint32_t type);

  std::string path_, tmp_;
  std::string kv_;  // encoded key/values
  uint64_t n_kv_ = 0;
  std::vector<std::string> order_;
  std::map<std::string, Info> tensors_;
  std::map<std::string, bool> keys_;
  uint64_t data_offset_ = 0, data_size_ = 0;
  std::ofstream f_;
  bool started_ = false, finished_ = false;
};

}  // namespace lmp
