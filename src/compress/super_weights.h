// Super-weight detection (Yu et al., "The Super Weight in Large Language Models", arXiv 2411.07191), as
// EntQuant uses it (Putzky, Genzel et al., arXiv 2601.22787; merantix-momentum/entquant
// super_weights.py): one forward of a fixed prompt; a block's mlp.down_proj holds a super weight when the
// largest |activation| of both its input and its output exceeds a spike threshold (50). Those layers are
// quantized with plain absmax FP8 instead of the rate-weighted objective, which would round the one
// weight that matters.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "model/model.h"

namespace lmp {

struct SuperWeightLayer {
  std::string linear;          // canonical name: model.layers.B.mlp.down_proj.weight
  int64_t row = 0, col = 0;    // output channel of the output spike, input channel of the input spike
  float input_activation = 0, output_activation = 0;  // the spikes' |values|
};

// The prompt of the super-weight paper.
inline constexpr const char* kSuperWeightPrompt = "Apple Inc. is a worldwide tech company.";

// Every down_proj whose input and output spikes both exceed `threshold`, in block order. Runs the
// model's own blocks (Model::block) on `ids`; the model is left as it was.
std::vector<SuperWeightLayer> detect_super_weights(const Model& model, const std::vector<int32_t>& ids,
                                                   double threshold = 50.0);

}  // namespace lmp
