#include "kernels/cpu/fill.h"

#include <cmath>

#include "kernels/common/philox.h"

namespace facet::cpu {

namespace {
inline void store(DType dt, void* dst, int64_t i, double v) {
  switch (dt) {
    case DType::F32: static_cast<float*>(dst)[i] = static_cast<float>(v); break;
    case DType::F64: static_cast<double*>(dst)[i] = v; break;
    case DType::F16: static_cast<uint16_t*>(dst)[i] = f32_to_f16_bits(static_cast<float>(v)); break;
    case DType::BF16: static_cast<uint16_t*>(dst)[i] = f32_to_bf16_bits(static_cast<float>(v)); break;
  }
}
}  // namespace

double load_as_double(DType dt, const void* src, int64_t i) {
  switch (dt) {
    case DType::F32: return static_cast<const float*>(src)[i];
    case DType::F64: return static_cast<const double*>(src)[i];
    case DType::F16: return f16_bits_to_f32(static_cast<const uint16_t*>(src)[i]);
    case DType::BF16: return bf16_bits_to_f32(static_cast<const uint16_t*>(src)[i]);
  }
  return 0;
}

void fill(DType dt, void* dst, int64_t n, double value) {
  for (int64_t i = 0; i < n; ++i) store(dt, dst, i, value);
}

void fill_uniform(DType dt, void* dst, int64_t n, double lo, double hi, uint64_t seed, uint64_t offset) {
  for (int64_t i = 0; i < n; ++i) {
    double u = philox_uniform(seed, offset + static_cast<uint64_t>(i));
    store(dt, dst, i, lo + (hi - lo) * u);
  }
}

void fill_normal(DType dt, void* dst, int64_t n, double mean, double stddev, uint64_t seed, uint64_t offset) {
  for (int64_t i = 0; i < n; ++i) {
    uint64_t k = offset + 2 * static_cast<uint64_t>(i);
    double u1 = 1.0 - philox_uniform(seed, k);  // (0, 1]
    double u2 = philox_uniform(seed, k + 1);
    double z = std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
    store(dt, dst, i, mean + stddev * z);
  }
}

void cast(DType from, const void* src, DType to, void* dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) store(to, dst, i, load_as_double(from, src, i));
}

}  // namespace facet::cpu
