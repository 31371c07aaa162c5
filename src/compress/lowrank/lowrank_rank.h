// The rank of a factorized linear [out, in]: an explicit --rank, or from --ratio ρ, the fraction of the
// layer's out·in parameters the two factors keep: k = ⌊ρ·out·in / (out + in)⌋ (the AA-SVD reference's
// get_rank_from_ratio); ρ = 1 means full rank min(out, in), as the reference does.
#pragma once
#include <cstdint>
#include <string>

namespace lmp {

// `rank` > 0 wins over `ratio`; errors name the method, the linear and the offending value.
int64_t lowrank_rank(const std::string& method, const std::string& name, int64_t out, int64_t in, double ratio,
                     int64_t rank);

}  // namespace lmp
