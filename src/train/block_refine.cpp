#include "train/block_refine.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "core/error.h"
#include "core/progress.h"
#include "model/block_forward.h"
#include "model/block_tape.h"
#include "train/adamw.h"
#include "train/block_backward.h"
#include "train/block_params.h"
#include "train/grad_clip.h"
#include "train/lr_schedule.h"
#include "train/reductions.h"

namespace lmp {

namespace {

void check_inputs(const ModelConfig& cfg, int64_t layer, const BlockWeights& w, const float* x_hat, const float* y,
                  int64_t n, int64_t seq, const RefineOptions& o) {
  LMP_CHECK(x_hat && y, "refine_block: block ", layer, ": no inputs or targets given");
  LMP_CHECK(n > 0 && seq > 0, "refine_block: block ", layer, ": need at least one sequence of one token, found ", n,
            " sequences of ", seq);
  LMP_CHECK(o.epochs >= 0 && o.batch > 0, "refine_block: block ", layer, ": epochs must be >= 0 and batch > 0, found ",
            o.epochs, " and ", o.batch);
  LMP_CHECK(o.lr >= 0 && o.weight_decay >= 0 && o.max_grad_norm > 0, "refine_block: block ", layer,
            ": need lr >= 0, weight_decay >= 0, max_grad_norm > 0, found ", o.lr, ", ", o.weight_decay, ", ",
            o.max_grad_norm);
  LMP_CHECK(!w.attn_norm.empty() && !w.ffn_norm.empty() && w.attn_norm.numel() == cfg.hidden_size &&
                w.ffn_norm.numel() == cfg.hidden_size,
            "refine_block: block ", layer, ": norm weights ", shape_str(w.attn_norm.shape()), " and ",
            shape_str(w.ffn_norm.shape()), ", expected [", cfg.hidden_size, "] each");
}

// Σ (block(x̂) − y)² over sequences [s0, s0 + ns), the block's output left in out.
double batch_sq_error(const ModelConfig& cfg, const Rope& rope, int64_t layer, const BlockWeights& w,
                      const float* x_hat, const float* y, int64_t s0, int64_t ns, int64_t seq,
                      std::vector<float>& out, BlockWorkspace& ws, BlockTape* tape) {
  const int64_t dim = cfg.hidden_size, len = ns * seq * dim, off = s0 * seq * dim;
  out.assign(x_hat + off, x_hat + off + len);
  block_forward(cfg, w, rope, layer, out.data(), BatchShape{ns, seq, {}}, nullptr, ws, nullptr, tape);
  return sum_of_squared_differences(out.data(), y + off, len);
}

double mean_sq_error(const ModelConfig& cfg, const Rope& rope, int64_t layer, const BlockWeights& w,
                     const float* x_hat, const float* y, int64_t n, int64_t seq, int64_t batch) {
  std::vector<float> out;
  BlockWorkspace ws;
  double ss = 0.0;
  for (int64_t s0 = 0; s0 < n; s0 += batch)
    ss += batch_sq_error(cfg, rope, layer, w, x_hat, y, s0, std::min(batch, n - s0), seq, out, ws, nullptr);
  return ss / (double(n) * double(seq) * double(cfg.hidden_size));
}

// "nan", "inf" or "-inf", whatever the NaN's sign bit (printf would say "-nan" for some).
std::string nonfinite_name(double v) { return std::isnan(v) ? "nan" : v > 0 ? "inf" : "-inf"; }

// The state kept across optimizer steps (the tape, the gradients and their slots, AdamW's moments)
// and one step: forward with a tape, MSE loss, backward, clip_grad_norm_, AdamW.
class Stepper {
 public:
  Stepper(const ModelConfig& cfg, const Rope& rope, int64_t layer, BlockWeights& w, const RefineOptions& o)
      : cfg_(cfg), rope_(rope), layer_(layer), w_(w), o_(o), opt_(adamw_options(o)), grads_(zero_grads_like(w)) {
    const std::vector<NamedTensor> pw = trainable_tensors(w), pg = trainable_tensors(grads_);
    for (size_t i = 0; i < pw.size(); ++i) {
      if (std::find(o.frozen.begin(), o.frozen.end(), pw[i].name) != o.frozen.end()) continue;
      params_.push_back({pw[i].tensor->f32(), pg[i].tensor->f32(), pw[i].tensor->numel()});
      grads_slots_.push_back({pg[i].tensor->f32(), pg[i].tensor->numel()});
    }
  }

  // One step on sequences [s0, s0 + ns) at learning rate lr; returns the batch's loss. `where` names
  // the step in the error a non-finite loss or gradient norm raises.
  double step(const float* x_hat, const float* y, int64_t s0, int64_t ns, int64_t seq, double lr,
              const std::string& where) {
    const int64_t len = ns * seq * cfg_.hidden_size;
    const double loss = batch_sq_error(cfg_, rope_, layer_, w_, x_hat, y, s0, ns, seq, out_, ws_, &tape_) / double(len);
    LMP_CHECK(std::isfinite(loss), "refine_block: block ", layer_, ": loss is ", nonfinite_name(loss), " ", where,
              "; the block's weights are left as they were given");
    tape_bytes_ = std::max(tape_bytes_, tape_.nbytes());
    // d mean((out − y)²) / d out = 2·(out − y) / len, as torch's mse_loss backward.
    const float scale = float(2.0 / double(len));
    const float* yb = y + s0 * seq * cfg_.hidden_size;
#pragma omp parallel for schedule(static) if (len > 65536)
    for (int64_t i = 0; i < len; ++i) out_[size_t(i)] = (out_[size_t(i)] - yb[i]) * scale;
    block_backward(cfg_, w_, rope_, tape_, out_.data(), nullptr, grads_);
    const double norm = clip_grad_norm(grads_slots_, o_.max_grad_norm);
    LMP_CHECK(std::isfinite(norm), "refine_block: block ", layer_, ": gradient norm is ", nonfinite_name(norm), " ",
              where, "; the block's weights are left as they were given");
    opt_.step(params_, lr);
    return loss;
  }
  size_t tape_bytes() const { return tape_bytes_; }

 private:
  static AdamWOptions adamw_options(const RefineOptions& o) {
    AdamWOptions a;
    a.weight_decay = o.weight_decay;
    return a;
  }

  const ModelConfig& cfg_;
  const Rope& rope_;
  int64_t layer_;
  BlockWeights& w_;
  const RefineOptions& o_;
  AdamW opt_;
  BlockTape tape_;
  BlockWorkspace ws_;
  BlockGrads grads_;  // its buffers stay put: block_backward reshapes only grads that do not match w
  std::vector<ParamSlot> params_;
  std::vector<GradSlot> grads_slots_;
  std::vector<float> out_;
  size_t tape_bytes_ = 0;
};

}  // namespace

// Memory: one batch at a time. The tape (model/block_tape.h) holds the batch's activations but not its
// attention probabilities (32 sequences × heads × 512² floats would be gigabytes): the backward
// recomputes them per (sequence, head, row block) from q and k (train/attention_backward.h).
RefineReport refine_block(const ModelConfig& cfg, const Rope& rope, int64_t layer, BlockWeights& w,
                          const float* x_hat, const float* y, int64_t n, int64_t seq, const RefineOptions& o) {
  check_inputs(cfg, layer, w, x_hat, y, n, seq, o);
  const BlockWeights given = w;  // shares the caller's buffers, which training never writes
  try {
    own_trainable(w);
    RefineReport rep;
    rep.mse_before = mean_sq_error(cfg, rope, layer, w, x_hat, y, n, seq, o.batch);
    const int64_t batches = (n + o.batch - 1) / o.batch;
    const WarmupCosine schedule = warmup_cosine(o.epochs, batches);
    Stepper stepper(cfg, rope, layer, w, o);
    Progress progress("refine block " + std::to_string(layer), schedule.total, "steps");
    for (int64_t epoch = 0; epoch < o.epochs; ++epoch) {
      double epoch_loss = 0.0;
      for (int64_t b = 0; b < batches; ++b) {
        const int64_t s0 = b * o.batch, ns = std::min(o.batch, n - s0);
        const std::string where = detail::concat("at epoch ", epoch + 1, "/", o.epochs, ", step ", rep.steps + 1, "/",
                                                 schedule.total, " (sequences ", s0, "..", s0 + ns - 1, ")");
        epoch_loss += stepper.step(x_hat, y, s0, ns, seq, o.lr * schedule.factor(rep.steps), where);
        progress.update(++rep.steps);
      }
      rep.epoch_loss.push_back(epoch_loss);
    }
    progress.finish();
    rep.tape_bytes = stepper.tape_bytes();
    rep.mse_after = mean_sq_error(cfg, rope, layer, w, x_hat, y, n, seq, o.batch);
    return rep;
  } catch (...) {
    w = given;
    throw;
  }
}

}  // namespace lmp
