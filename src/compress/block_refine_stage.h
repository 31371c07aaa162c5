// The pipeline's block-level stage (AA-SVD's refinement, train/block_refine.h): after the linears of a
// block are compressed, train its factors, RMSNorm weights and biases so that, on the compressed model's
// stream, the block reproduces the original block's outputs; the result replaces the block's weights
// and is reported to the writers (CompressedBlock::linears' factors, CompressedBlock::tensors).
#pragma once
#include <cstdint>
#include <vector>

#include "compress/pipeline.h"
#include "train/block_refine.h"

namespace lmp {

// Trains block b: x_hat [n·seq, hidden] its shifted inputs, y the original block's outputs on the original
// inputs. Low-rank linears train both factors; dense ones (what no method changed) train their weight;
// quantized, pruned, FP8 and skipped linears stay as they are. `w` (the block's weights, dense products
// for factored linears) and `out` are updated; each refined factor pair's product is its new weight.
RefineReport refine_compressed_block(const Model& model, int64_t b, BlockWeights& w, CompressedBlock& out,
                                     const float* x_hat, const float* y, int64_t n, int64_t seq,
                                     const RefineOptions& o);

}  // namespace lmp
