// Linear-layer kernels on the GPU. The GEMM is cuBLAS: our tensors are row-major and cuBLAS is
// column-major, and a row-major [M, N] matrix is the column-major [N, M] one, so
// C = op(A) op(B) is computed as C^T = op(B)^T op(A)^T by swapping the operands — no copies.
// Channel reductions (bias and PReLU-alpha gradients) run in two stages: stage 1 gives each
// (channel tile, row chunk) block a fixed slice of rows and writes one partial per channel to a
// workspace; stage 2 adds the partials of each channel in chunk order. The chunk count depends
// only on the row count, so the result is the same on every run (no float atomics).
#include <cublas_v2.h>

#include "kernels/cuda/common.cuh"
#include "kernels/cuda/matmul.h"
#include "kernels/cuda/runtime.h"

namespace facet::cuda {

void matmul(const Handles& h, DType dt, const void* a, const void* b, void* c, int64_t M, int64_t N, int64_t K,
            bool trans_a, bool trans_b, float alpha, float beta) {
  if (M == 0 || N == 0) return;
  cudaDataType_t t;
  cublasComputeType_t compute;
  switch (dt) {
    case DType::F32: t = CUDA_R_32F; compute = CUBLAS_COMPUTE_32F; break;  // no TF32: parity with the CPU
    case DType::BF16: t = CUDA_R_16BF; compute = CUBLAS_COMPUTE_32F; break;
    default: throw Error(std::string("matmul: CUDA supports f32 and bf16, not ") + dtype_name(dt));
  }
  auto handle = static_cast<cublasHandle_t>(h.cublas);
  int lda = static_cast<int>(trans_a ? M : K), ldb = static_cast<int>(trans_b ? K : N);
  // K == 0 is legal in cuBLAS (c = beta * c) but it rejects lda/ldb of 0.
  if (lda < 1) lda = 1;
  if (ldb < 1) ldb = 1;
  count_launch();
  FACET_CUBLAS_CHECK(cublasGemmEx(handle, trans_b ? CUBLAS_OP_T : CUBLAS_OP_N, trans_a ? CUBLAS_OP_T : CUBLAS_OP_N,
                                  static_cast<int>(N), static_cast<int>(M), static_cast<int>(K), &alpha, b, t, ldb, a, t,
                                  lda, &beta, c, t, static_cast<int>(N), compute, CUBLAS_GEMM_DEFAULT));
}

namespace {

constexpr int kTileC = 32;  // channels per block (one warp wide: coalesced along C)
constexpr int kRowsY = 8;   // row lanes per block

inline int64_t reduce_chunks(int64_t rows) {
  int64_t ch = (rows + 255) / 256;
  return ch < 1 ? 1 : (ch > 256 ? 256 : ch);
}

template <typename T>
__global__ void bias_add_kernel(const T* x, const T* b, T* y, long long n, long long C) {
  FACET_GRID_STRIDE(i, n) y[i] = from_f<T>(to_f(x[i]) + to_f(b[i % C]));
}

template <typename T>
__global__ void prelu_kernel(const T* x, const T* alpha, T* y, long long n, long long C) {
  FACET_GRID_STRIDE(i, n) {
    float v = to_f(x[i]);
    y[i] = from_f<T>(v >= 0.f ? v : to_f(alpha[i % C]) * v);
  }
}

// Stage 1. mode 0: partial of sum(dy). mode 1: PReLU — writes dx (if given) and the partial of
// sum(x < 0 ? dy * x : 0) (if partial is given).
template <typename T, int kMode>
__global__ void column_partial_kernel(const T* dy, const T* x, const T* alpha, T* dx, float* partial, long long rows,
                                      long long C, long long rows_per_chunk) {
  __shared__ float sm[kRowsY][kTileC + 1];
  const long long c = (long long)blockIdx.x * kTileC + threadIdx.x;
  const long long r0 = (long long)blockIdx.y * rows_per_chunk;
  long long r1 = r0 + rows_per_chunk;
  if (r1 > rows) r1 = rows;
  float acc = 0.f;
  if (c < C) {
    const float a = kMode == 1 ? to_f(alpha[c]) : 0.f;
    for (long long r = r0 + threadIdx.y; r < r1; r += kRowsY) {
      const long long i = r * C + c;
      const float g = to_f(dy[i]);
      if (kMode == 0) {
        acc += g;
      } else {
        const float v = to_f(x[i]);
        if (dx) dx[i] = from_f<T>(v >= 0.f ? g : a * g);
        if (v < 0.f) acc += g * v;
      }
    }
  }
  if (!partial) return;
  sm[threadIdx.y][threadIdx.x] = acc;
  __syncthreads();
  if (threadIdx.y == 0 && c < C) {
    float s = 0.f;
    for (int k = 0; k < kRowsY; ++k) s += sm[k][threadIdx.x];
    partial[(long long)blockIdx.y * C + c] = s;
  }
}

// Stage 2: out[c] = sum over chunks, in chunk order.
template <typename T>
__global__ void column_final_kernel(const float* partial, T* out, long long C, long long chunks) {
  FACET_GRID_STRIDE(c, C) {
    float s = 0.f;
    for (long long k = 0; k < chunks; ++k) s += partial[k * C + c];
    out[c] = from_f<T>(s);
  }
}

}  // namespace

void bias_add(DType dt, const void* x, const void* b, void* y, int64_t rows, int64_t C, void* stream) {
  const int64_t n = rows * C;
  if (n == 0) return;
  dispatch_float(dt, "bias_add", [&](auto tag) {
    using T = decltype(tag);
    FACET_LAUNCH(bias_add_kernel<T>, grid_for(n, 256), 256, 0, as_stream(stream), static_cast<const T*>(x), static_cast<const T*>(b), static_cast<T*>(y), n, C);
  });
  check_last_error("bias_add");
}

size_t column_reduce_workspace_bytes(int64_t rows, int64_t C) {
  return static_cast<size_t>(reduce_chunks(rows) * (C < 1 ? 1 : C)) * sizeof(float);
}

void bias_grad(DType dt, const void* dy, void* db, int64_t rows, int64_t C, void* workspace, void* stream) {
  if (C == 0) return;
  if (rows == 0) {
    memset_zero(db, static_cast<size_t>(C) * dtype_size(dt), stream);
    return;
  }
  const int64_t chunks = reduce_chunks(rows), per = (rows + chunks - 1) / chunks;
  auto* ws = static_cast<float*>(workspace);
  dispatch_float(dt, "bias_grad", [&](auto tag) {
    using T = decltype(tag);
    dim3 grid(static_cast<unsigned>((C + kTileC - 1) / kTileC), static_cast<unsigned>(chunks));
    FACET_LAUNCH((column_partial_kernel<T, 0>), grid, dim3(kTileC, kRowsY), 0, as_stream(stream), static_cast<const T*>(dy), nullptr, nullptr, nullptr, ws, rows, C, per);
    FACET_LAUNCH(column_final_kernel<T>, grid_for(C, 256), 256, 0, as_stream(stream), ws, static_cast<T*>(db), C, chunks);
  });
  check_last_error("bias_grad");
}

void prelu(DType dt, const void* x, const void* alpha, void* y, int64_t rows, int64_t C, void* stream) {
  const int64_t n = rows * C;
  if (n == 0) return;
  dispatch_float(dt, "prelu", [&](auto tag) {
    using T = decltype(tag);
    FACET_LAUNCH(prelu_kernel<T>, grid_for(n, 256), 256, 0, as_stream(stream), static_cast<const T*>(x), static_cast<const T*>(alpha), static_cast<T*>(y), n, C);
  });
  check_last_error("prelu");
}

void prelu_backward(DType dt, const void* x, const void* alpha, const void* dy, void* dx, void* dalpha, int64_t rows,
                    int64_t C, void* workspace, void* stream) {
  if (C == 0 || (!dx && !dalpha)) return;
  if (rows == 0) {
    if (dalpha) memset_zero(dalpha, static_cast<size_t>(C) * dtype_size(dt), stream);
    return;
  }
  const int64_t chunks = reduce_chunks(rows), per = (rows + chunks - 1) / chunks;
  float* ws = dalpha ? static_cast<float*>(workspace) : nullptr;
  dispatch_float(dt, "prelu_backward", [&](auto tag) {
    using T = decltype(tag);
    dim3 grid(static_cast<unsigned>((C + kTileC - 1) / kTileC), static_cast<unsigned>(chunks));
    FACET_LAUNCH((column_partial_kernel<T, 1>), grid, dim3(kTileC, kRowsY), 0, as_stream(stream), static_cast<const T*>(dy), static_cast<const T*>(x), static_cast<const T*>(alpha), static_cast<T*>(dx), ws,
        rows, C, per);
    if (dalpha)
      FACET_LAUNCH(column_final_kernel<T>, grid_for(C, 256), 256, 0, as_stream(stream), ws, static_cast<T*>(dalpha), C, chunks);
  });
  check_last_error("prelu_backward");
}

}  // namespace facet::cuda
