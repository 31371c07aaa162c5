#include "data/pool.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <random>

#include "core/error.h"
#include "data/byte_source.h"
#include "data/jsonl_record.h"
#include "data/line_reader.h"
#include "pool_fixtures.h"
#include "test_util.h"

namespace lmp {
namespace {

using test::temp_dir;
using test::write_file;

struct Read {
  PoolStats stats;
  std::vector<Document> docs;
};

Read read_all(const std::string& path, PoolOptions opts = {}) {
  opts.progress = false;
  opts.warnings = false;
  Read r;
  r.stats = for_each_document(path, opts, [&](Document&& d) { r.docs.push_back(std::move(d)); });
  return r;
}

std::string err_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

const char* kJsonl =
    "{\"source\": \"a\", \"text\": \"first doc\"}\n"
    "{\"text\": \"caf\\u00e9 \\ud83d\\ude00 \\\"q\\\"\\n\\ttab\", \"meta\": {\"x\": [1, 2.5e3, null, true]}, \"source\": \"b\"}\n"
    "\n"
    "{\"id\": 7, \"text\": \"third\", \"source\": \"a\"}\n";

TEST(Pool, JsonlTextSourceAndEscapes) {
  const std::string dir = temp_dir("pool_jsonl");
  write_file(dir + "/p.jsonl", kJsonl);
  const Read r = read_all(dir + "/p.jsonl");
  ASSERT_EQ(r.docs.size(), 3u);
  EXPECT_EQ(r.docs[0].text, "first doc");
  EXPECT_EQ(r.docs[1].text, "caf\xc3\xa9 \xf0\x9f\x98\x80 \"q\"\n\ttab");
  EXPECT_EQ(r.docs[2].text, "third");
  EXPECT_EQ(r.docs[0].index, 0);
  EXPECT_EQ(r.docs[2].index, 2);
  EXPECT_EQ(r.docs[0].source, r.docs[2].source);
  ASSERT_EQ(r.stats.sources.size(), 2u);
  EXPECT_EQ(r.stats.sources[size_t(r.docs[1].source)], "b");
  EXPECT_EQ(r.stats.documents, 3);
  EXPECT_EQ(r.stats.text_bytes, int64_t(9 + r.docs[1].text.size() + 5));
}

TEST(Pool, JsonlCustomFieldAndNoSource) {
  const std::string dir = temp_dir("pool_field");
  write_file(dir + "/p.jsonl", "{\"content\": \"x y\", \"text\": 3}\n{\"content\": \"z\"}\n");
  PoolOptions o;
  o.text_field = "content";
  const Read r = read_all(dir + "/p.jsonl", o);
  ASSERT_EQ(r.docs.size(), 2u);
  EXPECT_EQ(r.docs[0].text, "x y");
  EXPECT_EQ(r.docs[1].source, -1);
}

TEST(Pool, JsonlErrorsNameFileAndLine) {
  const std::string dir = temp_dir("pool_bad_json");
  write_file(dir + "/a.jsonl", "{\"text\": \"ok\"}\n{\"text\": \"unterminated}\n");
  EXPECT_NE(err_of([&] { read_all(dir + "/a.jsonl"); }).find("a.jsonl:2: unterminated string"), std::string::npos);
  write_file(dir + "/b.jsonl", "{\"body\": \"x\"}\n");
  EXPECT_NE(err_of([&] { read_all(dir + "/b.jsonl"); }).find("b.jsonl:1: no string field 'text'"), std::string::npos);
  write_file(dir + "/c.jsonl", "[1, 2]\n");
  EXPECT_NE(err_of([&] { read_all(dir + "/c.jsonl"); }).find("expected a JSON object"), std::string::npos);
  write_file(dir + "/d.jsonl", "{\"text\": 5}\n");
  EXPECT_NE(err_of([&] { read_all(dir + "/d.jsonl"); }).find("field 'text' is not a string"), std::string::npos);
}

TEST(Pool, TxtDocumentsSeparatedByBlankLines) {
  const std::string dir = temp_dir("pool_txt");
  write_file(dir + "/p.txt", "\n\nline one\nline two\n\n  \r\n\nsecond doc\r\nmore\n\n\nthird");
  const Read r = read_all(dir + "/p.txt");
  ASSERT_EQ(r.docs.size(), 3u);
  EXPECT_EQ(r.docs[0].text, "line one\nline two");
  EXPECT_EQ(r.docs[1].text, "second doc\r\nmore");
  EXPECT_EQ(r.docs[2].text, "third");
  EXPECT_EQ(r.docs[2].source, -1);
}

TEST(Pool, DirectorySortedByNameWithFileSources) {
  const std::string dir = temp_dir("pool_dir");
  write_file(dir + "/b.txt", "from b\n\nb two\n");
  write_file(dir + "/a.jsonl", "{\"text\": \"from a\"}\n{\"text\": \"a named\", \"source\": \"x\"}\n");
  write_file(dir + "/notes.md", "ignored\n");
  std::filesystem::create_directory(dir + "/sub.txt");  // not a regular file: ignored
  const Read r = read_all(dir);
  ASSERT_EQ(r.docs.size(), 4u);
  EXPECT_EQ(r.docs[0].text, "from a");
  EXPECT_EQ(r.docs[2].text, "from b");
  EXPECT_EQ(r.docs[3].index, 3);
  EXPECT_EQ(r.stats.sources[size_t(r.docs[0].source)], "a.jsonl");
  EXPECT_EQ(r.stats.sources[size_t(r.docs[1].source)], "x");
  EXPECT_EQ(r.stats.sources[size_t(r.docs[3].source)], "b.txt");
  EXPECT_EQ(r.stats.files.size(), 2u);
}

TEST(Pool, XzAndGzMatchPlain) {
  const std::string dir = temp_dir("pool_z");
  std::string big;  // > 1 MB lines and many records exercise the chunked readers
  for (int i = 0; i < 300; ++i)
    big += "{\"source\": \"s" + std::to_string(i % 3) + "\", \"text\": \"doc " + std::to_string(i) + " " +
           std::string(size_t(i == 7 ? 1500000 : 100 + i), 'a' + char(i % 26)) + "\"}\n";
  write_file(dir + "/p.jsonl", big);
  write_file(dir + "/p.jsonl.xz", test::xz_bytes(big));
  write_file(dir + "/p.jsonl.gz", test::gz_bytes(big));
  write_file(dir + "/t.txt.gz", test::gz_bytes("one\n\ntwo\n") + test::gz_bytes("\nthree\n"));  // two members
  const Read plain = read_all(dir + "/p.jsonl");
  ASSERT_EQ(plain.docs.size(), 300u);
  EXPECT_EQ(plain.docs[7].text.size(), 1500000u + 6);
  for (const char* ext : {".xz", ".gz"}) {
    const Read z = read_all(dir + "/p.jsonl" + ext);
    ASSERT_EQ(z.docs.size(), plain.docs.size()) << ext;
    for (size_t i = 0; i < z.docs.size(); ++i) {
      EXPECT_EQ(z.docs[i].text, plain.docs[i].text);
      EXPECT_EQ(z.stats.sources[size_t(z.docs[i].source)], plain.stats.sources[size_t(plain.docs[i].source)]);
    }
  }
  write_file(dir + "/m.jsonl.xz", test::xz_blocks(big, 256 * 1024));  // many blocks, threaded decoder
  PoolOptions two;
  two.decode_threads = 2;
  const Read m = read_all(dir + "/m.jsonl.xz", two);
  ASSERT_EQ(m.docs.size(), plain.docs.size());
  for (size_t i = 0; i < m.docs.size(); ++i) EXPECT_EQ(m.docs[i].text, plain.docs[i].text);
  const Read t = read_all(dir + "/t.txt.gz");
  ASSERT_EQ(t.docs.size(), 3u);
  EXPECT_EQ(t.docs[2].text, "three");
}

TEST(Pool, CorruptOrTruncatedCompressedDataFails) {
  const std::string dir = temp_dir("pool_corrupt");
  std::string plain;
  for (int i = 0; i < 2000; ++i) plain += "{\"text\": \"document number " + std::to_string(i) + "\"}\n";
  const std::string xz = test::xz_bytes(plain), gz = test::gz_bytes(plain);
  write_file(dir + "/a.jsonl.xz", xz.substr(0, xz.size() / 2));
  write_file(dir + "/b.jsonl.gz", gz.substr(0, gz.size() / 2));
  std::string bad = gz;
  bad[bad.size() / 2] ^= 0x5A;
  write_file(dir + "/c.jsonl.gz", bad);
  write_file(dir + "/d.jsonl.xz", "not xz at all");
  for (const char* f : {"a.jsonl.xz", "b.jsonl.gz", "c.jsonl.gz", "d.jsonl.xz"}) {
    const std::string e = err_of([&] { read_all(dir + "/" + f); });
    EXPECT_NE(e.find(f), std::string::npos) << f << ": " << e;
  }
}

TEST(Pool, EmptyAndInvalidUtf8DocumentsAreSkippedAndCounted) {
  const std::string dir = temp_dir("pool_skip");
  write_file(dir + "/p.jsonl",
             "{\"text\": \"good\"}\n{\"text\": \"\"}\n{\"text\": \"bad \\udc00 surrogate\"}\n"
             "{\"text\": \"  \\n \"}\n{\"text\": \"also good\"}\n");
  write_file(dir + "/q.txt", "fine\n\nbad \xff byte\n\nfine too\n");
  PoolReader rd(dir + "/p.jsonl", {});
  Document d;
  std::vector<int64_t> idx;
  while (rd.next(d)) idx.push_back(d.index);
  EXPECT_EQ(idx, (std::vector<int64_t>{0, 4}));
  EXPECT_EQ(rd.stats().empty, 2);
  EXPECT_EQ(rd.stats().first_empty, 1);
  EXPECT_EQ(rd.stats().invalid_utf8, 1);
  EXPECT_EQ(rd.stats().first_invalid, 2);
  const auto w = rd.warnings();
  ASSERT_EQ(w.size(), 2u);
  EXPECT_NE(w[0].find("skipped 2 empty document(s) (first: index 1)"), std::string::npos);
  EXPECT_NE(w[1].find("skipped 1 document(s) that are not valid UTF-8 (first: index 2)"), std::string::npos);
  const Read q = read_all(dir + "/q.txt");
  EXPECT_EQ(q.docs.size(), 2u);
  EXPECT_EQ(q.stats.invalid_utf8, 1);
  EXPECT_EQ(q.stats.first_invalid, 1);
}

TEST(Pool, EmptyPoolsAndBadPathsFailNamingThePath) {
  const std::string dir = temp_dir("pool_empty");
  write_file(dir + "/e.jsonl", "\n\n");
  write_file(dir + "/blank.txt", "");
  write_file(dir + "/onlyempty.jsonl", "{\"text\": \"\"}\n");
  EXPECT_NE(err_of([&] { read_all(dir + "/e.jsonl"); }).find(dir + "/e.jsonl: no usable documents"), std::string::npos);
  EXPECT_NE(err_of([&] { read_all(dir + "/blank.txt"); }).find("no usable documents"), std::string::npos);
  EXPECT_NE(err_of([&] { read_all(dir + "/onlyempty.jsonl"); }).find("1 empty"), std::string::npos);
  EXPECT_NE(err_of([&] { read_all(dir + "/missing.jsonl"); }).find("no such file"), std::string::npos);
  write_file(dir + "/x.csv", "a,b\n");
  EXPECT_NE(err_of([&] { read_all(dir + "/x.csv"); }).find("expected a .jsonl or .txt"), std::string::npos);
  const std::string sub = temp_dir("pool_empty_dir");
  EXPECT_NE(err_of([&] { read_all(sub); }).find("holds no .jsonl or .txt"), std::string::npos);
}

TEST(Pool, StopAfterIndex) {
  const std::string dir = temp_dir("pool_stop");
  write_file(dir + "/p.txt", "a\n\nb\n\nc\n\nd\n");
  PoolOptions o;
  o.stop_after = 1;
  const Read r = read_all(dir + "/p.txt", o);
  ASSERT_EQ(r.docs.size(), 2u);
  EXPECT_EQ(r.docs[1].text, "b");
}

TEST(JsonlRecord, SkipsNestedValuesAndRejectsGarbage) {
  JsonlRecord rec;
  EXPECT_EQ(parse_jsonl_record(R"( {"a": {"b": ["}", {"c": "\"]"}]}, "text": "t\/x", "n": -1.5E+2} )", "text", rec), "");
  EXPECT_EQ(rec.text, "t/x");
  EXPECT_FALSE(rec.has_source);
  EXPECT_NE(parse_jsonl_record(R"({"text": "x"} trailing)", "text", rec), "");
  EXPECT_NE(parse_jsonl_record(R"({"text": "x", })", "text", rec), "");
  EXPECT_NE(parse_jsonl_record(R"({"text": "\q"})", "text", rec), "");
  EXPECT_NE(parse_jsonl_record(R"({"text": "\u12"})", "text", rec), "");
  EXPECT_NE(parse_jsonl_record(R"({"x": tru, "text": "a"})", "text", rec), "");
  EXPECT_EQ(parse_jsonl_record(R"({"source": 3, "text": "a"})", "text", rec), "");  // non-string source: ignored
  EXPECT_FALSE(rec.has_source);
}

}  // namespace
}  // namespace lmp

namespace lmp {
namespace {

// Mutated and truncated records never crash the parser: each either parses or names a problem.
TEST(JsonlRecord, MutationsNeverCrash) {
  const std::string base =
      R"({"source": "s\u00e9", "text": "a \"b\" \ud83d\ude00 c\n", "x": [1, {"y": null}, -2.5e-3, true], "z": {}})";
  std::mt19937 gen(123);
  JsonlRecord rec;
  int ok = 0, bad = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string s = base;
    const int edits = 1 + int(gen() % 4);
    for (int e = 0; e < edits && !s.empty(); ++e) {
      const size_t at = gen() % s.size();
      switch (gen() % 3) {
        case 0: s[at] = char(gen() % 256); break;
        case 1: s.erase(at, 1 + gen() % 3); break;
        default: s.insert(at, 1, "{}[]\",:\\u0"[gen() % 10]); break;
      }
    }
    if (gen() % 4 == 0) s.resize(gen() % (s.size() + 1));
    const std::string err = parse_jsonl_record(s, "text", rec);
    if (err.empty()) {
      ++ok;
      EXPECT_TRUE(rec.has_text);
    } else {
      ++bad;
      EXPECT_EQ(err.find('\n'), std::string::npos);  // one line
    }
  }
  EXPECT_GT(ok, 100);
  EXPECT_GT(bad, 100);
}

}  // namespace
}  // namespace lmp
