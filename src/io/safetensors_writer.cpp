// write_safetensors: header JSON padded with spaces to a multiple of 8 bytes (as the reference
// implementation does), then the tensors' bytes back to back in the given order.
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "core/error.h"
#include "io/safetensors.h"

namespace lmp {

namespace {

using ordered_json = nlohmann::ordered_json;

std::string build_header(const std::string& path, const std::vector<SafetensorsSource>& tensors,
                         const std::map<std::string, std::string>& metadata) {
  ordered_json h = ordered_json::object();
  if (!metadata.empty()) {
    ordered_json m = ordered_json::object();
    for (const auto& [k, v] : metadata) m[k] = v;
    h["__metadata__"] = m;
  }
  std::set<std::string> seen;
  uint64_t offset = 0;
  for (const SafetensorsSource& t : tensors) {
    LMP_CHECK(t.name != "__metadata__" && seen.insert(t.name).second, "safetensors ", path,
              ": duplicate or reserved tensor name ", t.name);
    const uint64_t nbytes = dtype_nbytes(t.dtype, size_t(shape_numel(t.shape)));
    ordered_json e;
    e["dtype"] = safetensors_dtype_name(t.dtype);
    e["shape"] = t.shape;
    e["data_offsets"] = {offset, offset + nbytes};
    offset += nbytes;
    h[t.name] = e;
  }
  std::string s = h.dump();
  s.append((8 - s.size() % 8) % 8, ' ');
  return s;
}

// Closes the FILE* and removes the temporary on any exit but a successful commit.
struct TmpFile {
  std::string path;
  std::FILE* f = nullptr;
  bool committed = false;
  ~TmpFile() {
    if (f) std::fclose(f);
    if (!committed) std::remove(path.c_str());
  }
};

void write_all(TmpFile& tmp, const void* data, size_t n, const std::string& what) {
  if (n && std::fwrite(data, 1, n, tmp.f) != n) fail("safetensors ", tmp.path, ": write failed for ", what);
}

}  // namespace

void write_safetensors(const std::string& path, const std::vector<std::pair<std::string, Tensor>>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  std::vector<SafetensorsSource> sources;
  sources.reserve(tensors.size());
  for (const auto& [name, t] : tensors) {
    LMP_CHECK(!t.empty() || t.numel() == 0, "safetensors ", path, ": ", name, ": tensor has no data");
    sources.push_back({name, t.dtype(), t.shape(), [&t] { return t; }});
  }
  write_safetensors_from(path, sources, metadata);
}

void write_safetensors_from(const std::string& path, const std::vector<SafetensorsSource>& tensors,
                            const std::map<std::string, std::string>& metadata) {
  const std::string header = build_header(path, tensors, metadata);
  TmpFile tmp{path + ".tmp"};
  tmp.f = std::fopen(tmp.path.c_str(), "wb");
  LMP_CHECK(tmp.f, "safetensors ", path, ": cannot create ", tmp.path);
  const uint64_t len = header.size();
  write_all(tmp, &len, 8, "the header length");
  write_all(tmp, header.data(), header.size(), "the header");
  for (const SafetensorsSource& src : tensors) {
    const Tensor t = src.load();
    LMP_CHECK(t.dtype() == src.dtype && t.shape() == src.shape, "safetensors ", path, ": ", src.name, " loaded as ",
              dtype_name(t.dtype()), " ", shape_str(t.shape()), ", its header entry says ", dtype_name(src.dtype), " ",
              shape_str(src.shape));
    write_all(tmp, t.data(), t.nbytes(), src.name);
  }
  const bool ok = std::fflush(tmp.f) == 0;
  const bool closed = std::fclose(tmp.f) == 0;
  tmp.f = nullptr;
  LMP_CHECK(ok && closed, "safetensors ", path, ": write failed (disk full?)");
  std::error_code ec;
  std::filesystem::rename(tmp.path, path, ec);
  LMP_CHECK(!ec, "safetensors ", path, ": cannot rename ", tmp.path, ": ", ec.message());
  tmp.committed = true;
}

}  // namespace lmp
