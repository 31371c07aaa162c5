// tokenizer.json for SentencePiece vocabularies (export/hf_tokenizer_json.h): the merges' rank order,
// the file's shape, and — on the real GGUF and llama2.c vocabularies — that lmpress's HF tokenizer.json
// reader gives exactly the ids and texts of the native score-merging tokenizer. Then the HF export of a
// GGUF model carries the file, and `lmpress eval` runs on the export without --tokenizer.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "compress/pipeline.h"
#include "core/error.h"
#include "data/text_file.h"
#include "export/gguf_vocab.h"
#include "export/hf_tokenizer_json.h"
#include "export/hf_writer.h"
#include "export/spm_merges.h"
#include "io/checkpoint.h"
#include "model/model.h"
#include "test_util.h"
#include "tokenizer/hf_bpe_tokenizer.h"
#include "tokenizer/spm_tokenizer.h"
#include "../tokenizer/spm_vocab_fixture.h"

using namespace lmp;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

const std::string M = "\xE2\x96\x81";  // ▁

// Writes the tokenizer files of `v` into a fresh directory; returns the tokenizer.json path.
std::string write_files(const SpmVocab& v, const std::string& tag) {
  const std::string dir = test::temp_dir(tag);
  write_spm_tokenizer_files(v, dir, "test");
  return dir + "/tokenizer.json";
}

// Texts that exercise the pre-tokenizer and the fallbacks.
const std::vector<std::string>& edge_texts() {
  static const std::vector<std::string> t = {
      "", "Hello world", "Once upon a time, there was a little girl named Lily.", " leading space",
      "   three leading spaces", "trailing space ", "multiple   spaces  inside   here", "\n", "line one\nline two\n\n",
      "\ttab\tseparated\t", "a  \n  b", "emoji \xF0\x9F\x98\x80 and \xE4\xBD\xA0\xE5\xA5\xBD and \xC3\xA9t\xC3\xA9",
      "\xF0\x9F\xA6\x84\xF0\x9F\xA6\x84", "numbers 12345 and 3.14159", "<s> literal bos </s> in text", "a<s>b</s>c",
      "<unk>", "x" + M + "y", "ALL CAPS AND lower", "Don't stop! \"Quoted\" (parens) [brackets] {braces}",
      std::string(300, 'a'), std::string(40, ' ') + "deep indent", "x" + M + M + " " + M};
  return t;
}

// Expects `hf` to encode and decode every text as `spm` does.
void expect_same(const Tokenizer& spm, const Tokenizer& hf, const std::vector<std::string>& texts) {
  for (const std::string& text : texts) {
    const std::vector<int32_t> ids = spm.encode(text);
    ASSERT_EQ(hf.encode(text), ids) << "text: \"" << text << "\"";
    EXPECT_EQ(hf.encode(text, false), spm.encode(text, false)) << "text: \"" << text << "\"";
    EXPECT_EQ(hf.decode(ids), spm.decode(ids)) << "text: \"" << text << "\"";
  }
}

std::vector<std::string> jsonl_texts(const std::string& path) {
  std::istringstream in(test::read_file(path));
  std::vector<std::string> texts;
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) texts.push_back(json::parse(line)["text"].get<std::string>());
  return texts;
}

}  // namespace

TEST(SpmMerges, RankedByScoreThenLongerLeftThenVocabularyOrder) {
  // ids: 3 ▁, 4 a, 5 b, 6 ab, 7 ▁a, 8 ▁ab, 9 ba (same score as ab)
  const SpmVocab v = test::small_spm_vocab({{M, -1}, {"a", -2}, {"b", -3}, {"ab", -5}, {M + "a", -4}, {M + "ab", -6}, {"ba", -5}});
  const SpmTokenizer tok(v);
  std::vector<std::pair<std::string, std::string>> got;
  for (const SpmMerge& m : spm_merges(v, tok)) got.emplace_back(m.left, m.right);
  const std::vector<std::pair<std::string, std::string>> want = {
      {M, "a"}, {"a", "b"}, {"b", "a"}, {M + "a", "b"}, {M, "ab"}};
  EXPECT_EQ(got, want);
}

TEST(SpmMerges, OnlyNormalAndUserDefinedPiecesAreResults) {
  SpmVocab v = test::small_spm_vocab({{"<", -1}, {"s>", -2}, {"x", -3}, {"y", -4}, {"xy", -5}, {"yx", -6}});
  v.types.assign(v.pieces.size(), SpmTokenType::Normal);
  v.types[0] = SpmTokenType::Unknown;
  v.types[1] = v.types[2] = SpmTokenType::Control;
  for (size_t i = 9; i < v.pieces.size(); ++i) v.types[i] = SpmTokenType::Byte;
  v.types[7] = SpmTokenType::UserDefined;  // "xy"
  v.types[8] = SpmTokenType::Unused;       // "yx"
  const SpmTokenizer tok(v);
  const std::vector<SpmMerge> merges = spm_merges(v, tok);
  ASSERT_EQ(merges.size(), 1u);  // not "<" + "s>" (control), not "y" + "x" (unused)
  EXPECT_EQ(merges[0].left + merges[0].right, "xy");
}

TEST(HfTokenizerJson, HasTheLlamaConverterShape) {
  const json t = spm_tokenizer_json(test::small_spm_vocab({{M, -1}, {"a", -2}, {"b", -3}, {"ab", -4}}));
  EXPECT_EQ(t["model"]["type"], "BPE");
  EXPECT_EQ(t["model"]["byte_fallback"], true);
  EXPECT_EQ(t["model"]["fuse_unk"], false);
  EXPECT_EQ(t["model"]["unk_token"], "<unk>");
  EXPECT_EQ(t["model"]["vocab"].size(), 3u + 4u + 256u);
  EXPECT_EQ(t["model"]["vocab"]["<0x0A>"], 3 + 4 + 10);
  EXPECT_EQ(t["model"]["merges"], json::parse(R"([["a", "b"]])"));
  EXPECT_EQ(t["pre_tokenizer"], json::parse(R"({"type": "Metaspace", "replacement": "▁", "prepend_scheme": "always",
                                                "split": false})"));
  EXPECT_TRUE(t["normalizer"].is_null());
  ASSERT_EQ(t["added_tokens"].size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(t["added_tokens"][i]["id"], i);
    EXPECT_EQ(t["added_tokens"][i]["special"], true);
    EXPECT_EQ(t["added_tokens"][i]["normalized"], false);
  }
  EXPECT_EQ(t["post_processor"]["single"][0]["SpecialToken"]["id"], "<s>");
  EXPECT_EQ(t["post_processor"]["special_tokens"]["<s>"]["ids"], json::array({1}));
  EXPECT_EQ(t["decoder"]["decoders"].size(), 4u);
  EXPECT_EQ(t["decoder"]["decoders"][3]["type"], "Strip");
  const json cfg = spm_tokenizer_config(test::small_spm_vocab({{"a", 0}}));
  EXPECT_EQ(cfg["add_bos_token"], true);
  EXPECT_EQ(cfg["bos_token"], "<s>");
  EXPECT_EQ(cfg["eos_token"], "</s>");
  EXPECT_EQ(cfg["added_tokens_decoder"]["2"]["content"], "</s>");
  EXPECT_EQ(spm_special_tokens_map(test::small_spm_vocab({{"a", 0}}))["unk_token"]["content"], "<unk>");
}

TEST(HfTokenizerJson, SmallVocabEncodesLikeSpm) {
  SpmVocab v = test::small_spm_vocab({{M, -1}, {"a", -2}, {"b", -3}, {"ab", -5}, {M + "a", -4}, {M + "ab", -6}, {"[tag]", 0}});
  v.types.assign(v.pieces.size(), SpmTokenType::Normal);
  v.types[0] = SpmTokenType::Unknown;
  v.types[1] = v.types[2] = SpmTokenType::Control;
  v.types[9] = SpmTokenType::UserDefined;  // "[tag]": matched literally, not special
  for (size_t i = 10; i < v.pieces.size(); ++i) v.types[i] = SpmTokenType::Byte;
  const auto spm = make_spm_tokenizer(v);
  const auto hf = load_hf_tokenizer(write_files(v, "tokjson-small"));
  expect_same(*spm, *hf, edge_texts());
  expect_same(*spm, *hf, {"ab ab aab [tag]ab", "x[tag] [tag]", "abab  ba"});
  EXPECT_FALSE(hf->is_special(9));
  EXPECT_TRUE(hf->is_special(1));
  EXPECT_EQ(hf->eos_id(), 2);
}

TEST(HfTokenizerJson, NoBosNoSpacePrefixNoBytes) {
  SpmVocab v = test::small_spm_vocab({{M, -1}, {"a", -2}, {"b", -3}, {"ab", -5}, {M + "a", -4}}, false);
  v.add_bos = false;
  v.add_space_prefix = false;
  const json t = spm_tokenizer_json(v);
  EXPECT_EQ(t["pre_tokenizer"]["prepend_scheme"], "never");
  EXPECT_EQ(t["model"]["byte_fallback"], false);
  EXPECT_EQ(t["post_processor"]["single"].size(), 1u);
  EXPECT_EQ(t["decoder"]["decoders"].size(), 3u);  // no Strip
  const auto spm = make_spm_tokenizer(v);
  const auto hf = load_hf_tokenizer(write_files(v, "tokjson-nobos"));
  EXPECT_EQ(hf->bos_id(), -1);
  expect_same(*spm, *hf, {"ab a b", " ab", "a\xC3\xA9\xC3\xA9 b", "abab", "\xF0\x9F\x98\x80"});
}

TEST(HfTokenizerJson, WritesTheFilesAtomically) {
  const std::string path = write_files(test::small_spm_vocab({{"a", 0}}), "tokjson-files");
  const fs::path dir = fs::path(path).parent_path();
  for (const char* f : {"tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"})
    EXPECT_TRUE(fs::exists(dir / f)) << f;
  for (const auto& e : fs::directory_iterator(dir)) EXPECT_NE(e.path().extension(), ".tmp") << e.path();
  EXPECT_THROW(write_spm_tokenizer_files(test::small_spm_vocab({{"a", 0}}), "/nonexistent/dir", "test"), Error);
  SpmVocab bad = test::small_spm_vocab({{"a", 0}});
  bad.scores.pop_back();
  EXPECT_THROW(spm_tokenizer_json(bad), Error);
}

// The real vocabularies: each model's own tokenizer against the tokenizer.json written from it.
class HfTokenizerJsonModel : public ::testing::TestWithParam<const char*> {};

TEST_P(HfTokenizerJsonModel, EncodesAndDecodesLikeTheNativeTokenizer) {
  LMP_REQUIRE_SHARED();
  const Checkpoint ck = Checkpoint::open(test::shared_path(GetParam()));
  ASSERT_EQ(ck.tokenizer_source().kind, TokenizerSource::Kind::Spm);
  const SpmVocab& vocab = ck.tokenizer_source().spm;
  const auto spm = make_spm_tokenizer(vocab);
  const std::string path = write_files(vocab, std::string("tokjson-") + fs::path(GetParam()).filename().string());
  const auto hf = load_hf_tokenizer(path);
  EXPECT_EQ(hf->vocab_size(), spm->vocab_size());
  EXPECT_EQ(hf->bos_id(), spm->bos_id());
  EXPECT_EQ(hf->eos_id(), spm->eos_id());
  for (int32_t id = 0; id < spm->vocab_size(); ++id) {
    ASSERT_EQ(hf->piece(id), spm->piece(id)) << "id " << id;
    ASSERT_EQ(hf->is_special(id), spm->is_special(id)) << "id " << id;
  }
  expect_same(*spm, *hf, edge_texts());
  const std::vector<std::string> docs = jsonl_texts(test::shared_path("data/corpus/heldout_dev.jsonl"));
  ASSERT_GT(docs.size(), 10u);
  expect_same(*spm, *hf, docs);
  // Texts without literal control pieces or a leading space decode back to themselves.
  size_t round_trips = 0;
  for (const std::string& d : docs) {
    if (d.empty() || d[0] == ' ' || d.find("<s>") != std::string::npos || d.find("</s>") != std::string::npos ||
        d.find("<unk>") != std::string::npos)
      continue;
    EXPECT_TRUE(hf->decode(hf->encode(d)) == d) << "does not round-trip: \"" << d.substr(0, 200) << "\"";
    ++round_trips;
  }
  EXPECT_GT(round_trips, docs.size() / 2);
  // The whole evaluation text at once (several hundred KB).
  const std::string all = load_eval_text(test::shared_path("data/corpus/heldout_dev.jsonl"));
  const std::vector<int32_t> ids = spm->encode(all);
  EXPECT_TRUE(hf->encode(all) == ids);
  EXPECT_TRUE(hf->decode(ids) == spm->decode(ids));
  // The reference path (no word cutting, no cache) agrees too.
  HfTokenizerOptions ref;
  ref.split_words = false;
  ref.cache_words = false;
  expect_same(*spm, *load_hf_tokenizer(path, ref), edge_texts());
  // lmpress's GGUF export reads it back as the same SentencePiece pieces.
  std::string why;
  const auto back = spm_vocab_from_tokenizer_json(path, &why);
  ASSERT_TRUE(back) << why;
  EXPECT_EQ(back->pieces, vocab.pieces);
}

INSTANTIATE_TEST_SUITE_P(Vocabularies, HfTokenizerJsonModel,
                         ::testing::Values("models/stories260K/stories260K.gguf", "models/stories260K/stories260K.bin",
                                           "models/llama-2-tiny-random.gguf"),
                         [](const auto& info) {
                           const std::string f = fs::path(info.param).filename().string();
                           return f == "stories260K.gguf" ? std::string("Stories260KGguf")
                                  : f == "stories260K.bin" ? std::string("Stories260KLlama2c")
                                                           : std::string("Llama2TinyGguf");
                         });

// The one known difference, inherent to HF's Metaspace: a text (or a text after a literal control piece)
// that starts with a literal "▁" gets no "▁" prefix from Metaspace, while SpmTokenizer, like
// sentencepiece, adds one. Everywhere else the ids are the same.
TEST(HfTokenizerJson, LeadingLiteralMetaSymbolIsTheOneDifference) {
  LMP_REQUIRE_SHARED();
  const SpmVocab vocab = Checkpoint::open(test::shared_path("models/stories260K/stories260K.gguf")).tokenizer_source().spm;
  const auto spm = make_spm_tokenizer(vocab);
  const auto hf = load_hf_tokenizer(write_files(vocab, "tokjson-meta"));
  const int32_t meta = static_cast<const SpmTokenizer&>(*spm).token_id(M);
  ASSERT_GE(meta, 0);
  for (const std::string& text : {M + "x y", "<s>" + M + "x"}) {
    std::vector<int32_t> ids = hf->encode(text, false);
    const auto at = std::find(ids.begin(), ids.end(), 1) == ids.end() ? ids.begin() : ids.begin() + 1;
    ids.insert(at, meta);
    EXPECT_EQ(ids, spm->encode(text, false)) << text;
  }
}

// HfWriter on a GGUF input: the export carries the tokenizer files and opens with a tokenizer that
// gives the input's ids.
TEST(HfTokenizerJsonExport, HfExportOfGgufCarriesTheTokenizer) {
  LMP_REQUIRE_SHARED();
  const std::string src = test::shared_path("models/stories260K/stories260K.gguf");
  const std::string out = test::temp_dir("tokjson-export") + "/model";
  Model m = Model::open(src);
  HfWriter w(m.checkpoint(), out, "f32", true);
  PipelineOptions po;
  po.spec.method = "rtn";
  po.spec.bits = 8;
  po.spec.group = -1;
  compress_model(m, {1}, 1, 1, po, [&](const CompressedBlock& b) { w.add_block(b); });
  w.finish();
  for (const char* f : {"tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"})
    EXPECT_TRUE(fs::exists(out + "/" + f)) << f;
  const Model exported = Model::open(out);
  ASSERT_TRUE(exported.has_tokenizer());
  const std::string text = load_eval_text(test::shared_path("data/corpus/heldout_dev.jsonl")).substr(0, 20000);
  EXPECT_EQ(exported.tokenizer().encode(text), m.tokenizer().encode(text));
}

// The CLI: compress a GGUF model to HF, then eval the export with no --tokenizer.
TEST(HfTokenizerJsonExport, CliEvalOfExportNeedsNoTokenizerFlag) {
  LMP_REQUIRE_SHARED();
  const std::string src = test::shared_path("models/stories260K/stories260K.gguf");
  const std::string text = test::shared_path("data/corpus/heldout_dev.jsonl");
  const std::string out = test::temp_dir("tokjson-cli") + "/model";
  auto r = test::run_cli("compress " + src + " -o " + out + " --method rtn --bits 8 --group -1 --format hf --dtype f32 -q");
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string eval = " --text " + text + " --ctx 128 --max-windows 4 --json -q";
  r = test::run_cli("eval " + out + eval);
  ASSERT_EQ(r.code, 0) << r.err;
  const auto base = test::run_cli("eval " + src + eval);
  ASSERT_EQ(base.code, 0) << base.err;
  EXPECT_EQ(json::parse(r.out)["n_tokens"], json::parse(base.out)["n_tokens"]);
}
