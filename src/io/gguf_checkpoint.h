// Opens a GGUF file as a Checkpoint: ModelConfig from the <arch>.* metadata, canonical tensor names,
// the embedded SentencePiece vocabulary (tokenizer.ggml.model "llama").
#pragma once
#include <string>

#include "io/checkpoint_impl.h"
#include "io/gguf.h"

namespace lmp {

LoadedCheckpoint open_gguf_checkpoint(const std::string& path);

// The embedded vocabulary as an SpmVocab; throws naming the key when the arrays are inconsistent.
SpmVocab gguf_spm_vocab(const GgufFile& g);

}  // namespace lmp
