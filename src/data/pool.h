// Document pools for calibration: a .jsonl file (one JSON object per line: the text field, and a
// "source" field when present), a .txt file (documents separated by blank lines), or a directory of
// such files (sorted by name, not recursive); each file optionally .xz or .gz compressed. Read
// streaming: one document in memory at a time.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace lmp {

struct Document {
  int64_t index = -1;  // position among the pool's records (skipped ones included), in reading order
  int32_t source = -1;  // index into PoolStats::sources, -1 when the record names none
  std::string text;
};

struct PoolOptions {
  std::string text_field = "text";
  bool progress = true;       // "reading pool" progress on stderr
  bool warnings = true;       // one warning line per kind of skipped document, on stderr
  int64_t stop_after = -1;    // >= 0: stop once the document of this index has been read
  int decode_threads = 1;     // > 1: decode multi-block .xz files on this many threads
};

struct PoolStats {
  int64_t records = 0;             // documents seen, skipped ones included
  int64_t documents = 0;           // documents handed to the caller
  int64_t empty = 0, invalid_utf8 = 0;    // skipped
  int64_t first_empty = -1, first_invalid = -1;  // index of the first skipped document of each kind
  int64_t text_bytes = 0;          // bytes of the documents handed over
  int64_t file_bytes = 0;          // size of the pool's files on disk
  std::vector<std::string> sources;  // source names, by id
  std::vector<std::string> files;    // files read, in order
};

// Reads documents one at a time. Empty and non-UTF-8 documents are skipped and counted.
class PoolReader {
 public:
  PoolReader(const std::string& path, PoolOptions opts);
  ~PoolReader();
  PoolReader(const PoolReader&) = delete;
  PoolReader& operator=(const PoolReader&) = delete;
  // Fills `doc` with the next usable document; false at the end (or after opts.stop_after).
  bool next(Document& doc);
  const PoolStats& stats() const { return stats_; }
  // Bytes of the pool's files consumed so far (compressed bytes for .xz / .gz).
  int64_t file_bytes_read() const;
  // The warning lines for the skipped documents (empty when none were skipped).
  std::vector<std::string> warnings() const;

 private:
  struct FileState;
  bool open_next_file();
  bool next_raw(Document& doc);  // next record of any kind
  int32_t intern_source(const std::string& name);
  std::string path_;
  PoolOptions opts_;
  PoolStats stats_;
  std::unique_ptr<FileState> file_;
  size_t next_file_ = 0;
  int64_t bytes_before_file_ = 0;  // file bytes of the files already finished
  std::unordered_map<std::string, int32_t> source_ids_;
};

// Calls fn for every usable document in pool order, prints progress and the skip warnings on stderr,
// and fails naming the path when the pool has no usable document.
PoolStats for_each_document(const std::string& path, const PoolOptions& opts,
                            const std::function<void(Document&&)>& fn);

// The files of a pool path: the file itself, or a directory's .txt / .jsonl files (optionally .xz /
// .gz) sorted by name. Fails naming the path when it does not exist or a directory holds none.
std::vector<std::string> pool_files(const std::string& path);

}  // namespace lmp
