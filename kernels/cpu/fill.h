// Fills and conversions on the host: constant, Philox uniform/normal, dtype casts.
#pragma once
#include <cstdint>

#include "kernels/common/dtype.h"

namespace facet::cpu {

void fill(DType dt, void* dst, int64_t n, double value);
// uniform in [lo, hi): element i draws word (offset + i) of stream `seed`
void fill_uniform(DType dt, void* dst, int64_t n, double lo, double hi, uint64_t seed, uint64_t offset);
// normal via Box-Muller: element i uses words offset + 2i and offset + 2i + 1
void fill_normal(DType dt, void* dst, int64_t n, double mean, double stddev, uint64_t seed, uint64_t offset);
void cast(DType from, const void* src, DType to, void* dst, int64_t n);
double load_as_double(DType dt, const void* src, int64_t i);

}  // namespace facet::cpu
