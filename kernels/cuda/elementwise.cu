#include "kernels/cuda/common.cuh"
#include "kernels/cuda/elementwise.h"

namespace facet::cuda {

namespace {

template <typename T>
__global__ void unary_fwd_kernel(UnaryOp op, const T* x, T* y, long long n, float a) {
  FACET_GRID_STRIDE(i, n) y[i] = from_f<T>(unary_apply<float>(op, to_f(x[i]), a));
}

template <typename T>
__global__ void unary_bwd_kernel(UnaryOp op, const T* x, const T* y, const T* gy, T* gx, long long n, float a) {
  FACET_GRID_STRIDE(i, n) {
    float xv = x ? to_f(x[i]) : 0.f, yv = y ? to_f(y[i]) : 0.f;
    gx[i] = from_f<T>(to_f(gy[i]) * unary_grad<float>(op, xv, yv, a));
  }
}

template <typename T>
__global__ void binary_kernel(BinaryOp op, const T* a, const T* b, T* y, BroadcastGeom g, long long n) {
  FACET_GRID_STRIDE(i, n) {
    long long ia = 0, ib = 0, rem = i;
    for (int d = g.rank - 1; d >= 0; --d) {
      long long c = rem % g.shape[d];
      rem /= g.shape[d];
      ia += c * g.stride_a[d];
      ib += c * g.stride_b[d];
    }
    y[i] = from_f<T>(binary_apply<float>(op, to_f(a[ia]), to_f(b[ib])));
  }
}

template <typename T>
__global__ void axpy_kernel(float alpha, const T* x, T* y, long long n) {
  FACET_GRID_STRIDE(i, n) y[i] = from_f<T>(to_f(y[i]) + alpha * to_f(x[i]));
}

constexpr int kReduceThreads = 256;

template <typename T>
__global__ void reduce_kernel(const T* x, T* y, ReduceGeom g, float scale) {
  __shared__ float buf[kReduceThreads];
  for (long long o = blockIdx.x; o < g.out_count; o += gridDim.x) {
    long long base = 0, rem = o;
    for (int d = g.kept_rank - 1; d >= 0; --d) {
      base += (rem % g.kept_size[d]) * g.kept_stride[d];
      rem /= g.kept_size[d];
    }
    float acc = 0.f;
    for (long long r = threadIdx.x; r < g.reduce_count; r += blockDim.x) {
      long long off = base, q = r;
      for (int d = g.reduced_rank - 1; d >= 0; --d) {
        off += (q % g.reduced_size[d]) * g.reduced_stride[d];
        q /= g.reduced_size[d];
      }
      acc += to_f(x[off]);
    }
    buf[threadIdx.x] = acc;
    __syncthreads();
    for (int s = blockDim.x / 2; s > 0; s >>= 1) {
      if (threadIdx.x < s) buf[threadIdx.x] += buf[threadIdx.x + s];
      __syncthreads();
    }
    if (threadIdx.x == 0) y[o] = from_f<T>(buf[0] * scale);
    __syncthreads();
  }
}

}  // namespace

void unary_forward(DType dt, UnaryOp op, const void* x, void* y, int64_t n, float alpha, void* stream) {
  if (n == 0) return;
  dispatch_float(dt, "unary_forward", [&](auto t) {
    using T = decltype(t);
    FACET_LAUNCH(unary_fwd_kernel<T>, grid_for(n, 256), 256, 0, as_stream(stream), op, static_cast<const T*>(x),
                                                                          static_cast<T*>(y), n, alpha);
  });
  check_last_error("unary_forward");
}

void unary_backward(DType dt, UnaryOp op, const void* x, const void* y, const void* gy, void* gx, int64_t n,
                    float alpha, void* stream) {
  if (n == 0) return;
  dispatch_float(dt, "unary_backward", [&](auto t) {
    using T = decltype(t);
    FACET_LAUNCH(unary_bwd_kernel<T>, grid_for(n, 256), 256, 0, as_stream(stream), op, static_cast<const T*>(x), static_cast<const T*>(y), static_cast<const T*>(gy), static_cast<T*>(gx), n, alpha);
  });
  check_last_error("unary_backward");
}

void binary_forward(DType dt, BinaryOp op, const void* a, const void* b, void* y, const BroadcastGeom& g, void* stream) {
  long long n = 1;
  for (int d = 0; d < g.rank; ++d) n *= g.shape[d];
  if (n == 0) return;
  dispatch_float(dt, "binary_forward", [&](auto t) {
    using T = decltype(t);
    FACET_LAUNCH(binary_kernel<T>, grid_for(n, 256), 256, 0, as_stream(stream), op, static_cast<const T*>(a),
                                                                       static_cast<const T*>(b), static_cast<T*>(y), g, n);
  });
  check_last_error("binary_forward");
}

void axpy(DType dt, float alpha, const void* x, void* y, int64_t n, void* stream) {
  if (n == 0) return;
  dispatch_float(dt, "axpy", [&](auto t) {
    using T = decltype(t);
    FACET_LAUNCH(axpy_kernel<T>, grid_for(n, 256), 256, 0, as_stream(stream), alpha, static_cast<const T*>(x), static_cast<T*>(y), n);
  });
  check_last_error("axpy");
}

void reduce_sum(DType dt, const void* x, void* y, const ReduceGeom& g, float scale, void* stream) {
  if (g.out_count == 0) return;
  unsigned blocks = static_cast<unsigned>(g.out_count < 65535 ? g.out_count : 65535);
  dispatch_float(dt, "reduce_sum", [&](auto t) {
    using T = decltype(t);
    FACET_LAUNCH(reduce_kernel<T>, blocks, kReduceThreads, 0, as_stream(stream), static_cast<const T*>(x), static_cast<T*>(y), g, scale);
  });
  check_last_error("reduce_sum");
}

}  // namespace facet::cuda
