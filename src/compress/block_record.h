// One compressed block on disk, exactly as the pipeline produced it: what `compress` saves after each
// block so that a killed run can resume (compress/resume.h) and hand the writer the same CompressedBlock
// it would have had.
//
// A record is one safetensors file. __metadata__ holds {"lmpress_block_record": "1", "block": "<b>",
// "linears": JSON {leaf: {kind, weight: "stored"|"rebuilt", quant | codebook | fp8 fields, mask}}} and
// the tensors are each linear's parts as "<leaf>.<part>" (codes, scales, zeros, g_idx, mask, absmax, ...,
// a, b) plus the block's changed tensors as "tensor:<canonical name>". The dense f32 weight is stored
// only when it cannot be rebuilt bit for bit from the representation: the grids (integer, NF4, FP8) are
// dequantized with the methods' own operations and compared before the weight is left out; a low-rank
// weight is always the product of its factors (io/lmp_dequant.h, lmp_lowrank_product, the one definition
// the low-rank methods materialize with). So a record of a 4-bit block is about a byte per weight.
#pragma once
#include <cstdint>
#include <string>

#include "compress/pipeline.h"

namespace lmp {

void write_block_record(const std::string& path, const CompressedBlock& block);

// Reads a record; every error names the file and the linear / field ("block-00003.safetensors:
// mlp.up_proj: missing tensor mlp.up_proj.scales").
CompressedBlock read_block_record(const std::string& path);

}  // namespace lmp
