#include "data/pool.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "core/error.h"
#include "core/progress.h"
#include "data/byte_source.h"
#include "data/jsonl_record.h"
#include "data/line_reader.h"
#include "data/text_file.h"

namespace lmp {
namespace fs = std::filesystem;

namespace {

enum class Format { jsonl, txt };

// Format from the name without its compression suffix; false for anything else.
bool pool_format(const std::string& name, Format* f) {
  std::string stem = name;
  strip_compression_suffix(name, &stem);
  auto ends = [&](const char* suf) {
    const std::string s(suf);
    return stem.size() >= s.size() && stem.compare(stem.size() - s.size(), s.size(), s) == 0;
  };
  if (ends(".jsonl")) return *f = Format::jsonl, true;
  if (ends(".txt")) return *f = Format::txt, true;
  return false;
}

bool blank(std::string_view line) {
  return line.find_first_not_of(" \t\r") == std::string_view::npos;
}

}  // namespace

std::vector<std::string> pool_files(const std::string& path) {
  std::error_code ec;
  const fs::file_status st = fs::status(path, ec);
  LMP_CHECK(!ec && fs::exists(st), "pool ", path, ": no such file or directory");
  Format f;
  if (!fs::is_directory(st)) {
    LMP_CHECK(pool_format(path, &f), "pool ", path, ": expected a .jsonl or .txt file (optionally .xz or .gz) ",
              "or a directory of them");
    return {path};
  }
  std::vector<std::string> files;
  for (fs::directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code ec2;
    if (it->is_regular_file(ec2) && pool_format(it->path().filename().string(), &f))
      files.push_back(it->path().string());
  }
  LMP_CHECK(!ec, "pool ", path, ": cannot list the directory (", ec.message(), ")");
  LMP_CHECK(!files.empty(), "pool ", path, ": the directory holds no .jsonl or .txt files (optionally .xz or .gz)");
  std::sort(files.begin(), files.end());
  return files;
}

struct PoolReader::FileState {
  std::string path;
  Format format;
  std::unique_ptr<ByteSource> src;
  LineReader lines;
  int64_t line_no = 0;
  int32_t default_source = -1;  // directory pools: the file's name
  JsonlRecord rec;
  FileState(std::string p, Format f, int threads)
      : path(std::move(p)), format(f), src(ByteSource::open(path, threads)), lines(*src) {}
};

PoolReader::PoolReader(const std::string& path, PoolOptions opts) : path_(path), opts_(std::move(opts)) {
  stats_.files = pool_files(path);
  for (const std::string& f : stats_.files) {
    std::error_code ec;
    const auto size = fs::file_size(f, ec);
    if (!ec) stats_.file_bytes += int64_t(size);
  }
}

PoolReader::~PoolReader() = default;

int64_t PoolReader::file_bytes_read() const {
  return bytes_before_file_ + (file_ ? file_->src->file_bytes_read() : 0);
}

int32_t PoolReader::intern_source(const std::string& name) {
  auto [it, inserted] = source_ids_.try_emplace(name, int32_t(stats_.sources.size()));
  if (inserted) stats_.sources.push_back(name);
  return it->second;
}

bool PoolReader::open_next_file() {
  if (file_) bytes_before_file_ += file_->src->file_bytes_read();
  file_.reset();
  if (next_file_ >= stats_.files.size()) return false;
  const std::string& p = stats_.files[next_file_++];
  Format f = Format::txt;
  pool_format(p, &f);
  file_ = std::make_unique<FileState>(p, f, opts_.decode_threads);
  if (stats_.files.size() > 1 || fs::is_directory(path_)) file_->default_source = intern_source(fs::path(p).filename().string());
  return true;
}

bool PoolReader::next_raw(Document& doc) {
  std::string_view line;
  for (;;) {
    if (!file_ && !open_next_file()) return false;
    FileState& fst = *file_;
    doc.text.clear();
    doc.source = fst.default_source;
    if (fst.format == Format::jsonl) {
      while (fst.lines.next(line)) {
        ++fst.line_no;
        if (blank(line)) continue;
        const std::string err = parse_jsonl_record(line, opts_.text_field, fst.rec);
        LMP_CHECK(err.empty(), "pool ", fst.path, ":", fst.line_no, ": ", err);
        doc.text.swap(fst.rec.text);
        if (fst.rec.has_source) doc.source = intern_source(fst.rec.source);
        return true;
      }
    } else {
      bool any = false;
      while (fst.lines.next(line)) {
        ++fst.line_no;
        if (blank(line)) {
          if (any) return true;
          continue;
        }
        if (any) doc.text.push_back('\n');
        doc.text.append(line);
        any = true;
      }
      if (any) return true;
    }
    if (!open_next_file()) return false;
  }
}

bool PoolReader::next(Document& doc) {
  while (!(opts_.stop_after >= 0 && stats_.records > opts_.stop_after) && next_raw(doc)) {
    doc.index = stats_.records++;
    if (doc.text.find_first_not_of(" \t\r\n") == std::string::npos) {
      if (stats_.empty++ == 0) stats_.first_empty = doc.index;
      continue;
    }
    if (find_invalid_utf8(doc.text) >= 0) {
      if (stats_.invalid_utf8++ == 0) stats_.first_invalid = doc.index;
      continue;
    }
    ++stats_.documents;
    stats_.text_bytes += int64_t(doc.text.size());
    return true;
  }
  return false;
}

std::vector<std::string> PoolReader::warnings() const {
  std::vector<std::string> out;
  if (stats_.empty)
    out.push_back(detail::concat("pool ", path_, ": skipped ", stats_.empty, " empty document(s) (first: index ",
                                 stats_.first_empty, ")"));
  if (stats_.invalid_utf8)
    out.push_back(detail::concat("pool ", path_, ": skipped ", stats_.invalid_utf8,
                                 " document(s) that are not valid UTF-8 (first: index ", stats_.first_invalid, ")"));
  return out;
}

PoolStats for_each_document(const std::string& path, const PoolOptions& opts,
                            const std::function<void(Document&&)>& fn) {
  PoolReader reader(path, opts);
  Progress progress("reading pool " + path, reader.stats().file_bytes / 1000000, "MB");
  Document doc;
  while (reader.next(doc)) {
    fn(std::move(doc));
    doc = Document{};
    if (opts.progress && (reader.stats().documents & 63) == 0) progress.update(reader.file_bytes_read() / 1000000);
  }
  if (opts.progress) progress.update(reader.file_bytes_read() / 1000000);
  progress.finish();
  if (opts.warnings)
    for (const std::string& w : reader.warnings()) std::fprintf(stderr, "warning: %s\n", w.c_str());
  const PoolStats& s = reader.stats();
  LMP_CHECK(s.documents > 0 || opts.stop_after >= 0, "pool ", path, ": no usable documents (", s.records,
            " read: ", s.empty, " empty, ", s.invalid_utf8, " not valid UTF-8)");
  return s;
}

}  // namespace lmp
