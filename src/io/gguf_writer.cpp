// GGUF v3 writer (layout: ggml docs/gguf.md): "GGUF", u32 version, u64 tensor count, u64 kv count, the
// key/values, the tensor infos (name, n_dims, ne innermost first, type, offset relative to the data
// section), padding to the alignment, then the tensor data, each tensor padded to the alignment.
#include "io/gguf_writer.h"

#include <cstdio>
#include <filesystem>

#include "core/error.h"
#include "io/gguf.h"
#include "io/gguf_quant.h"

namespace lmp {

namespace {

template <typename T>
void put(std::string& s, T v) {
  s.append(reinterpret_cast<const char*>(&v), sizeof v);
}

void put_str(std::string& s, const std::string& v) {
  put<uint64_t>(s, v.size());
  s += v;
}

uint64_t align_up(uint64_t n, uint64_t a) { return (n + a - 1) / a * a; }

}  // namespace

const char* ggml_type_str(GgmlType t) {
  switch (t) {
    case GgmlType::F32: return "F32";
    case GgmlType::F16: return "F16";
    case GgmlType::Q4_0: return "Q4_0";
    case GgmlType::Q8_0: return "Q8_0";
    case GgmlType::Q4_K: return "Q4_K";
    case GgmlType::Q6_K: return "Q6_K";
  }
  return "?";
}

// The block sizes are core/dtype's, through the reader's type-number mapping.
uint64_t ggml_row_bytes(GgmlType t, uint64_t n) {
  const std::optional<DType> dt = ggml_type_dtype(uint32_t(t));
  if (!dt) fail("gguf writer: unknown ggml type ", uint32_t(t));
  const uint64_t block = dtype_block_elems(*dt);
  LMP_CHECK(n % block == 0, "gguf writer: ", ggml_type_str(t), " needs rows of a multiple of ", block,
            " elements, found ", n);
  return n / block * dtype_block_bytes(*dt);
}

GgufFileWriter::GgufFileWriter(std::string path) : path_(std::move(path)), tmp_(path_ + ".tmp") {}

GgufFileWriter::~GgufFileWriter() {
  if (finished_) return;
  if (f_.is_open()) f_.close();
  std::error_code ec;
  std::filesystem::remove(tmp_, ec);
}

void GgufFileWriter::key(const std::string& k, uint32_t type) {
  LMP_CHECK(!started_, "gguf writer ", path_, ": metadata key ", k, " added after the data section began");
  LMP_CHECK(!keys_.count(k), "gguf writer ", path_, ": duplicate metadata key ", k);
  keys_[k] = true;
  put_str(kv_, k);
  put(kv_, type);
  ++n_kv_;
}

void GgufFileWriter::kv_u32(const std::string& k, uint32_t v) { key(k, uint32_t(GgufType::U32)); put(kv_, v); }
void GgufFileWriter::kv_i32(const std::string& k, int32_t v) { key(k, uint32_t(GgufType::I32)); put(kv_, v); }
void GgufFileWriter::kv_f32(const std::string& k, float v) { key(k, uint32_t(GgufType::F32)); put(kv_, v); }
void GgufFileWriter::kv_bool(const std::string& k, bool v) { key(k, uint32_t(GgufType::BOOL)); put<uint8_t>(kv_, v); }
void GgufFileWriter::kv_str(const std::string& k, const std::string& v) { key(k, uint32_t(GgufType::STRING)); put_str(kv_, v); }

void GgufFileWriter::kv_str_array(const std::string& k, const std::vector<std::string>& v) {
  key(k, uint32_t(GgufType::ARRAY));
  put(kv_, uint32_t(GgufType::STRING));
  put<uint64_t>(kv_, v.size());
  for (const std::string& s : v) put_str(kv_, s);
}

void GgufFileWriter::kv_f32_array(const std::string& k, const std::vector<float>& v) {
  key(k, uint32_t(GgufType::ARRAY));
  put(kv_, uint32_t(GgufType::F32));
  put<uint64_t>(kv_, v.size());
  for (float x : v) put(kv_, x);
}

void GgufFileWriter::kv_i32_array(const std::string& k, const std::vector<int32_t>& v) {
  key(k, uint32_t(GgufType::ARRAY));
  put(kv_, uint32_t(GgufType::I32));
  put<uint64_t>(kv_, v.size());
  for (int32_t x : v) put(kv_, x);
}

void GgufFileWriter::add_tensor(const std::string& name, const Shape& shape, GgmlType type) {
  LMP_CHECK(!started_, "gguf writer ", path_, ": tensor ", name, " declared after the data section began");
  LMP_CHECK(!tensors_.count(name), "gguf writer ", path_, ": duplicate tensor ", name);
  LMP_CHECK(!shape.empty() && shape.size() <= 4, "gguf writer ", path_, ": tensor ", name,
            ": expected 1 to 4 dimensions, found ", shape.size());
  Info info{shape, type};
  const uint64_t row = uint64_t(shape.back());
  info.nbytes = ggml_row_bytes(type, row) * (uint64_t(shape_numel(shape)) / std::max<uint64_t>(row, 1));
  info.offset = data_size_;
  data_size_ = align_up(data_size_ + info.nbytes, kAlignment);
  tensors_[name] = info;
  order_.push_back(name);
}

void GgufFileWriter::begin_data() {
  LMP_CHECK(!started_, "gguf writer ", path_, ": begin_data called twice");
  std::string h = "GGUF";
  put<uint32_t>(h, 3);
  put<uint64_t>(h, order_.size());
  put<uint64_t>(h, n_kv_);
  h += kv_;
  for (const std::string& name : order_) {
    const Info& t = tensors_.at(name);
    put_str(h, name);
    put<uint32_t>(h, uint32_t(t.shape.size()));
    for (size_t d = t.shape.size(); d-- > 0;) put<uint64_t>(h, uint64_t(t.shape[d]));  // innermost first
    put(h, uint32_t(t.type));
    put(h, t.offset);
  }
  h.append(align_up(h.size(), kAlignment) - h.size(), '\0');
  data_offset_ = h.size();
  f_.open(tmp_, std::ios::binary | std::ios::trunc);
  LMP_CHECK(f_.is_open(), "gguf writer: cannot create ", tmp_);
  f_.write(h.data(), std::streamsize(h.size()));
  LMP_CHECK(f_.good(), "gguf writer: cannot write ", tmp_);
  started_ = true;
}

void GgufFileWriter::write_tensor(const std::string& name, const void* data, uint64_t nbytes) {
  LMP_CHECK(started_ && !finished_, "gguf writer ", path_, ": write_tensor(", name, ") outside the data section");
  const auto it = tensors_.find(name);
  LMP_CHECK(it != tensors_.end(), "gguf writer ", path_, ": tensor ", name, " was not declared");
  Info& t = it->second;
  LMP_CHECK(!t.written, "gguf writer ", path_, ": tensor ", name, " written twice");
  LMP_CHECK(nbytes == t.nbytes, "gguf writer ", path_, ": tensor ", name, ": expected ", t.nbytes, " bytes (",
            ggml_type_str(t.type), " ", shape_str(t.shape), "), found ", nbytes);
  f_.seekp(std::streamoff(data_offset_ + t.offset));
  f_.write(static_cast<const char*>(data), std::streamsize(nbytes));
  LMP_CHECK(f_.good(), "gguf writer: cannot write tensor ", name, " to ", tmp_);
  t.written = true;
}

void GgufFileWriter::finish() {
  LMP_CHECK(started_ && !finished_, "gguf writer ", path_, ": finish() before begin_data() or twice");
  for (const std::string& name : order_)
    LMP_CHECK(tensors_.at(name).written, "gguf writer ", path_, ": tensor ", name, " was never written");
  // Zero padding up to the end of the (aligned) data section.
  f_.seekp(0, std::ios::end);
  const uint64_t end = uint64_t(f_.tellp()), want = data_offset_ + data_size_;
  if (end < want) f_.write(std::string(want - end, '\0').data(), std::streamsize(want - end));
  f_.close();
  LMP_CHECK(!f_.fail(), "gguf writer: cannot finish ", tmp_);
  std::error_code ec;
  std::filesystem::rename(tmp_, path_, ec);
  LMP_CHECK(!ec, "gguf writer: cannot rename ", tmp_, " to ", path_, ": ", ec.message());
  finished_ = true;
}

}  // namespace lmp
