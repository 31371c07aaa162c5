// The lmp checkpoint format, version 1 (docs/lmp-format.md): the per-linear metadata record that
// model.safetensors' __metadata__ holds under "lmp:" + X for every coded linear X, and the names of the
// tensors that carry X's parts. One definition shared by the writer (export/lmp_writer.h) and the
// reader (io/lmp_checkpoint.h).
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

namespace lmp {

inline constexpr int kLmpVersion = 1;                // __metadata__ "lmp_version", config format_version
inline constexpr const char* kLmpRecordPrefix = "lmp:";  // __metadata__ key of X's record: "lmp:" + X

// How the codes of a linear are to be read.
// LowRank is not coded at all: two f32 factors A [out, rank] and B [rank, in], no stream.
enum class LmpCodes { Fp8E4m3, Int, Nf4, LowRank };
const char* lmp_codes_name(LmpCodes c);  // "fp8_e4m3", "int", "nf4", "lowrank" (the record's "codes")

struct LmpRecord {
  LmpCodes codes = LmpCodes::Int;
  int64_t out = 0, in = 0;         // "shape": [out, in]
  std::string method;              // informational: "entquant", "rtn", "gptq", "nf4", a recipe chain
  uint64_t chunk_symbols = 0;      // the rANS chunk size the codes were coded with (not for lowrank)
  uint64_t stream_bytes = 0;       // bytes of X.codes (not for lowrank)
  // fp8_e4m3
  double lambda = 0;
  std::string optimizer;
  bool fallback = false;
  // int (also "bits" of nf4: log2 of the codebook size)
  int bits = 0;
  int64_t group = -1;              // columns per group; -1 = one group per row
  bool sym = false;
  // nf4
  int64_t block = 64;              // consecutive (row-major) weights per absmax
  bool double_quant = false;       // the absmax were double-quantized; X.scales holds them dequantized
  // lowrank
  int64_t rank = 0;                // columns of X.a, rows of X.b, in [1, min(out, in)]

  bool has_stream() const { return codes != LmpCodes::LowRank; }

  int64_t numel() const { return out * in; }
  int64_t n_groups() const { return group <= 0 ? 1 : (in + group - 1) / group; }  // int
  int64_t n_blocks() const { return (numel() + block - 1) / block; }               // nf4
  nlohmann::json to_json() const;
};

// Parses and validates one record; errors are one line starting with `where` ("checkpoint D:
// model.safetensors: lmp:X") and naming the field, expected vs found.
LmpRecord parse_lmp_record(const std::string& text, const std::string& where);

// X's part `part` ("codes", "scales", "zeros", "g_idx", "codebook", "a", "b"): X + "." + part.
std::string lmp_part_name(const std::string& linear, const char* part);
inline constexpr const char* kLmpParts[] = {"codes", "scales", "zeros", "g_idx", "codebook", "a", "b"};

// Bytes the __metadata__ entry key → value takes in the safetensors header: "key":"value", with the
// value JSON-escaped, plus the separating comma.
uint64_t lmp_record_bytes(const std::string& key, const std::string& value);

}  // namespace lmp
