// Element-wise transcendental math on float arrays. exp runs 8 lanes at a time through glibc's libmvec
// (_ZGVdN8v_expf, the AVX2 variant GCC itself calls for vectorized expf under -ffast-math; within 4 ulp
// of exp, tests/linalg/vector_math_test.cpp) when the build targets AVX2, and std::exp elsewhere. The
// project does not use -ffast-math, under which alone glibc declares these variants to the compiler.
#pragma once
#include <cstdint>

namespace lmp {

// x[i] = exp(x[i] - shift) for i < n.
void exp_shifted(float* x, int64_t n, float shift);

// Σ |x[i]|^p over i < n, each term in f32 (libmvec's powf: 16 lanes under AVX-512, 8 under AVX2;
// std::pow elsewhere), summed in f64.
double sum_abs_pow(const float* x, int64_t n, float p);

}  // namespace lmp
