// Linear-layer kernels on the host: row-major GEMM (OpenBLAS sgemm/dgemm), per-channel bias add
// and its gradient, and per-channel PReLU with both gradients. "Channel" is the innermost axis,
// so a Dense output [..., out] and an NHWC activation [N, H, W, C] are both seen as [rows, C].
// These are the CPU reference for kernels/cuda/matmul.h; the GEMM is also the CPU speed path.
#pragma once
#include <cstdint>

namespace facet::cpu {

// c[M, N] = alpha * op(a) * op(b) + beta * c, all row-major and densely packed.
// op(a) is [M, K]: a is stored [M, K], or [K, M] when trans_a. op(b) is [K, N]: b is stored
// [K, N], or [N, K] when trans_b. With beta == 0, c is only written (it may hold garbage).
template <typename T>
void matmul(const T* a, const T* b, T* c, int64_t M, int64_t N, int64_t K, bool trans_a, bool trans_b,
            T alpha = T(1), T beta = T(0));

// c[M, N] = a[M, K] * b[K, N] (row-major, dense), each row of c computed on its own: BLAS
// libraries choose kernels, and with them the order of the K-sums, by the problem's size (e.g.
// OpenBLAS's small-matrix kernels on AVX-512 CPUs), so one row's result would otherwise depend on
// how many rows were multiplied with it. Dense layers use it in their forward so that a sample's
// output never depends on its batch; weights are re-read per row, which costs little since a GEMM
// with a batch-sized M is bound by reading the weights anyway.
template <typename T>
void matmul_per_row(const T* a, const T* b, T* c, int64_t M, int64_t N, int64_t K);

// y[r, c] = x[r, c] + b[c]. y may alias x.
template <typename T>
void bias_add(const T* x, const T* b, T* y, int64_t rows, int64_t C);

// db[c] = sum_r dy[r, c], summed in row order (deterministic).
template <typename T>
void bias_grad(const T* dy, T* db, int64_t rows, int64_t C);

// y = x >= 0 ? x : alpha[c] * x. y may alias x.
template <typename T>
void prelu(const T* x, const T* alpha, T* y, int64_t rows, int64_t C);

// dx = dy * (x >= 0 ? 1 : alpha[c]); dalpha[c] = sum_r (x < 0 ? dy * x : 0).
// Either output may be null when it is not needed.
template <typename T>
void prelu_backward(const T* x, const T* alpha, const T* dy, T* dx, T* dalpha, int64_t rows, int64_t C);

}  // namespace facet::cpu
