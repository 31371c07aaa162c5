// Double quantization of NF4 absmax values as bitsandbytes does it (QLoRA §3, `compress_statistics`):
// subtract the mean, code the rest blockwise (256) with the signed 8-bit dynamic map.
#pragma once
#include <cstdint>
#include <vector>

#include "compress/compressed_linear.h"

namespace lmp {

// The signed 8-bit dynamic map of bitsandbytes (create_dynamic_map(signed=True)), 256 values ascending.
const std::vector<float>& dynamic_map_signed();
// Index of the map value nearest to x (ties to the lower).
uint8_t dynamic_map_code(const std::vector<float>& map, float x);
// Codes grid.absmax in place: fills the double-quant fields and replaces absmax by its dequantized value.
void double_quantize_absmax(CodebookGrid& grid);

}  // namespace lmp
