// CUDA twins of kernels/cpu/fill.h (same Philox streams, so CPU and GPU draw equal numbers).
#pragma once
#include <cstdint>

#include "kernels/common/dtype.h"

namespace facet::cuda {

void fill(DType dt, void* dst, int64_t n, double value, void* stream);
void fill_uniform(DType dt, void* dst, int64_t n, double lo, double hi, uint64_t seed, uint64_t offset, void* stream);
void fill_normal(DType dt, void* dst, int64_t n, double mean, double stddev, uint64_t seed, uint64_t offset, void* stream);
void cast(DType from, const void* src, DType to, void* dst, int64_t n, void* stream);

}  // namespace facet::cuda
