#include "kernels/common/philox.h"
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/fill.h"

namespace facet::cuda {

namespace {
template <typename T>
__global__ void fill_kernel(T* dst, long long n, float v) {
  FACET_GRID_STRIDE(i, n) dst[i] = from_f<T>(v);
}
template <typename T>
__global__ void fill_uniform_kernel(T* dst, long long n, double lo, double hi, uint64_t seed, uint64_t offset) {
  FACET_GRID_STRIDE(i, n) {
    double u = philox_uniform(seed, offset + (uint64_t)i);
    dst[i] = from_f<T>((float)(lo + (hi - lo) * u));
  }
}
template <>
__global__ void fill_uniform_kernel(double* dst, long long n, double lo, double hi, uint64_t seed, uint64_t offset) {
  FACET_GRID_STRIDE(i, n) dst[i] = lo + (hi - lo) * (double)philox_uniform(seed, offset + (uint64_t)i);
}
template <typename T>
__global__ void fill_normal_kernel(T* dst, long long n, double mean, double sd, uint64_t seed, uint64_t offset) {
  FACET_GRID_STRIDE(i, n) {
    uint64_t k = offset + 2 * (uint64_t)i;
    double u1 = 1.0 - (double)philox_uniform(seed, k);
    double u2 = (double)philox_uniform(seed, k + 1);
    double z = sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
    dst[i] = from_f<T>((float)(mean + sd * z));
  }
}
template <typename A, typename B>
__global__ void cast_kernel(const A* src, B* dst, long long n) {
  FACET_GRID_STRIDE(i, n) dst[i] = from_f<B>(to_f<A>(src[i]));
}
template <>
__global__ void cast_kernel(const double* src, double* dst, long long n) {
  FACET_GRID_STRIDE(i, n) dst[i] = src[i];
}
}  // namespace

void fill(DType dt, void* dst, int64_t n, double value, void* stream) {
  if (n == 0) return;
  dispatch(dt, [&](auto t) {
    using T = decltype(t);
    FACET_LAUNCH(fill_kernel<T>, grid_for(n, 256), 256, 0, as_stream(stream), static_cast<T*>(dst), n, (float)value);
  });
  check_last_error("fill");
}

void fill_uniform(DType dt, void* dst, int64_t n, double lo, double hi, uint64_t seed, uint64_t offset, void* stream) {
  if (n == 0) return;
  dispatch(dt, [&](auto t) {
    using T = decltype(t);
    FACET_LAUNCH(fill_uniform_kernel<T>, grid_for(n, 256), 256, 0, as_stream(stream), static_cast<T*>(dst), n, lo, hi, seed, offset);
  });
  check_last_error("fill_uniform");
}

void fill_normal(DType dt, void* dst, int64_t n, double mean, double sd, uint64_t seed, uint64_t offset, void* stream) {
  if (n == 0) return;
  dispatch(dt, [&](auto t) {
    using T = decltype(t);
    FACET_LAUNCH(fill_normal_kernel<T>, grid_for(n, 256), 256, 0, as_stream(stream), static_cast<T*>(dst), n, mean, sd, seed, offset);
  });
  check_last_error("fill_normal");
}

void cast(DType from, const void* src, DType to, void* dst, int64_t n, void* stream) {
  if (n == 0) return;
  dispatch(from, [&](auto a) {
    using A = decltype(a);
    dispatch(to, [&](auto b) {
      using B = decltype(b);
      FACET_LAUNCH((cast_kernel<A, B>), grid_for(n, 256), 256, 0, as_stream(stream), static_cast<const A*>(src), static_cast<B*>(dst), n);
    });
  });
  check_last_error("cast");
}

}  // namespace facet::cuda
