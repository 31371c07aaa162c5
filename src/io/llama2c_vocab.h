// llama2.c tokenizer files (tok512.bin, tokenizer.bin): int32 max_token_length, then per token an f32
// score, an int32 byte length and the bytes. llama2.c's exporter replaced "▁" by " " and wrote BOS/EOS as
// "\n<s>\n" / "\n</s>\n"; reading converts back to SentencePiece semantics.
#pragma once
#include <string>

#include "tokenizer/spm_vocab.h"

namespace lmp {

// Reads `vocab_size` tokens from `path` into an SpmVocab (ids 0/1/2 = <unk>/<s>/</s>, <0xNN> = Byte).
SpmVocab read_llama2c_vocab(const std::string& path, int64_t vocab_size);

// The tokenizer beside a llama2.c model: the single tok*.bin or tokenizer.bin in its directory.
// Throws when there is none or more than one, suggesting --tokenizer.
std::string find_llama2c_tokenizer(const std::string& model_path);

}  // namespace lmp
