#include "calib/calib_set.h"

#include <cstring>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "io/safetensors.h"

namespace lmp {

void write_calib_set(const std::string& path, const Selection& sel, const SelectOptions& opts,
                     const std::string& tokenizer, const std::map<std::string, std::string>& extra) {
  LMP_CHECK(int64_t(sel.input_ids.size()) == sel.n * sel.seq, "calib set ", path, ": expected ", sel.n * sel.seq,
            " token ids for [", sel.n, ", ", sel.seq, "], found ", sel.input_ids.size());
  Tensor ids = Tensor::zeros(DType::I32, {sel.n, sel.seq});
  std::memcpy(ids.mutable_data(), sel.input_ids.data(), sel.input_ids.size() * sizeof(int32_t));
  std::map<std::string, std::string> meta = extra;
  meta["method"] = opts.method;
  meta["seed"] = std::to_string(opts.seed);
  meta["n"] = std::to_string(sel.n);
  meta["seq"] = std::to_string(sel.seq);
  meta["tokenizer"] = tokenizer;
  meta["source_indices"] = nlohmann::json(sel.source_indices).dump();
  write_safetensors(path, {{"input_ids", ids}}, meta);
}

namespace {

std::vector<int64_t> parse_source_indices(const std::string& path, const std::string& s, int64_t n) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(s);
  } catch (const nlohmann::json::exception&) {
    fail("calib set ", path, ": metadata 'source_indices' is not valid JSON");
  }
  LMP_CHECK(j.is_array() && int64_t(j.size()) == n, "calib set ", path,
            ": metadata 'source_indices': expected a list of ", n, " integers");
  std::vector<int64_t> out;
  for (const auto& v : j) {
    LMP_CHECK(v.is_number_integer(), "calib set ", path, ": metadata 'source_indices': expected integers, found ", v.dump());
    out.push_back(v.get<int64_t>());
  }
  return out;
}

}  // namespace

CalibSet read_calib_set(const std::string& path, int64_t vocab_size) {
  const SafetensorsFile f = read_safetensors(path);
  const SafetensorsEntry* e = f.find("input_ids");
  LMP_CHECK(e, "calib set ", path, ": no tensor 'input_ids'");
  LMP_CHECK(e->dtype == DType::I32 || e->dtype == DType::I64, "calib set ", path,
            ": 'input_ids': expected dtype I32 or I64, found ", safetensors_dtype_name(e->dtype));
  LMP_CHECK(e->shape.size() == 2 && e->shape[0] > 0 && e->shape[1] > 0, "calib set ", path,
            ": 'input_ids': expected shape [N, L] with N, L > 0, found ", shape_str(e->shape));
  const Tensor t = f.tensor("input_ids");
  CalibSet out;
  out.n = e->shape[0];
  out.seq = e->shape[1];
  out.metadata = f.metadata;
  out.input_ids.resize(size_t(out.n * out.seq));
  for (int64_t i = 0; i < out.n * out.seq; ++i) {
    int64_t id;
    if (e->dtype == DType::I32) {
      int32_t v;
      std::memcpy(&v, static_cast<const char*>(t.data()) + i * 4, 4);
      id = v;
    } else {
      std::memcpy(&id, static_cast<const char*>(t.data()) + i * 8, 8);
    }
    LMP_CHECK(id >= 0 && (vocab_size <= 0 || id < vocab_size) && id <= INT32_MAX, "calib set ", path,
              ": input_ids[", i / out.seq, ", ", i % out.seq, "] = ", id, " is outside the vocabulary [0, ",
              vocab_size, ")");
    out.input_ids[size_t(i)] = int32_t(id);
  }
  auto it = f.metadata.find("source_indices");
  if (it != f.metadata.end()) out.source_indices = parse_source_indices(path, it->second, out.n);
  return out;
}

}  // namespace lmp
