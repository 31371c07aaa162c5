// rANS entropy coding of byte streams (Duda, "Asymmetric numeral systems", arXiv 1311.2540; the
// interleaved-state layout of Giesen, "Interleaved entropy coders", arXiv 1402.3392). Any byte codes:
// FP8 E4M3 codes, RTN/GPTQ integer codes, NF4 codes. No method knows it: writers (export/lmp_writer.h)
// code a grid's codes with it, readers (io/lmp_checkpoint.h) decode them.
//
// A stream is a header plus independent chunks (default 256 KiB of symbols, as the EntQuant paper's
// nvCOMP setup): each chunk carries its own quantized frequency table (a static model), its interleaved
// rANS states (32, 16-bit renormalization) and a checksum of the decoded symbols, so chunks decode in
// parallel and a corrupt byte is reported with the chunk it is in. The byte layout: docs/rans.md.
// The encoded bytes depend only on the symbols and the options, never on the CPU, threads or flags;
// decoding picks a scalar, AVX2 or AVX-512 kernel at run time, all with the same result.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace lmp {

struct RansOptions {
  size_t chunk_symbols = 256 * 1024;  // symbols per chunk (1 .. 2^30)
  // Frequency table precision p (frequencies sum to 2^p): 8 .. 15, or 0 for a choice per chunk of 12
  // (the decoder's faster single-lookup path) unless 14 codes the chunk over 1/256 smaller.
  int precision_bits = 0;
};

// Codes `symbols` into a self-describing stream.
std::vector<uint8_t> rans_encode(std::span<const uint8_t> symbols, const RansOptions& opts = {});

// What a stream's header declares (validated against the stream's length).
struct RansStreamInfo {
  uint64_t symbols = 0;        // decoded length
  uint64_t chunk_symbols = 0;
  uint64_t chunks = 0;
};
// `what` names the stream in errors ("model.safetensors: blk.0.attn_q.weight").
RansStreamInfo rans_stream_info(std::span<const uint8_t> stream, const std::string& what);

// Decodes the whole stream into `out` (out.size() must equal the declared symbol count). Throws
// lmp::Error with one line naming `what`, the chunk and the fault (truncated, bad table, checksum
// mismatch, trailing bytes) on any malformed input; never reads outside `stream`.
void rans_decode(std::span<const uint8_t> stream, std::span<uint8_t> out, const std::string& what);
std::vector<uint8_t> rans_decode(std::span<const uint8_t> stream, const std::string& what);

// Bits of the empirical (order-0) entropy of `symbols`, summed chunk by chunk: the ideal size a
// static-table coder reaches with per-chunk tables (EntQuant's bpw_entropy_chunk256k).
double chunked_entropy_bits(std::span<const uint8_t> symbols, size_t chunk_symbols = 256 * 1024);

}  // namespace lmp
