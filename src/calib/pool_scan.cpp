#include "calib/pool_scan.h"

#include <omp.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>

#include "core/error.h"
#include "core/progress.h"

namespace lmp {
namespace {

struct Batch {
  std::vector<TokenizedDoc> docs;
  std::vector<std::string> texts;  // texts[i] is the text of docs[i]
  int64_t file_bytes_read = 0;     // the reader's position after this batch
};

// Bounded queue of batches from the reader thread to the tokenizing thread(s).
class BatchQueue {
 public:
  void push(Batch b) {
    std::unique_lock<std::mutex> lk(m_);
    cv_.wait(lk, [&] { return q_.size() < 3 || cancelled_; });
    q_.push_back(std::move(b));
    cv_.notify_all();
  }
  bool pop(Batch& b) {  // false once the reader is done and the queue is empty
    std::unique_lock<std::mutex> lk(m_);
    cv_.wait(lk, [&] { return !q_.empty() || done_; });
    if (q_.empty()) return false;
    b = std::move(q_.front());
    q_.pop_front();
    cv_.notify_all();
    return true;
  }
  void finish(std::exception_ptr e = nullptr) {
    std::lock_guard<std::mutex> lk(m_);
    done_ = true;
    error_ = e;
    cv_.notify_all();
  }
  void cancel() {
    std::lock_guard<std::mutex> lk(m_);
    cancelled_ = true;
    q_.clear();
    cv_.notify_all();
  }
  bool cancelled() {
    std::lock_guard<std::mutex> lk(m_);
    return cancelled_;
  }
  std::exception_ptr error() {
    std::lock_guard<std::mutex> lk(m_);
    return error_;
  }

 private:
  std::mutex m_;
  std::condition_variable cv_;
  std::deque<Batch> q_;
  bool done_ = false, cancelled_ = false;
  std::exception_ptr error_;
};

class Scanner {
 public:
  Scanner(const std::string& pool, const Tokenizer& tok, const ScanOptions& opts)
      : tok_(tok), opts_(opts), reader_(pool, pool_options(opts)),
        progress_("reading pool " + pool, reader_.stats().file_bytes / 1000000, "MB") {}

  void run_inline(const std::function<void(TokenizedDoc&)>& fn);
  void run_threaded(const std::function<void(TokenizedDoc&)>& fn);
  const PoolReader& reader() const { return reader_; }
  void finish_progress() {
    if (opts_.progress) progress_.update(reader_.file_bytes_read() / 1000000);
    progress_.finish();
  }

 private:
  static PoolOptions pool_options(const ScanOptions& o) {
    PoolOptions p;
    p.text_field = o.text_field;
    p.progress = false;
    p.warnings = false;
    p.stop_after = o.stop_after;
    p.decode_threads = o.threads;
    return p;
  }
  bool read_batch(Batch& b);
  // Fills d.tokens when the caller wants this document.
  void tokenize(TokenizedDoc& d, const std::string& text, EncodeSession* s) const {
    if (opts_.wanted && !opts_.wanted(d.index)) return;
    d.tokens = tok_.encode_in(s, text, true);
    d.tokenized = true;
  }
  static TokenizedDoc header(const Document& d) {
    TokenizedDoc t;
    t.index = d.index;
    t.source = d.source;
    t.text_bytes = int64_t(d.text.size());
    return t;
  }

  const Tokenizer& tok_;
  const ScanOptions& opts_;
  PoolReader reader_;
  Progress progress_;
};

bool Scanner::read_batch(Batch& b) {
  constexpr size_t kBatchBytes = size_t(2) << 20, kBatchDocs = 512;
  size_t bytes = 0;
  Document d;
  while (bytes < kBatchBytes && b.docs.size() < kBatchDocs && reader_.next(d)) {
    bytes += d.text.size();
    b.docs.push_back(header(d));
    b.texts.push_back(std::move(d.text));
    d = Document{};
  }
  b.file_bytes_read = reader_.file_bytes_read();
  return !b.docs.empty();
}

void Scanner::run_inline(const std::function<void(TokenizedDoc&)>& fn) {
  auto session = tok_.new_session();
  Document d;
  int64_t n = 0;
  while (reader_.next(d)) {
    TokenizedDoc t = header(d);
    tokenize(t, d.text, session.get());
    fn(t);
    if (opts_.progress && (++n & 31) == 0) progress_.update(reader_.file_bytes_read() / 1000000);
  }
}

void Scanner::run_threaded(const std::function<void(TokenizedDoc&)>& fn) {
  BatchQueue queue;
  std::thread producer([&] {
    try {
      for (Batch b; !queue.cancelled() && read_batch(b); b = Batch{}) queue.push(std::move(b));
      queue.finish();
    } catch (...) {
      queue.finish(std::current_exception());
    }
  });
  const int nt = opts_.threads;
  std::vector<std::unique_ptr<EncodeSession>> sessions(static_cast<size_t>(nt));
  for (auto& s : sessions) s = tok_.new_session();
  try {
    for (Batch b; queue.pop(b);) {
      std::exception_ptr err;
#pragma omp parallel for num_threads(nt) schedule(dynamic, 1)
      for (int64_t i = 0; i < int64_t(b.docs.size()); ++i) {
        try {
          tokenize(b.docs[size_t(i)], b.texts[size_t(i)], sessions[size_t(omp_get_thread_num())].get());
        } catch (...) {
#pragma omp critical(lmp_scan_error)
          if (!err) err = std::current_exception();
        }
      }
      if (err) std::rethrow_exception(err);
      for (TokenizedDoc& d : b.docs) fn(d);
      if (opts_.progress) progress_.update(b.file_bytes_read / 1000000);
    }
  } catch (...) {
    queue.cancel();
    producer.join();
    throw;
  }
  producer.join();
  if (auto e = queue.error()) std::rethrow_exception(e);
}

}  // namespace

ScanResult scan_pool(const std::string& pool, const Tokenizer& tok, const ScanOptions& opts,
                     const std::function<void(TokenizedDoc&)>& fn) {
  const auto t0 = std::chrono::steady_clock::now();
  Scanner s(pool, tok, opts);
  if (opts.threads <= 1) s.run_inline(fn);
  else s.run_threaded(fn);
  s.finish_progress();
  ScanResult r;
  r.pool = s.reader().stats();
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (opts.progress) {
    for (const std::string& w : s.reader().warnings()) std::fprintf(stderr, "warning: %s\n", w.c_str());
    std::fprintf(stderr, "pool %s: %lld documents, %.1f MB of text in %.2f s (%.1f MB/s)\n", pool.c_str(),
                 (long long)r.pool.documents, double(r.pool.text_bytes) / 1e6, r.seconds,
                 double(r.pool.text_bytes) / 1e6 / std::max(r.seconds, 1e-9));
  }
  LMP_CHECK(r.pool.documents > 0 || opts.stop_after >= 0, "pool ", pool, ": no usable documents (",
            r.pool.records, " read: ", r.pool.empty, " empty, ", r.pool.invalid_utf8, " not valid UTF-8)");
  return r;
}

}  // namespace lmp
