// The HF tokenizer files of a SentencePiece vocabulary (GGUF tokenizer.ggml.model "llama", llama2.c
// tok*.bin), so that an HF export of such an input tokenizes as the input does. tokenizer.json takes the
// form transformers' LlamaConverter gives LLaMA tokenizers: a BPE model over the vocabulary with the
// merges of spm_merges.h, byte_fallback for the <0xNN> pieces and the unk piece; a Metaspace "▁"
// pre-tokenizer (prepend_scheme "always", or "never" without add_space_prefix; no split); a
// TemplateProcessing post-processor putting BOS first when the vocabulary adds it; the decoder chain
// Replace("▁" → " "), ByteFallback, Fuse, Strip(1 leading space); control, unknown and user-defined
// pieces as non-normalized added tokens (special unless user-defined). tokenizer_config.json and
// special_tokens_map.json name bos / eos / unk and add_bos_token.
// Deviations from LlamaConverter, so that the ids are exactly SpmTokenizer's: fuse_unk is false (one
// <unk> per unknown character), and tokenizer_class is PreTrainedTokenizerFast, which makes transformers
// take tokenizer.json as written rather than rebuild its pipeline from LLaMA defaults. Pieces that are
// not valid UTF-8 (JSON cannot hold them; no text can produce them) and repeated pieces after their first
// id are left out of the vocabulary. The one input on which the ids differ from SpmTokenizer's is a text
// (or a text after a literal control piece) that starts with a literal "▁": Metaspace adds no "▁" before
// it, SpmTokenizer (like sentencepiece) does.
#pragma once
#include <nlohmann/json.hpp>
#include <string>

#include "tokenizer/spm_vocab.h"

namespace lmp {

// tokenizer.json. Throws (prefix "spm vocab: ") on an inconsistent vocabulary.
nlohmann::json spm_tokenizer_json(const SpmVocab& vocab);
// tokenizer_config.json: add_bos_token, bos / eos / unk tokens, added_tokens_decoder, tokenizer_class.
nlohmann::json spm_tokenizer_config(const SpmVocab& vocab);
// special_tokens_map.json: bos / eos / unk as AddedToken objects.
nlohmann::json spm_special_tokens_map(const SpmVocab& vocab);

// Writes tokenizer.json, tokenizer_config.json and special_tokens_map.json into `dir`, each under a
// temporary name first, then renamed. `who` prefixes errors ("export hf").
void write_spm_tokenizer_files(const SpmVocab& vocab, const std::string& dir, const std::string& who);

}  // namespace lmp
