#include "calib/calib_set.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>

#include "calib/zipcal.h"
#include "calib_fixtures.h"
#include "core/error.h"
#include "io/safetensors.h"

namespace lmp {
namespace {

TEST(CalibSet, SelectorOutputRoundTrips) {
  LMP_REQUIRE_SHARED();
  const Tokenizer& tok = test::lm_s_tokenizer();
  const TypeTable types(tok);
  SelectOptions o;
  o.n = 3;
  o.seq = 50;
  o.seed = 9;
  const Selection s = select_zipcal(test::heldout_pool("calibset", 20), tok, types, o, false);
  const std::string path = test::temp_dir("calibset_out") + "/c.safetensors";
  write_calib_set(path, s, o, "models/lm-s");
  const CalibSet c = read_calib_set(path, tok.vocab_size());
  EXPECT_EQ(c.n, 3);
  EXPECT_EQ(c.seq, 50);
  EXPECT_EQ(c.input_ids, s.input_ids);
  EXPECT_EQ(c.source_indices, s.source_indices);
  EXPECT_EQ(c.metadata.at("method"), "zipcal");
  EXPECT_EQ(c.metadata.at("seed"), "9");
  EXPECT_EQ(c.metadata.at("tokenizer"), "models/lm-s");
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
}

TEST(CalibSet, ReadsTheSharedReferenceSet) {
  LMP_REQUIRE_SHARED();
  const CalibSet c = read_calib_set(test::shared_path("reference/calib_128x512.safetensors"), 32000);
  EXPECT_EQ(c.n, 128);
  EXPECT_EQ(c.seq, 512);
  EXPECT_EQ(c.input_ids.size(), size_t(128 * 512));
}

TEST(CalibSet, IdsBeyondVocabularyAndBadTensorsFail) {
  const std::string dir = test::temp_dir("calibset_bad");
  Tensor t = Tensor::zeros(DType::I32, {2, 3});
  auto* p = static_cast<int32_t*>(t.mutable_data());
  p[4] = 500;
  write_safetensors(dir + "/big.safetensors", {{"input_ids", t}});
  try {
    read_calib_set(dir + "/big.safetensors", 100);
    FAIL();
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("big.safetensors"), std::string::npos) << m;
    EXPECT_NE(m.find("input_ids[1, 1] = 500"), std::string::npos) << m;
  }
  EXPECT_NO_THROW(read_calib_set(dir + "/big.safetensors", 501));
  write_safetensors(dir + "/noids.safetensors", {{"tokens", t}});
  EXPECT_THROW(read_calib_set(dir + "/noids.safetensors", 1000), Error);
  write_safetensors(dir + "/f32.safetensors", {{"input_ids", Tensor::from_f32({2}, {1, 2})}});
  EXPECT_THROW(read_calib_set(dir + "/f32.safetensors", 1000), Error);
  write_safetensors(dir + "/meta.safetensors", {{"input_ids", Tensor::zeros(DType::I32, {2, 3})}},
                    {{"source_indices", "[1]"}});
  EXPECT_THROW(read_calib_set(dir + "/meta.safetensors", 1000), Error);
}

}  // namespace
}  // namespace lmp
