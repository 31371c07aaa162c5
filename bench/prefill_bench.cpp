// Prefill throughput of a model at a context length, as FLOP/s and as a ratio to the SGEMM FLOP/s of
// the BLAS lmpress links, both measured in this run:
//   prefill_bench [MODEL] [--ctx 512] [--windows 8] [--threads N]
// FLOPs counted: 2·(linear + lm_head params)·tokens + causal attention 2·2·H·D·T(T+1)/2 per layer.
#include <cblas.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "data/text_file.h"
#include "linalg/blas_env.h"
#include "linalg/gemm.h"
#include "model/model.h"

using namespace lmp;
using clk = std::chrono::steady_clock;

namespace {

double seconds_since(clk::time_point t0) { return std::chrono::duration<double>(clk::now() - t0).count(); }

// Best-of-5 GFLOP/s of C[M,N] = A[M,K]·B[N,K]ᵀ: with the linked BLAS called directly (all threads,
// its own partitioning: the machine's peak) or through lmpress's tiled gemm_nt (linalg/gemm.cpp).
double sgemm_gflops(int64_t M, int64_t N, int64_t K, bool tiled = false) {
  std::vector<float> a(size_t(M * K), 0.5f), b(size_t(N * K), 0.25f), c(size_t(M * N));
  double best = 1e30;
  for (int rep = 0; rep < 6; ++rep) {
    const auto t0 = clk::now();
    if (tiled)
      gemm_nt(M, N, K, a.data(), K, b.data(), K, c.data(), N);
    else
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, int(M), int(N), int(K), 1.0f, a.data(), int(K),
                  b.data(), int(K), 0.0f, c.data(), int(N));
    if (rep > 0) best = std::min(best, seconds_since(t0));
  }
  return 2.0 * double(M) * double(N) * double(K) / best / 1e9;
}

double prefill_flops(const ModelConfig& c, int64_t T) {
  const double linear = double(c.hidden_size) * double(c.q_dim() * 2 + c.kv_dim() * 2) +
                        3.0 * double(c.hidden_size) * double(c.intermediate_size);
  const double per_token = 2.0 * (linear * double(c.num_layers) + double(c.vocab_size * c.hidden_size));
  const double attn = 4.0 * double(c.num_heads * c.head_dim) * double(T) * double(T + 1) / 2.0 * double(c.num_layers);
  return per_token * double(T) + attn;
}

}  // namespace

int main(int argc, char** argv) {
  ensure_runtime_env(argv);
  std::string model_path = std::string(LMP_SHARED_DIR) + "/models/lm-m";
  int64_t ctx = 512, windows = 8;
  int threads = 0;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--ctx") && i + 1 < argc) ctx = std::atoll(argv[++i]);
    else if (!std::strcmp(argv[i], "--windows") && i + 1 < argc) windows = std::atoll(argv[++i]);
    else if (!std::strcmp(argv[i], "--threads") && i + 1 < argc) threads = std::atoi(argv[++i]);
    else model_path = argv[i];
  }
  set_num_threads(threads);
  const Model m = Model::open(model_path);
  const ModelConfig& c = m.config();
  const std::string text = load_eval_text(std::string(LMP_SHARED_DIR) + "/data/corpus/heldout_dev.jsonl");
  const std::vector<int32_t> tokens = m.tokenizer().encode(text, true);
  // Warm-up window (converts the weights to f32), then timed windows into one logits buffer, as eval.
  std::vector<float> logits;
  m.forward(std::span(tokens).first(size_t(ctx)), BatchShape{1, ctx, {}}, logits);
  const auto t0 = clk::now();
  for (int64_t w = 1; w <= windows; ++w)
    m.forward(std::span(tokens).subspan(size_t(w * ctx), size_t(ctx)), BatchShape{1, ctx, {}}, logits);
  const double secs = seconds_since(t0);
  const double gflops = prefill_flops(c, ctx) * double(windows) / secs / 1e9;
  // Reference SGEMMs: the model's own largest linear shape and a large square; the BLAS alone, then
// lmpress's thread-invariant tiling of it.
  const double g_mlp = sgemm_gflops(ctx, c.intermediate_size, c.hidden_size);
  const double g_head = sgemm_gflops(ctx, c.vocab_size, c.hidden_size);
  const double g_square = sgemm_gflops(2048, 2048, 2048);
  const double g_mlp_tiled = sgemm_gflops(ctx, c.intermediate_size, c.hidden_size, true);
  const double g_square_tiled = sgemm_gflops(2048, 2048, 2048, true);
  std::printf("{\"model\": \"%s\", \"ctx\": %lld, \"windows\": %lld, \"threads\": %d, \"blas\": \"%s\",\n"
              " \"prefill_tokens_per_s\": %.0f, \"prefill_gflops\": %.1f,\n"
              " \"sgemm_gflops_mlp_shape\": %.1f, \"sgemm_gflops_head_shape\": %.1f, \"sgemm_gflops_2048\": %.1f,\n"
              " \"lmpress_gemm_gflops_mlp_shape\": %.1f, \"lmpress_gemm_gflops_2048\": %.1f,\n"
              " \"ratio_to_sgemm_2048\": %.3f}\n",
              model_path.c_str(), (long long)ctx, (long long)windows, num_threads(), blas_description(),
              double(windows * ctx) / secs, gflops, g_mlp, g_head, g_square, g_mlp_tiled, g_square_tiled, gflops / g_square);
  return 0;
}
