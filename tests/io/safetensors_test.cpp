#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <functional>

#include "core/error.h"
#include "io/safetensors.h"
#include "test_util.h"

namespace lmp {
namespace {

// A file with the given header JSON and `data_bytes` zero bytes of data.
std::string with_header(const std::string& header, size_t data_bytes) {
  std::string s(8, '\0');
  const uint64_t n = header.size();
  std::memcpy(&s[0], &n, 8);
  return s + header + std::string(data_bytes, '\0');
}

std::string write_tmp(const std::string& tag, const std::string& bytes) {
  const std::string path = test::temp_dir(tag) + "/t.safetensors";
  test::write_file(path, bytes);
  return path;
}

TEST(Safetensors, WriterRoundTrip) {
  const std::string path = test::temp_dir("st-rt") + "/out.safetensors";
  Tensor a = Tensor::from_f32({2, 3}, {1, -2, 3.5f, 4, 5, 6});
  Tensor b = Tensor::zeros(DType::BF16, {5});
  for (int i = 0; i < 5; ++i) static_cast<uint16_t*>(b.mutable_data())[i] = f32_to_bf16(float(i) - 2);
  Tensor c = Tensor::zeros(DType::I32, {1, 1});
  static_cast<int32_t*>(c.mutable_data())[0] = -42;
  Tensor e = Tensor::zeros(DType::U8, {0});
  write_safetensors(path, {{"z.first", a}, {"a.second", b}, {"ids", c}, {"empty", e}}, {{"format", "pt"}, {"k", "v"}});
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
  const SafetensorsFile f = read_safetensors(path);
  EXPECT_EQ(f.metadata, (std::map<std::string, std::string>{{"format", "pt"}, {"k", "v"}}));
  ASSERT_EQ(f.entries.size(), 4u);
  EXPECT_EQ(f.entries[0].name, "z.first");  // data order is the given order
  EXPECT_EQ(f.entries[1].name, "a.second");
  EXPECT_EQ((8 + f.entries[0].offset) % 8, 0u);  // header padded to 8 bytes
  const Tensor ra = f.tensor("z.first"), rb = f.tensor("a.second"), rc = f.tensor("ids");
  EXPECT_EQ(ra.shape(), (Shape{2, 3}));
  EXPECT_EQ(rb.dtype(), DType::BF16);
  EXPECT_EQ(std::memcmp(ra.data(), a.data(), a.nbytes()), 0);
  EXPECT_EQ(std::memcmp(rb.data(), b.data(), b.nbytes()), 0);
  EXPECT_EQ(*static_cast<const int32_t*>(rc.data()), -42);
  EXPECT_EQ(f.tensor("empty").numel(), 0);
  // Writing what was read gives the same bytes.
  const std::string path2 = test::temp_dir("st-rt2") + "/out.safetensors";
  write_safetensors(path2, {{"z.first", ra}, {"a.second", rb}, {"ids", rc}, {"empty", f.tensor("empty")}}, f.metadata);
  EXPECT_EQ(test::read_file(path), test::read_file(path2));
}

TEST(Safetensors, ViewOutlivesTheFileObject) {
  const std::string path = test::temp_dir("st-view") + "/v.safetensors";
  write_safetensors(path, {{"x", Tensor::from_f32({2}, {7, 8})}});
  Tensor t;
  { t = read_safetensors(path).tensor("x"); }
  EXPECT_EQ(static_cast<const float*>(t.data())[1], 8.0f);
}

TEST(Safetensors, WriterRejectsDuplicatesAndQuantTypes) {
  const std::string path = test::temp_dir("st-dup") + "/d.safetensors";
  const Tensor a = Tensor::from_f32({1}, {1});
  EXPECT_EQ(test::error_of([&] { write_safetensors(path, {{"x", a}, {"x", a}}); }),
            "safetensors " + path + ": duplicate or reserved tensor name x");
  EXPECT_EQ(test::error_of([&] { write_safetensors(path, {{"q", Tensor::zeros(DType::Q8_0, {32})}}); }),
            "safetensors: dtype Q8_0 cannot be stored in safetensors");
  EXPECT_FALSE(std::filesystem::exists(path));
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
}

TEST(Safetensors, TruncatedFile) {
  const std::string full = with_header(R"({"x":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", 16);
  const std::string path = write_tmp("st-trunc", full.substr(0, full.size() - 4));
  EXPECT_EQ(test::error_of([&] { read_safetensors(path); }),
            "safetensors " + path + ": x: data_offsets [0, 16] out of range for a data section of 12 bytes");
  const std::string path2 = write_tmp("st-tiny", "abc");
  EXPECT_EQ(test::error_of([&] { read_safetensors(path2); }),
            "safetensors " + path2 + ": file is 3 bytes, too short for the 8-byte header length");
}

TEST(Safetensors, HeaderLengthBeyondFile) {
  std::string bytes = with_header("{}", 0);
  const uint64_t n = 1000;
  std::memcpy(&bytes[0], &n, 8);
  const std::string path = write_tmp("st-hlen", bytes);
  EXPECT_EQ(test::error_of([&] { read_safetensors(path); }),
            "safetensors " + path + ": header length 1000 exceeds the file size (10 bytes)");
}

TEST(Safetensors, OutOfRangeOffsets) {
  const std::string p1 = write_tmp("st-off1", with_header(R"({"x":{"dtype":"F32","shape":[2],"data_offsets":[8,100]}})", 16));
  EXPECT_EQ(test::error_of([&] { read_safetensors(p1); }),
            "safetensors " + p1 + ": x: data_offsets [8, 100] out of range for a data section of 16 bytes");
  const std::string p2 = write_tmp("st-off2", with_header(R"({"x":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}})", 16));
  EXPECT_EQ(test::error_of([&] { read_safetensors(p2); }),
            "safetensors " + p2 + ": x: data_offsets [8, 0] out of range for a data section of 16 bytes");
  const std::string p3 = write_tmp("st-off3", with_header(R"({"x":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", 16));
  EXPECT_EQ(test::error_of([&] { read_safetensors(p3); }),
            "safetensors " + p3 + ": x: F32 [3] needs 12 bytes, data_offsets span 8");
  const std::string p4 = write_tmp("st-off4", with_header(R"({"x":{"dtype":"F32","shape":[-3],"data_offsets":[0,8]}})", 16));
  EXPECT_EQ(test::error_of([&] { read_safetensors(p4); }),
            "safetensors " + p4 + ": x: shape: expected non-negative integers, found [-3]");
  const std::string p5 = write_tmp("st-off5", with_header(
      R"({"x":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}})", 16));
  EXPECT_EQ(test::error_of([&] { read_safetensors(p5); }),
            "safetensors " + p5 + ": x: shape [4294967296,4294967296] overflows");
}

TEST(Safetensors, UnknownDtype) {
  const std::string path = write_tmp("st-dtype", with_header(R"({"x":{"dtype":"F8_E4M3","shape":[2],"data_offsets":[0,2]}})", 2));
  EXPECT_EQ(test::error_of([&] { read_safetensors(path); }),
            "safetensors " + path +
                ": x: unknown dtype \"F8_E4M3\" (expected F32, F16, BF16, F64, I8, I16, I32, I64, U8 or BOOL)");
}

TEST(Safetensors, NonJsonHeader) {
  const std::string path = write_tmp("st-json", with_header("{not json", 0));
  EXPECT_EQ(test::error_of([&] { read_safetensors(path); }), "safetensors " + path + ": header is not valid JSON");
  const std::string p2 = write_tmp("st-arr", with_header("[1,2]", 0));
  EXPECT_EQ(test::error_of([&] { read_safetensors(p2); }), "safetensors " + p2 + ": header is not a JSON object");
  const std::string p3 = write_tmp("st-meta", with_header(R"({"__metadata__":{"a":1}})", 0));
  EXPECT_EQ(test::error_of([&] { read_safetensors(p3); }),
            "safetensors " + p3 + ": __metadata__.a: expected a string, found 1");
}

TEST(Safetensors, AllRawDtypesParse) {
  const std::string path = write_tmp("st-raw", with_header(
      R"({"a":{"dtype":"F64","shape":[1],"data_offsets":[0,8]},"b":{"dtype":"I64","shape":[1],"data_offsets":[8,16]},)"
      R"("c":{"dtype":"I16","shape":[2],"data_offsets":[16,20]},"d":{"dtype":"BOOL","shape":[4],"data_offsets":[20,24]},)"
      R"("e":{"dtype":"I8","shape":[],"data_offsets":[24,25]}})", 25));
  const SafetensorsFile f = read_safetensors(path);
  ASSERT_EQ(f.entries.size(), 5u);
  EXPECT_EQ(f.find("d")->dtype, DType::BOOL);
  EXPECT_EQ(f.find("e")->shape, Shape{});
  EXPECT_EQ(f.find("e")->nbytes, 1u);
}

TEST(Safetensors, RealShardHeader) {
  LMP_REQUIRE_SHARED();
  const SafetensorsFile f = read_safetensors(test::shared_path("models/lm-s/model-00001-of-00003.safetensors"));
  const SafetensorsEntry* e = f.find("model.embed_tokens.weight");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->dtype, DType::BF16);
  EXPECT_EQ(e->shape, (Shape{32000, 256}));
}

}  // namespace
}  // namespace lmp
