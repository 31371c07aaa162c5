// FloatStore (io/float_store.h): a spilled array reads back what was written after its pages are
// released, copies are deep and of the same kind, moves keep the data, and a scratch directory that
// cannot be used is a one-line error naming it.
#include "io/float_store.h"

#include <gtest/gtest.h>

#include <numeric>
#include <vector>

#include "core/error.h"
#include "test_util.h"

namespace lmp {
namespace {

TEST(FloatStore, SpilledPagesComeBackAfterRelease) {
  const size_t n = (size_t(1) << 20) + 3;  // 4 MiB and a partial page
  FloatStore s = FloatStore::spilled(n, test::temp_dir("float-store"), "test");
  ASSERT_TRUE(s.is_spilled());
  ASSERT_EQ(s.size(), n);
  EXPECT_EQ(s.data()[n - 1], 0.0f);  // zeros to begin with
  std::iota(s.data(), s.data() + n, 0.0f);
  s.release(0, n);
  std::vector<float> expect(n);
  std::iota(expect.begin(), expect.end(), 0.0f);
  EXPECT_EQ(s.to_vector(), expect);
  const FloatStore copy = s;
  EXPECT_TRUE(copy.is_spilled());
  EXPECT_NE(copy.data(), s.data());
  EXPECT_EQ(copy.to_vector(), expect);
  FloatStore moved = std::move(s);
  EXPECT_TRUE(moved.is_spilled());
  EXPECT_EQ(moved.to_vector(), expect);
  EXPECT_TRUE(s.empty());  // NOLINT(bugprone-use-after-move): a moved-from store is empty
}

TEST(FloatStore, InMemoryCopiesAndReleaseIsANoOp) {
  FloatStore m = FloatStore::in_memory(std::vector<float>{1, 2, 3});
  EXPECT_FALSE(m.is_spilled());
  m.release(0, 3);
  FloatStore c = m;
  c.data()[0] = 9;
  EXPECT_EQ(m.to_vector(), (std::vector<float>{1, 2, 3}));
  EXPECT_EQ(c.to_vector(), (std::vector<float>{9, 2, 3}));
}

TEST(FloatStore, UnusableScratchDirectoryNamesIt) {
  EXPECT_EQ(test::error_of([] { FloatStore::spilled(16, "/nonexistent-dir", "compress"); }),
            "compress: cannot create a scratch file in /nonexistent-dir: No such file or directory");
}

}  // namespace
}  // namespace lmp
