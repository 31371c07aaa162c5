// Model: a checkpoint opened for inference — config, tokenizer, f32 weights (blocks converted lazily
// on first use) — and the forward passes: batched prefill to logits, and cached decoding steps.
#pragma once
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "io/checkpoint.h"
#include "model/block_forward.h"
#include "model/block_weights.h"
#include "model/kv_cache.h"
#include "model/rope.h"
#include "tokenizer/tokenizer.h"

namespace lmp {

// Builds the tokenizer a checkpoint declares (tokenizer.json, GGUF vocab, llama2.c vocab); null if none.
std::unique_ptr<Tokenizer> make_tokenizer(const TokenizerSource& src);

class Model {
 public:
  static Model open(const std::string& path, const OpenOptions& opts = {});

  const ModelConfig& config() const { return ckpt_.config(); }
  const Checkpoint& checkpoint() const { return ckpt_; }
  bool has_tokenizer() const { return tokenizer_ != nullptr; }
  // Throws naming the checkpoint when it has no tokenizer.
  const Tokenizer& tokenizer() const;
  const Rope& rope() const { return rope_; }

  // The f32 weights of block b, converted on first use and kept until release_block(b).
  const BlockWeights& block(int64_t b) const;
  void release_block(int64_t b) const;
  // Replaces block b's weights (a compressed block being evaluated in memory).
  void set_block(int64_t b, BlockWeights w);
  // Stream decoding (EntQuant's inference mode, docs/lmp-format.md): every forward loads each block just
  // before it runs and releases it after, so only the stored (e.g. entropy-coded) weights stay resident
  // and at most one block is f32 at a time. Off (default): blocks are converted once and kept.
  void set_stream_blocks(bool on) { stream_blocks_ = on; }
  bool stream_blocks() const { return stream_blocks_; }
  // Factored linears (lmp lowrank, W = A·B) run as their two factors, two GEMMs of rank columns, with no
  // dense weight in memory (eval, generate). Off (default): blocks hold the dense product, as the
  // compression pipeline's statistics need. Applies to blocks loaded after the call.
  void set_factored(bool on) { factored_ = on; }

  // The output head [vocab, hidden] (f32; the embeddings when tied), converted on first use: a
  // compression that never reads it never holds it. The final norm before it is loaded at open.
  const Tensor& lm_head() const;
  const Tensor& final_norm() const { return final_norm_; }
  // Replaces the output head (a compressed head being evaluated in memory); a tied head is untied.
  void set_lm_head(Tensor w);

  // x[n, hidden] = embedding rows of ids (ids are checked against the vocabulary), converted row by row
  // from the stored dtype: the table is never held in f32 (but for a tied head already loaded, and for
  // embeddings stored packed, which are converted whole on first use).
  void embed(std::span<const int32_t> ids, float* x) const;
  // logits[rows, vocab] = lm_head(rms_norm(x)); x is left unchanged.
  void logits(const float* x, int64_t rows, float* out) const;
  // Runs every block over x [rows, hidden] in place.
  void forward_blocks(float* x, const BatchShape& shape, KVCache* cache = nullptr) const;
  // Full forward of B sequences of T tokens (ids row-major [B, T]): logits [B*T, vocab].
  std::vector<float> forward(std::span<const int32_t> ids, const BatchShape& shape,
                             KVCache* cache = nullptr) const;
  // Same, into a caller-owned buffer (resized as needed) so repeated calls reuse memory.
  void forward(std::span<const int32_t> ids, const BatchShape& shape, std::vector<float>& logits,
               KVCache* cache = nullptr) const;

  size_t weight_bytes_f32() const;  // f32 size of every weight the model uses

 private:
  Checkpoint ckpt_;
  std::unique_ptr<Tokenizer> tokenizer_;
  Rope rope_;
  Tensor final_norm_;
  mutable Tensor lm_head_;      // empty until lm_head() (or set_lm_head)
  bool head_replaced_ = false;  // set_lm_head: lm_head_ is no longer the (tied) embedding table
  mutable Tensor embed_f32_;    // only for embeddings stored packed (no raw rows to convert)
  mutable std::vector<std::unique_ptr<BlockWeights>> blocks_;
  bool stream_blocks_ = false;
  // Streaming: the block just run, whose f32 buffers the next block is converted into (no allocation,
  // no page faults: a 7B block is 0.8 GB of fresh pages otherwise); dropped after the last block.
  mutable std::unique_ptr<BlockWeights> spare_;
  bool factored_ = false;
  mutable BlockWorkspace ws_;
  mutable std::vector<float> hidden_;
};

}  // namespace lmp
