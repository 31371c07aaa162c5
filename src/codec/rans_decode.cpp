// Decoding of a rANS stream (docs/rans.md): the header and the chain of chunk lengths are validated
// against the stream's size first, then the chunks decode independently (OpenMP across chunks, the
// same bytes for any thread count). Every fault of chunk k is reported as "<what>: rANS chunk k of n:
// <fault>"; when several chunks are bad, the lowest index is reported.
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <vector>

#include "codec/rans.h"
#include "codec/rans_checksum.h"
#include "codec/rans_format.h"
#include "codec/rans_kernel.h"
#include "core/error.h"

namespace lmp {
namespace {

std::string hex32(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08x", v);
  return buf;
}

struct ChunkRef {
  size_t offset = 0;  // of the body, after the u32 length
  size_t bytes = 0;
};

RansStreamInfo parse_header(std::span<const uint8_t> s, const std::string& what) {
  if (s.size() < rans::kHeaderBytes)
    fail(what, ": rANS header: truncated (", s.size(), " bytes, expected at least ", rans::kHeaderBytes, ")");
  if (std::memcmp(s.data(), rans::kMagic, 4) != 0)
    fail(what, ": rANS header: bad magic ", hex32(rans::load_le32(s.data())), " (expected \"LRNS\")");
  if (s[4] != rans::kVersion)
    fail(what, ": rANS header: unsupported version ", int(s[4]), " (expected ", int(rans::kVersion), ")");
  if (s[5] != rans::kStates) fail(what, ": rANS header: ", int(s[5]), " states (expected ", rans::kStates, ")");
  if (rans::load_le16(s.data() + 6) != 0)
    fail(what, ": rANS header: reserved field is ", rans::load_le16(s.data() + 6), " (expected 0)");
  RansStreamInfo h;
  h.symbols = rans::load_le64(s.data() + 8);
  h.chunk_symbols = rans::load_le64(s.data() + 16);
  h.chunks = rans::load_le64(s.data() + 24);
  if (h.chunk_symbols < 1 || h.chunk_symbols > rans::kMaxChunkSymbols)
    fail(what, ": rANS header: chunk_symbols ", h.chunk_symbols, " (expected 1..", rans::kMaxChunkSymbols, ")");
  const uint64_t expect = h.symbols / h.chunk_symbols + (h.symbols % h.chunk_symbols != 0);
  if (h.chunks != expect)
    fail(what, ": rANS header: ", h.chunks, " chunks (expected ceil(", h.symbols, " symbols / ", h.chunk_symbols,
         ") = ", expect, ")");
  const uint64_t room = (s.size() - rans::kHeaderBytes) / (rans::kChunkPrefixBytes + 6);
  if (h.chunks > room)
    fail(what, ": rANS header: ", h.chunks, " chunks cannot fit in the stream's ", s.size(), " bytes (at most ",
         room, ")");
  return h;
}

std::vector<ChunkRef> locate_chunks(std::span<const uint8_t> s, const RansStreamInfo& h, const std::string& what) {
  std::vector<ChunkRef> refs(h.chunks);
  size_t at = rans::kHeaderBytes;
  for (uint64_t k = 0; k < h.chunks; ++k) {
    if (s.size() - at < rans::kChunkPrefixBytes)
      fail(what, ": rANS chunk ", k, " of ", h.chunks, ": truncated: its length needs 4 bytes at offset ", at,
           ", the stream has ", s.size() - at);
    const size_t bytes = rans::load_le32(s.data() + at);
    at += rans::kChunkPrefixBytes;
    if (s.size() - at < bytes)
      fail(what, ": rANS chunk ", k, " of ", h.chunks, ": truncated: its body of ", bytes, " bytes at offset ", at,
           " runs past the stream's end (", s.size() - at, " bytes left)");
    refs[k] = {at, bytes};
    at += bytes;
  }
  if (at != s.size())
    fail(what, ": rANS stream: ", s.size() - at, " trailing bytes after the last of ", h.chunks,
         " chunks (they end at offset ", at, ", the stream has ", s.size(), " bytes)");
  return refs;
}

// A chunk being decoded.
struct ChunkJob {
  uint8_t mode = 0;
  uint32_t stored_sum = 0;
  RansChunkDecoder d;     // mode rANS
  std::string error;      // the fault, once one is found
};

// Parses a chunk body whose symbols go to out[0, n): constant and stored chunks are written at once,
// a rANS chunk is made ready for the kernels (its tables built in t). Throws lmp::Error naming the
// fault only (the caller prefixes the stream and chunk).
void prepare_chunk(const uint8_t* b, size_t bytes, uint8_t* out, size_t n, RansDecodeTables& t, ChunkJob& job) {
  if (bytes < rans::kBodyFixedBytes)
    fail("truncated: body of ", bytes, " bytes (expected at least ", rans::kBodyFixedBytes, ": mode, checksum)");
  job.mode = b[0];
  job.stored_sum = rans::load_le32(b + 1);
  RansChunkDecoder& d = job.d;
  d.out = out;
  d.n = n;
  if (job.mode == rans::kModeConstant) {
    if (bytes != rans::kBodyFixedBytes + 1)
      fail("constant chunk body of ", bytes, " bytes (expected ", rans::kBodyFixedBytes + 1, ")");
    std::memset(out, b[5], n);
  } else if (job.mode == rans::kModeStored) {
    if (bytes != rans::kBodyFixedBytes + n)
      fail("stored chunk body of ", bytes, " bytes (expected ", rans::kBodyFixedBytes + n, " for ", n, " symbols)");
    std::memcpy(out, b + rans::kBodyFixedBytes, n);
  } else if (job.mode == rans::kModeRans) {
    size_t at = rans::kBodyFixedBytes;
    if (bytes - at < 1) fail("truncated before the precision byte (body of ", bytes, " bytes)");
    const int p = b[at++];
    if (p < rans::kMinPrecision || p > rans::kMaxPrecision)
      fail("precision ", p, " bits (expected ", rans::kMinPrecision, "..", rans::kMaxPrecision, ")");
    SymbolFreqs freq;
    at += parse_frequency_table(b + at, bytes - at, p, freq, "");
    if (bytes - at < 4 * size_t(rans::kStates))
      fail("truncated in the states (needs ", 4 * rans::kStates, " bytes at offset ", at, ", the body has ",
           bytes - at, ")");
    for (int j = 0; j < rans::kStates; ++j, at += 4) {
      d.x[j] = rans::load_le32(b + at);
      if (d.x[j] < rans::kLower)
        fail("initial state ", j, " is ", hex32(d.x[j]), " (expected >= L = ", hex32(rans::kLower), ")");
    }
    if ((bytes - at) % 2) fail("odd word area of ", bytes - at, " bytes (expected whole 16-bit words)");
    build_decode_tables(freq, p, t);
    d.t = &t;
    d.words = b + at;
    d.n_words = (bytes - at) / 2;
  } else {
    fail("unknown mode ", int(job.mode), " (expected 0 rANS, 1 constant, 2 stored)");
  }
}

// Decodes what is left of a prepared chunk and checks its end: all words used, the states back at L,
// the checksum. Throws lmp::Error naming the fault only.
void finish_chunk(RansKernel kernel, ChunkJob& job) {
  RansChunkDecoder& d = job.d;
  uint32_t sum;
  if (job.mode == rans::kModeRans) {
    if (!rans_decode_symbols(kernel, d))
      fail("words exhausted at symbol ", d.done, " of ", d.n, " (", d.n_words, " words: truncated or corrupt)");
    if (d.word_pos != d.n_words)
      fail(d.n_words - d.word_pos, " of ", d.n_words, " words left unread after the last symbol (expected 0)");
    for (int j = 0; j < rans::kStates; ++j)
      if (d.x[j] != rans::kLower)
        fail("state ", j, " ends at ", hex32(d.x[j]), " (expected its initial value ", hex32(rans::kLower),
             "): corrupt words or table");
    sum = uint32_t(d.hash.finish(d.out, d.hashed, d.n));
  } else {
    sum = rans_checksum(d.out, d.n);
  }
  if (sum != job.stored_sum) fail("checksum mismatch (stored ", hex32(job.stored_sum), ", decoded ", hex32(sum), ")");
}

template <typename F>
void record_fault(ChunkJob& job, F&& fn) {
  if (!job.error.empty()) return;
  try {
    fn();
  } catch (const Error& e) {
    job.error = e.what();
    if (job.error.empty()) job.error = "?";
  }
}

}  // namespace

RansStreamInfo rans_stream_info(std::span<const uint8_t> stream, const std::string& what) {
  const RansStreamInfo h = parse_header(stream, what);
  locate_chunks(stream, h, what);
  return h;
}

void rans_decode_with(RansKernel kernel, std::span<const uint8_t> stream, std::span<uint8_t> out,
                      const std::string& what) {
  if (!rans_kernel_available(kernel))
    fail(what, ": rANS: the ", rans_kernel_name(kernel), " kernel is not available on this CPU");
  kernel = rans_resolve_kernel(kernel);
  const RansStreamInfo h = parse_header(stream, what);
  const std::vector<ChunkRef> refs = locate_chunks(stream, h, what);
  if (out.size() != h.symbols)
    fail(what, ": rANS stream: declares ", h.symbols, " symbols, the output holds ", out.size());
  // Chunks go in pairs: a kernel may advance two at once (rans_decode_pair); each is then finished
  // alone, so the symbols and the faults are those of decoding chunk by chunk.
  const int64_t chunks = int64_t(h.chunks), pairs = (chunks + 1) / 2;
  int64_t bad = chunks;
  std::string bad_msg;
#pragma omp parallel if (chunks > 1 && h.symbols >= rans::kParallelSymbols)
  {
    const std::unique_ptr<RansDecodeTables> tables[2] = {make_decode_tables(), make_decode_tables()};
#pragma omp for schedule(dynamic, 1)
    for (int64_t q = 0; q < pairs; ++q) {
      ChunkJob jobs[2];
      const int64_t first = 2 * q, count = std::min<int64_t>(2, chunks - first);
      for (int64_t c = 0; c < count; ++c) {
        const int64_t k = first + c;
        const uint64_t begin = uint64_t(k) * h.chunk_symbols;
        const size_t n = size_t(std::min(h.chunk_symbols, h.symbols - begin));
        record_fault(jobs[c], [&] {
          prepare_chunk(stream.data() + refs[k].offset, refs[k].bytes, out.data() + begin, n, *tables[c], jobs[c]);
        });
      }
      if (count == 2 && jobs[0].error.empty() && jobs[1].error.empty() && jobs[0].mode == rans::kModeRans &&
          jobs[1].mode == rans::kModeRans)
        rans_decode_pair(kernel, jobs[0].d, jobs[1].d);
      for (int64_t c = 0; c < count; ++c) {
        record_fault(jobs[c], [&] { finish_chunk(kernel, jobs[c]); });
        if (jobs[c].error.empty()) continue;
#pragma omp critical(lmp_rans_decode_error)
        if (first + c < bad) {
          bad = first + c;
          bad_msg = jobs[c].error;
        }
      }
    }
  }
  if (bad < chunks) fail(what, ": rANS chunk ", bad, " of ", chunks, ": ", bad_msg);
}

void rans_decode(std::span<const uint8_t> stream, std::span<uint8_t> out, const std::string& what) {
  rans_decode_with(RansKernel::automatic, stream, out, what);
}

std::vector<uint8_t> rans_decode(std::span<const uint8_t> stream, const std::string& what) {
  const RansStreamInfo h = rans_stream_info(stream, what);
  std::vector<uint8_t> out(h.symbols);
  rans_decode(stream, out, what);
  return out;
}

}  // namespace lmp
