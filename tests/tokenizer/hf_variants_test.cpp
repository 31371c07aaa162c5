// tokenizer.json variants built from the shared files: the older LLaMA normalizer form, LLaMA-3 style
// Split + ByteLevel, NFC, tokenizer_config.json overrides, and one-line errors for bad files.
#include <gtest/gtest.h>

#include <functional>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "test_util.h"
#include "tokenizer/hf_bpe_tokenizer.h"

using namespace lmp;

namespace {

nlohmann::json shared_json(const std::string& rel) { return nlohmann::json::parse(test::read_file(test::shared_path(rel))); }

// Writes `j` as tokenizer.json in a fresh directory (optionally with a tokenizer_config.json).
std::string write_tokenizer(const std::string& tag, const nlohmann::json& j, const std::string& config = "") {
  const std::string dir = test::temp_dir(tag);
  test::write_file(dir + "/tokenizer.json", j.dump());
  if (!config.empty()) test::write_file(dir + "/tokenizer_config.json", config);
  return dir + "/tokenizer.json";
}

std::string load_error(const std::string& path) {
  try {
    load_hf_tokenizer(path);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

// LLaMA/Mistral files written by older transformers: normalizer Prepend("▁") + Replace(" ", "▁"), no
// pre-tokenizer. Same ids as Metaspace for text that does not start with a space.
TEST(TokenizerVariants, OlderLlamaNormalizerForm) {
  LMP_REQUIRE_SHARED();
  auto j = shared_json("models/lm-s/tokenizer.json");
  j["normalizer"] = nlohmann::json::parse(R"({"type": "Sequence", "normalizers": [
      {"type": "Prepend", "prepend": "▁"}, {"type": "Replace", "pattern": {"String": " "}, "content": "▁"}]})");
  j["pre_tokenizer"] = nullptr;
  const auto tok = load_hf_tokenizer(
      write_tokenizer("old-llama", j, test::read_file(test::shared_path("models/lm-s/tokenizer_config.json"))));
  const auto ref = shared_json("reference/tokenizer_parity.json");
  int compared = 0;
  for (const auto& c : ref["cases"]) {
    const std::string text = c["text"];
    if (text.empty() || text[0] == ' ' || text.find('<') != std::string::npos) continue;
    EXPECT_EQ(tok->encode(text), c["ids"].get<std::vector<int32_t>>()) << text;
    EXPECT_EQ(tok->decode(tok->encode(text)), c["decoded"].get<std::string>()) << text;
    ++compared;
  }
  EXPECT_GE(compared, 15);
  // Prepend always adds "▁": a leading space becomes "▁▁" (merged first: id 259).
  EXPECT_EQ(tok->encode(" Hello", false), (std::vector<int32_t>{259, 10994}));
}

TEST(TokenizerVariants, MetaspaceFirstSchemeWithSplit) {
  LMP_REQUIRE_SHARED();
  auto j = shared_json("models/lm-s/tokenizer.json");
  j["pre_tokenizer"] = nlohmann::json::parse(R"({"type": "Metaspace", "replacement": "▁", "prepend_scheme": "first", "split": true})");
  const auto tok = load_hf_tokenizer(write_tokenizer("first", j));
  const auto always = load_hf_tokenizer(test::shared_path("models/lm-s/tokenizer.json"));
  EXPECT_EQ(tok->encode("Hello world"), always->encode("Hello world"));
  // after </s> the segment "world" is not at the start: no "▁"
  const auto ids = tok->encode("Hello</s>world", false);
  ASSERT_EQ(ids.size(), 3u);
  EXPECT_EQ(ids[1], 2);
  EXPECT_EQ(tok->piece(ids[2]), "world");
}

// LLaMA-3 / Qwen2 layout: Split(regex, Isolated) then ByteLevel without regex. With GPT-2's regex it
// must reproduce GPT-2's ids.
TEST(TokenizerVariants, SplitThenByteLevelEqualsGpt2) {
  LMP_REQUIRE_SHARED();
  auto j = shared_json("models/gpt2-tokenizer/tokenizer.json");
  j["pre_tokenizer"] = {{"type", "Sequence"},
                        {"pretokenizers",
                         {{{"type", "Split"},
                           {"pattern", {{"Regex", "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+"}}},
                           {"behavior", "Isolated"},
                           {"invert", false}},
                          {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", false}}}}};
  j["normalizer"] = {{"type", "NFC"}};
  const auto tok = load_hf_tokenizer(write_tokenizer("split-bl", j));
  const auto ref = shared_json("reference/tokenizer_parity_gpt2.json");
  for (const auto& c : ref["cases"]) {
    const std::string text = c["text"];
    EXPECT_EQ(tok->encode(text, false), c["ids"].get<std::vector<int32_t>>()) << text;
  }
  // NFC: "e" + combining acute encodes like the precomposed "é"
  EXPECT_EQ(tok->encode("caf\x65\xCC\x81", false), tok->encode("caf\xC3\xA9", false));
  EXPECT_NE(tok->description().find("Sequence[Split, ByteLevel]"), std::string::npos);
}

TEST(TokenizerVariants, TokenizerConfigOverridesBos) {
  LMP_REQUIRE_SHARED();
  const auto j = shared_json("models/lm-s/tokenizer.json");
  const auto off = load_hf_tokenizer(write_tokenizer("nobos", j, R"({"add_bos_token": false, "eos_token": "<unk>"})"));
  EXPECT_EQ(off->bos_id(), -1);
  EXPECT_EQ(off->eos_id(), 0);
  EXPECT_EQ(off->encode("Hello world"), (std::vector<int32_t>{15043, 3186}));
  auto g = shared_json("models/gpt2-tokenizer/tokenizer.json");
  const auto on = load_hf_tokenizer(write_tokenizer("bos", g, R"({"add_bos_token": true, "bos_token": {"content": "<|endoftext|>"}})"));
  EXPECT_EQ(on->bos_id(), 50256);
  EXPECT_EQ(on->encode("Hello world"), (std::vector<int32_t>{50256, 15496, 995}));
  // named in tokenizer_config.json: now skipped by decode
  EXPECT_EQ(on->decode(on->encode("Hello world")), "Hello world");
  EXPECT_NE(load_error(write_tokenizer("badcfg", g, R"({"add_bos_token": true, "bos_token": "<nope>"})")).find("bos_token"),
            std::string::npos);
}

TEST(TokenizerErrors, OneLineNamingFileAndField) {
  LMP_REQUIRE_SHARED();
  const auto base = shared_json("models/lm-s/tokenizer.json");
  struct Case { std::string tag, field; std::function<void(nlohmann::json&)> mutate; };
  const std::vector<Case> cases = {
      {"wordpiece", "'model.type'", [](auto& j) { j["model"]["type"] = "WordPiece"; }},
      {"unigram", "'model.type'", [](auto& j) { j["model"]["type"] = "Unigram"; }},
      {"pretok", "'pre_tokenizer.type'", [](auto& j) { j["pre_tokenizer"]["type"] = "BertPreTokenizer"; }},
      {"norm", "'normalizer.type'", [](auto& j) { j["normalizer"] = {{"type", "BertNormalizer"}}; }},
      {"decoder", "'decoder.decoders[1].type'", [](auto& j) { j["decoder"]["decoders"][1]["type"] = "CTC"; }},
      {"novocab", "'model.vocab' is missing", [](auto& j) { j["model"].erase("vocab"); }},
      {"vocabtype", "'model.vocab[\"<s>\"]': expected integer, found string", [](auto& j) { j["model"]["vocab"]["<s>"] = "1"; }},
      {"merge", "'model.merges[0]'", [](auto& j) { j["model"]["merges"][0] = {"\xE2\x96\x81", "zzzq"}; }},
      {"mergetype", "'model.merges[5]': expected", [](auto& j) { j["model"]["merges"][5] = 3; }},
      {"addedid", "'added_tokens[1].id'", [](auto& j) { j["added_tokens"][1]["id"] = -4; }},
      {"post", "'post_processor.type'", [](auto& j) { j["post_processor"]["type"] = "Magic"; }},
      {"root", "'<root>': expected object", [](auto& j) { j = nlohmann::json::array(); }},
  };
  for (const auto& c : cases) {
    auto j = base;
    c.mutate(j);
    const std::string path = write_tokenizer("err-" + c.tag, j);
    const std::string msg = load_error(path);
    EXPECT_NE(msg.find(path), std::string::npos) << c.tag << ": " << msg;
    EXPECT_NE(msg.find(c.field), std::string::npos) << c.tag << ": " << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << c.tag << ": " << msg;
  }
  const std::string dir = test::temp_dir("err-json");
  test::write_file(dir + "/tokenizer.json", "{\"model\": ");
  EXPECT_NE(load_error(dir + "/tokenizer.json").find("not valid JSON"), std::string::npos);
  EXPECT_NE(load_error(dir + "/missing.json").find("cannot open"), std::string::npos);
}

TEST(TokenizerErrors, InvalidUtf8InputNamesOffset) {
  LMP_REQUIRE_SHARED();
  const auto tok = load_hf_tokenizer(test::shared_path("models/lm-s/tokenizer.json"));
  try {
    tok->encode("abc\xC3(");
    FAIL() << "no throw";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("invalid UTF-8 at byte 3"), std::string::npos) << e.what();
  }
  EXPECT_THROW(tok->piece(32000), Error);
  EXPECT_EQ(tok->decode(std::vector<int32_t>{-1, 40000, 15043}), "Hello");
}
