#include "export/disk_size.h"

#include <filesystem>

#include "core/error.h"
#include "io/gguf.h"
#include "io/gguf_names.h"
#include "io/safetensors.h"

namespace fs = std::filesystem;

namespace lmp {

namespace {

// "model.layers.0.self_attn.q_proj.weight" -> "model.layers.0.self_attn.q_proj."
std::set<std::string> prefixes(const std::set<std::string>& linears) {
  std::set<std::string> p;
  for (const std::string& l : linears) {
    const size_t dot = l.rfind('.');
    p.insert(dot == std::string::npos ? l + "." : l.substr(0, dot + 1));
  }
  return p;
}

bool belongs(const std::set<std::string>& pre, const std::string& name) {
  auto it = pre.upper_bound(name);  // the longest prefix <= name sorts just before it
  if (it == pre.begin()) return false;
  --it;
  return name.compare(0, it->size(), *it) == 0;
}

void add_safetensors_dir(const fs::path& dir, const std::set<std::string>& pre, DiskSize& d) {
  for (const auto& f : fs::directory_iterator(dir)) {
    if (f.path().extension() != ".safetensors") continue;
    d.file_bytes += uint64_t(fs::file_size(f.path()));
    for (const SafetensorsEntry& e : read_safetensors(f.path().string()).entries)
      if (belongs(pre, e.name)) d.linear_bytes += e.nbytes;
  }
}

void add_gguf(const fs::path& file, const std::set<std::string>& pre, DiskSize& d) {
  d.file_bytes += uint64_t(fs::file_size(file));
  for (const GgufTensor& t : read_gguf(file.string()).tensors) {
    const auto hf = hf_name_from_gguf(t.name);
    if (hf && belongs(pre, *hf)) d.linear_bytes += t.nbytes;
  }
}

}  // namespace

DiskSize measure_export(const std::string& path, const std::set<std::string>& linears, uint64_t linear_weights,
                        uint64_t total_weights) {
  DiskSize d;
  d.linear_weights = linear_weights;
  d.total_weights = total_weights;
  const std::set<std::string> pre = prefixes(linears);
  if (fs::is_directory(path)) add_safetensors_dir(path, pre, d);
  else if (fs::is_regular_file(path)) add_gguf(path, pre, d);
  else fail("export size: ", path, ": no such file or directory");
  return d;
}

}  // namespace lmp
