// A scratch file that tensors are appended to and read back from, so that what would otherwise pile up in
// memory (the lmp writer's coded linears until the file is written) lives in the page cache, which the
// kernel can drop, instead of in the process. The file is unlinked as soon as it is created: it takes no
// name in the output, and vanishes with the process however that ends.
#pragma once
#include <cstdint>
#include <string>

#include "core/tensor.h"
#include "io/safetensors.h"

namespace lmp {

class SpillFile {
 public:
  // Where a tensor went.
  struct Slot {
    uint64_t offset = 0;
    DType dtype = DType::F32;
    Shape shape;
  };

  // Creates (and unlinks) `path`; `what` prefixes errors ("export lmp").
  SpillFile(const std::string& path, std::string what);
  ~SpillFile();
  SpillFile(const SpillFile&) = delete;
  SpillFile& operator=(const SpillFile&) = delete;

  Slot append(const Tensor& t);
  // An owning copy of what append() wrote.
  Tensor load(const Slot& s) const;
  // A source for write_safetensors_from that loads the slot when the file is written (this file must
  // outlive the write).
  SafetensorsSource source(const std::string& name, const Slot& s) const;
  // Gives the slot's disk space back (a hole punched in the file) once it is no longer needed.
  void discard(const Slot& s);
  uint64_t bytes() const { return size_; }

 private:
  int fd_ = -1;
  std::string path_, what_;
  uint64_t size_ = 0;
};

}  // namespace lmp
