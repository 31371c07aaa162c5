#include "io/checkpoint.h"

#include <cstdio>
#include <cstring>
#include <filesystem>

#include "core/error.h"
#include "io/checkpoint_impl.h"
#include "io/checkpoint_validate.h"
#include "io/gguf_checkpoint.h"
#include "io/hf_checkpoint.h"
#include "io/llama2c.h"
#include "io/tensor_convert.h"
#include "io/printable.h"

namespace lmp {

namespace fs = std::filesystem;

struct CheckpointBuilder {
  static Checkpoint build(const std::string& path, LoadedCheckpoint c) {
    Checkpoint out;
    out.path_ = path;
    out.format_ = c.format;
    out.config_ = std::move(c.config);
    out.tokenizer_ = std::move(c.tokenizer);
    out.metadata_ = std::move(c.metadata);
    out.metadata_["format"] = format_name(c.format);
    out.impl_ = std::make_unique<CheckpointImpl>();
    out.impl_->tensors = std::move(c.tensors);
    return out;
  }
};

namespace {

bool has_extension(const std::string& path, const char* ext) {
  return fs::path(path).extension() == ext;
}

// First four bytes of a file ("" when shorter or unreadable).
std::string sniff(const std::string& path) {
  char buf[4] = {};
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return "";
  const size_t n = std::fread(buf, 1, 4, f);
  std::fclose(f);
  return std::string(buf, n);
}

LoadedCheckpoint load_any(const std::string& path, const OpenOptions& opts) {
  std::error_code ec;
  const auto st = fs::status(path, ec);
  LMP_CHECK(!ec && fs::exists(st), "checkpoint ", path, ": no such file or directory");
  if (fs::is_directory(st)) return open_hf_checkpoint(path);
  LMP_CHECK(fs::is_regular_file(st), "checkpoint ", path, ": not a regular file or directory");
  const std::string magic = sniff(path);
  if (magic == "GGUF" || has_extension(path, ".gguf")) return open_gguf_checkpoint(path);
  LMP_CHECK(magic != std::string("PK\x03\x04", 4), "checkpoint ", path,
            ": a PyTorch (zip) checkpoint; convert it to safetensors (HF directory) first");
  if (magic == "24ka" || has_extension(path, ".bin")) return open_llama2c_checkpoint(path, opts);
  LMP_CHECK(!has_extension(path, ".safetensors"), "checkpoint ", path,
            ": a bare .safetensors file has no config; open the directory that holds it and config.json");
  fail("checkpoint ", path, ": unrecognized format (expected a model directory, a .gguf or a llama2.c .bin)");
}

}  // namespace

std::string format_name(CheckpointFormat f) {
  switch (f) {
    case CheckpointFormat::HF: return "hf-safetensors";
    case CheckpointFormat::GGUF: return "gguf";
    case CheckpointFormat::Llama2c: return "llama2c";
  }
  return "?";
}

void LoadedCheckpoint::add(TensorEntry e, const std::string& what) {
  const std::string name = e.info.name;
  LMP_CHECK(tensors.emplace(name, std::move(e)).second, what, ": tensor ", printable(name), " appears twice");
}

Checkpoint Checkpoint::open(const std::string& path, const OpenOptions& opts) {
  LoadedCheckpoint c = load_any(path, opts);
  validate_checkpoint(c, path);
  return CheckpointBuilder::build(path, std::move(c));
}

bool Checkpoint::has(const std::string& name) const { return impl_ && impl_->tensors.count(name) > 0; }

const TensorInfo& Checkpoint::info(const std::string& name) const {
  LMP_CHECK(impl_, "checkpoint: not opened");
  auto it = impl_->tensors.find(name);
  LMP_CHECK(it != impl_->tensors.end(), "checkpoint ", path_, ": no tensor named ", printable(name));
  return it->second.info;
}

std::vector<std::string> Checkpoint::tensor_names() const {
  std::vector<std::string> out;
  if (!impl_) return out;
  out.reserve(impl_->tensors.size());
  for (const auto& [name, e] : impl_->tensors) out.push_back(name);
  return out;
}

std::string Checkpoint::packing(const std::string& name) const {
  info(name);
  const TensorEntry& e = impl_->tensors.at(name);
  return e.derived ? e.derived->packing() : "";
}

Tensor Checkpoint::raw(const std::string& name) const {
  const TensorInfo& i = info(name);
  const TensorEntry& e = impl_->tensors.at(name);
  LMP_CHECK(!e.derived, "checkpoint ", path_, ": ", printable(name), ": stored packed (", e.derived->packing(), " in ",
            i.file_name, " and its companions); only its f32 values can be loaded");
  return Tensor::view(i.dtype, i.shape, e.data, e.owner);
}

Tensor Checkpoint::load_f32(const std::string& name, Tensor reuse) const {
  const TensorInfo& i = info(name);
  const TensorEntry& e = impl_->tensors.at(name);
  if (e.derived) return e.derived->load_f32(std::move(reuse));
  LMP_CHECK(convertible_to_f32(i.dtype), "checkpoint ", path_, ": ", printable(name), ": dtype ", dtype_name(i.dtype),
            " cannot be converted to f32");
  Tensor out = Tensor::f32_buffer(i.shape, std::move(reuse));  // every value written below
  const int64_t n = out.numel();
  if (n == 0) return out;
  int64_t cols = i.shape.empty() ? 1 : i.shape.back();
  if (i.interleaved_heads > 0) cols = n / i.shape[0];
  convert_rows_to_f32(i.dtype, e.data, n / cols, cols, i.interleaved_heads, out.f32());
  e.release_pages();
  return out;
}

bool Checkpoint::load_factors(const std::string& name, Tensor& a, Tensor& b) const {
  info(name);  // names an absent tensor
  const TensorEntry& e = impl_->tensors.at(name);
  return e.derived && e.derived->load_factors(a, b);
}

Checkpoint::Checkpoint() = default;
Checkpoint::~Checkpoint() = default;
Checkpoint::Checkpoint(Checkpoint&&) noexcept = default;
Checkpoint& Checkpoint::operator=(Checkpoint&&) noexcept = default;

}  // namespace lmp
