// Reading a checkpoint tensor by tensor leaves its file pages out of the resident set: each tensor's
// mapped pages are dropped once converted (MappedFile::release), so RSS does not creep up with the file.
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <string>

#include "io/checkpoint.h"
#include "test_util.h"

namespace {

// RssFile of this process in KiB (/proc/self/status): resident pages backed by files.
int64_t rss_file_kib() {
  std::ifstream f("/proc/self/status");
  std::string key;
  int64_t kib = 0;
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("RssFile:", 0) == 0) return std::stoll(line.substr(8));
  return kib;
}

TEST(PageRelease, LoadingEveryTensorLeavesTheFileOutOfTheResidentSet) {
  LMP_REQUIRE_SHARED();
  const lmp::Checkpoint ck = lmp::Checkpoint::open(lmp::test::shared_path("models/lm-m"));
  int64_t file_kib = 0;
  for (const std::string& name : ck.tensor_names()) file_kib += int64_t(ck.info(name).nbytes / 1024);
  ASSERT_GT(file_kib, 40 * 1024) << "lm-m should hold tens of MB of weights";
  const int64_t before = rss_file_kib();
  double checksum = 0;
  for (const std::string& name : ck.tensor_names()) checksum += double(ck.load_f32(name).f32()[0]);
  const int64_t grown = rss_file_kib() - before;
  EXPECT_LT(grown, file_kib / 10) << "RssFile grew by " << grown << " KiB reading " << file_kib
                                  << " KiB of tensors (checksum " << checksum << ")";
  // The bytes come back when read again: the same values after the pages were dropped.
  for (const std::string& name : ck.tensor_names()) {
    const lmp::Tensor a = ck.load_f32(name), b = ck.load_f32(name);
    ASSERT_EQ(0, std::memcmp(a.data(), b.data(), size_t(a.numel()) * 4)) << name;
  }
}

}  // namespace
