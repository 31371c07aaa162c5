#include "model/model.h"

#include "core/error.h"
#include "io/tensor_convert.h"
#include "linalg/gemm.h"
#include "model/ops.h"

namespace lmp {

std::unique_ptr<Tokenizer> make_tokenizer(const TokenizerSource& src) {
  switch (src.kind) {
    case TokenizerSource::Kind::HfJson: return load_hf_tokenizer(src.json_path);
    case TokenizerSource::Kind::Spm: return make_spm_tokenizer(src.spm);
    case TokenizerSource::Kind::None: return nullptr;
  }
  return nullptr;
}

// The tokenizer named by --tokenizer for a non-llama2.c model: a tokenizer.json, or another model
// (directory, .gguf, .bin) whose tokenizer to borrow — e.g. an HF export of a GGUF model.
std::unique_ptr<Tokenizer> borrowed_tokenizer(const std::string& path) {
  if (path.size() >= 5 && path.compare(path.size() - 5, 5, ".json") == 0) return load_hf_tokenizer(path);
  auto tok = make_tokenizer(Checkpoint::open(path).tokenizer_source());
  LMP_CHECK(tok, "--tokenizer ", path, ": that model has no tokenizer either");
  return tok;
}

Model Model::open(const std::string& path, const OpenOptions& opts) {
  Model m;
  m.ckpt_ = Checkpoint::open(path, opts);
  const ModelConfig& c = m.ckpt_.config();
  const bool borrow = !opts.tokenizer_path.empty() && m.ckpt_.format() != CheckpointFormat::Llama2c;
  m.tokenizer_ = borrow ? borrowed_tokenizer(opts.tokenizer_path) : make_tokenizer(m.ckpt_.tokenizer_source());
  if (m.tokenizer_)
    LMP_CHECK(m.tokenizer_->vocab_size() <= c.vocab_size, "model ", path, ": tokenizer has ",
              m.tokenizer_->vocab_size(), " tokens but the embedding has only ", c.vocab_size, " rows");
  m.rope_ = Rope(c);
  m.final_norm_ = m.ckpt_.load_f32(names::final_norm());
  m.blocks_.resize(size_t(c.num_layers));
  return m;
}

const Tokenizer& Model::tokenizer() const {
  LMP_CHECK(tokenizer_, "model ", ckpt_.path(), ": no tokenizer found (expected tokenizer.json beside "
            "config.json, a GGUF with tokenizer.ggml.* keys, or a llama2.c tokenizer .bin)");
  return *tokenizer_;
}

const BlockWeights& Model::block(int64_t b) const {
  LMP_CHECK(b >= 0 && b < config().num_layers, "model: block ", b, " out of range [0, ",
            config().num_layers, ")");
  auto& slot = blocks_[size_t(b)];
  if (!slot) {
    BlockWeights reuse;
    if (spare_) reuse = std::move(*spare_);
    spare_.reset();
    slot = std::make_unique<BlockWeights>(load_block_weights(ckpt_, b, factored_, std::move(reuse)));
  }
  return *slot;
}

void Model::release_block(int64_t b) const { blocks_.at(size_t(b)).reset(); }

void Model::set_block(int64_t b, BlockWeights w) {
  blocks_.at(size_t(b)) = std::make_unique<BlockWeights>(std::move(w));
}

const Tensor& Model::lm_head() const {
  if (lm_head_.empty())
    lm_head_ = ckpt_.load_f32(config().tie_word_embeddings ? names::embed() : names::lm_head());
  return lm_head_;
}

void Model::set_lm_head(Tensor w) {
  const Shape want{config().vocab_size, config().hidden_size};
  LMP_CHECK(w.dtype() == DType::F32 && w.shape() == want, "model: set_lm_head: expected an f32 [",
            config().vocab_size, ", ", config().hidden_size, "] tensor, found ", shape_str(w.shape()));
  lm_head_ = std::move(w);
  head_replaced_ = true;
}

void Model::embed(std::span<const int32_t> ids, float* x) const {
  const int64_t dim = config().hidden_size, vocab = config().vocab_size;
  for (size_t i = 0; i < ids.size(); ++i)
    LMP_CHECK(ids[i] >= 0 && ids[i] < vocab, "model: token id ", ids[i], " at position ", i,
              " is outside the vocabulary [0, ", vocab, ")");
  const bool tied_table = config().tie_word_embeddings && !head_replaced_ && !lm_head_.empty();
  const std::string name = names::embed();
  if (!tied_table && ckpt_.packing(name).empty()) {  // rows straight from the stored bytes
    const Tensor raw = ckpt_.raw(name);
    const size_t row_bytes = dtype_nbytes(raw.dtype(), size_t(dim));
    const auto* base = static_cast<const uint8_t*>(raw.data());
    for (size_t i = 0; i < ids.size(); ++i)
      convert_rows_to_f32(raw.dtype(), base + size_t(ids[i]) * row_bytes, 1, dim, 0, x + int64_t(i) * dim);
    return;
  }
  if (!tied_table && embed_f32_.empty()) embed_f32_ = ckpt_.load_f32(name);
  const float* table = tied_table ? lm_head_.f32() : embed_f32_.f32();
  for (size_t i = 0; i < ids.size(); ++i) std::copy_n(table + int64_t(ids[i]) * dim, dim, x + int64_t(i) * dim);
}

void Model::logits(const float* x, int64_t rows, float* out) const {
  const int64_t dim = config().hidden_size, vocab = config().vocab_size;
  std::vector<float> normed(size_t(rows * dim));
  rms_norm(x, final_norm_.f32(), normed.data(), rows, dim, float(config().rms_norm_eps));
  gemm_nt(rows, vocab, dim, normed.data(), dim, lm_head().f32(), dim, out, vocab);
}

void Model::forward_blocks(float* x, const BatchShape& shape, KVCache* cache) const {
  for (int64_t b = 0; b < config().num_layers; ++b) {
    block_forward(config(), block(b), rope_, b, x, shape, cache, ws_);
    if (stream_blocks_) spare_ = std::move(blocks_[size_t(b)]);  // its buffers take the next block
  }
  spare_.reset();  // not held beside the head: the next pass allocates one block afresh
}

std::vector<float> Model::forward(std::span<const int32_t> ids, const BatchShape& shape,
                                  KVCache* cache) const {
  std::vector<float> out;
  forward(ids, shape, out, cache);
  return out;
}

void Model::forward(std::span<const int32_t> ids, const BatchShape& shape, std::vector<float>& out,
                    KVCache* cache) const {
  LMP_CHECK(int64_t(ids.size()) == shape.rows(), "model: ", ids.size(), " ids for a batch of ",
            shape.batch, " x ", shape.seq);
  hidden_.resize(size_t(shape.rows() * config().hidden_size));
  embed(ids, hidden_.data());
  forward_blocks(hidden_.data(), shape, cache);
  out.resize(size_t(shape.rows() * config().vocab_size));
  logits(hidden_.data(), shape.rows(), out.data());
}

size_t Model::weight_bytes_f32() const {
  size_t n = 0;
  for (const std::string& name : ckpt_.tensor_names()) n += size_t(shape_numel(ckpt_.info(name).shape)) * 4;
  return n;
}

}  // namespace lmp
