// GGUF export: one GGUF v3 file that llama.cpp and `lmpress eval` load — general.architecture llama (or
// qwen2), the <arch>.* hyperparameters, the tokenizer as tokenizer.ggml.* (SentencePiece vocabularies of
// GGUF / llama2.c inputs; SentencePiece-style BPE tokenizer.json inputs converted, see gguf_vocab.h),
// tensors named as llama.cpp names them with Q/K rows in its interleaved layout.
// Tensor types (--gguf-type): norms and other 1-D tensors F32; `f32` / `f16`: every 2-D tensor so;
// `q8_0` / `q4_0`: the block linears so (from the codes when the grid fits, see gguf_encode.h; else
// re-quantized by the reference quantizer, counted in stats()), embeddings and lm_head F16, and linears
// whose input size is not a multiple of 32 F16 (as llama.cpp falls back). `q4_k` / `q6_k`: likewise,
// always re-quantized (gguf_quantize_k.h); linears whose input size is not a multiple of 256 Q8_0 (as
// llama.cpp does for Q6_K; for Q4_K it falls back to Q5_0, which lmpress does not write), counted in
// stats(). `q4_k_m`: Q4_K, with Q6_K for the v_proj and down_proj that llama.cpp's Q4_K_M raises
// (q4_k_m_type), and the same fallback.
// Tensor offsets are fixed up front, so each block's tensors are written as the block arrives; the file
// is OUT.tmp until finish().
#pragma once
#include <map>
#include <memory>
#include <string>

#include "compress/pipeline.h"
#include "export/gguf_encode.h"
#include "io/checkpoint.h"
#include "io/gguf_writer.h"

namespace lmp {

// --gguf-type: f32 | f16 | q8_0 | q4_0 | q4_k | q6_k | q4_k_m; the type of the compressed linears (q4_k_m:
// Q4_K, some of them raised to Q6_K by q4_k_m_type).
GgmlType parse_gguf_type(const std::string& s);

// The Q4_K_M type of the block linear `name` (canonical) in a model of `n_layers` layers: Q6_K or Q4_K.
GgmlType q4_k_m_type(const std::string& name, int64_t n_layers);

class GgufWriter {
 public:
  struct Stats {
    int64_t from_codes = 0;    // linears written from their grid without re-rounding
    int64_t requantized = 0;   // linears re-quantized from their values by the reference quantizer
    int64_t f16_fallback = 0;  // linears written as F16 because their input size is not a multiple of 32
    int64_t q8_0_fallback = 0; // Q4_K / Q6_K types: linears written as Q8_0 (input not a multiple of 256)
  };
  // `out_path`: the .gguf file to write; `type`: --gguf-type; `force`: replace an existing file.
  // `head`: output.weight comes from add_head() (a compressed head, typed like the block linears; a head
  // tied to the embeddings is then written as its own tensor).
  GgufWriter(const Checkpoint& input, std::string out_path, const std::string& type, bool force, bool head = false);
  void add_block(const CompressedBlock& block);
  void add_head(const CompressedLinear& head);
  void finish();
  const Stats& stats() const { return stats_; }

 private:
  void declare_tensors();
  GgmlType linear_type(const std::string& name, const Shape& shape);
  bool is_compressed(const std::string& name) const;
  void write_metadata();
  void write(const std::string& name, const Tensor& f32, const CompressedLinear* cl);
  RowOrder row_order(const std::string& name) const;

  const Checkpoint& in_;
  std::string out_;
  GgmlType type_;
  bool q4_k_m_;  // --gguf-type q4_k_m: type_ is Q4_K, some linears Q6_K
  bool head_;
  std::map<std::string, std::string> gguf_name_;  // canonical → GGUF name
  std::map<std::string, GgmlType> types_;         // canonical → stored type
  std::unique_ptr<GgufFileWriter> file_;
  Stats stats_;
};

}  // namespace lmp
