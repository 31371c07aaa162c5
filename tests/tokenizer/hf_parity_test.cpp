// Parity of the HF tokenizer.json implementation with HF tokenizers 0.23 (shared/reference).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "test_util.h"
#include "tokenizer/hf_bpe_tokenizer.h"

using namespace lmp;

namespace {

nlohmann::json load_json(const std::string& rel) { return nlohmann::json::parse(test::read_file(test::shared_path(rel))); }

void check_parity(const std::string& tokenizer_rel, const std::string& parity_rel, bool bos) {
  const auto tok = load_hf_tokenizer(test::shared_path(tokenizer_rel));
  const auto ref = load_json(parity_rel);
  ASSERT_EQ(ref["cases"].size(), 22u);
  int ok = 0;
  for (const auto& c : ref["cases"]) {
    const std::string text = c["text"];
    const auto expected = c["ids"].get<std::vector<int32_t>>();
    const auto ids = tok->encode(text, bos);
    EXPECT_EQ(ids, expected) << "text: \"" << text << "\"";
    EXPECT_EQ(tok->decode(ids), c["decoded"].get<std::string>()) << "text: \"" << text << "\"";
    ok += ids == expected && tok->decode(ids) == c["decoded"].get<std::string>();
  }
  EXPECT_EQ(ok, 22);
}

}  // namespace

TEST(TokenizerParity, LmsSentencePieceStyle22Cases) {
  LMP_REQUIRE_SHARED();
  check_parity("models/lm-s/tokenizer.json", "reference/tokenizer_parity.json", true);
}

TEST(TokenizerParity, Gpt2ByteLevel22Cases) {
  LMP_REQUIRE_SHARED();
  check_parity("models/gpt2-tokenizer/tokenizer.json", "reference/tokenizer_parity_gpt2.json", false);
}

TEST(TokenizerParity, LmsSpecialIds) {
  LMP_REQUIRE_SHARED();
  const auto tok = load_hf_tokenizer(test::shared_path("models/lm-s/tokenizer.json"));
  EXPECT_EQ(tok->bos_id(), 1);
  EXPECT_EQ(tok->eos_id(), 2);
  EXPECT_EQ(tok->vocab_size(), 32000);
  EXPECT_TRUE(tok->is_special(0));
  EXPECT_TRUE(tok->is_special(1));
  EXPECT_TRUE(tok->is_special(2));
  EXPECT_FALSE(tok->is_special(3));
  EXPECT_EQ(tok->piece(13), "<0x0A>");
  EXPECT_EQ(tok->description(), "HF BPE (Metaspace, byte fallback), 32000 tokens");
  const auto gpt2 = load_hf_tokenizer(test::shared_path("models/gpt2-tokenizer/tokenizer.json"));
  EXPECT_EQ(gpt2->bos_id(), -1);
  EXPECT_EQ(gpt2->eos_id(), 50256);
  EXPECT_EQ(gpt2->vocab_size(), 50257);
  EXPECT_TRUE(gpt2->is_special(50256));
}
