// Host linear-layer kernels. The GEMM goes to OpenBLAS (the CPU training path spends most of
// its time here, so it must be a tuned BLAS); bias and PReLU are plain loops over [rows, C]
// whose inner loop runs over channels and vectorises.
#include "kernels/cpu/matmul.h"

#include <cblas.h>

#include <algorithm>

namespace facet::cpu {

namespace {
// OpenBLAS takes int sizes; callers with > 2^31 elements per dimension are not a real case here.
inline blasint bi(int64_t v) { return static_cast<blasint>(v); }

void gemm(const float* a, const float* b, float* c, int64_t M, int64_t N, int64_t K, bool ta, bool tb, float alpha,
          float beta) {
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, bi(M), bi(N), bi(K),
              alpha, a, bi(ta ? M : K), b, bi(tb ? K : N), beta, c, bi(N));
}
void gemm(const double* a, const double* b, double* c, int64_t M, int64_t N, int64_t K, bool ta, bool tb,
          double alpha, double beta) {
  cblas_dgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, bi(M), bi(N), bi(K),
              alpha, a, bi(ta ? M : K), b, bi(tb ? K : N), beta, c, bi(N));
}
}  // namespace

template <typename T>
void matmul(const T* a, const T* b, T* c, int64_t M, int64_t N, int64_t K, bool trans_a, bool trans_b, T alpha,
            T beta) {
  if (M == 0 || N == 0) return;
  if (K == 0) {  // BLAS leaves c untouched for K == 0 on some builds; define it as beta * c
    for (int64_t i = 0; i < M * N; ++i) c[i] = beta == T(0) ? T(0) : beta * c[i];
    return;
  }
  gemm(a, b, c, M, N, K, trans_a, trans_b, alpha, beta);
}

template <typename T>
void matmul_per_row(const T* a, const T* b, T* c, int64_t M, int64_t N, int64_t K) {
  for (int64_t r = 0; r < M; ++r) matmul<T>(a + r * K, b, c + r * N, 1, N, K, false, false);
}

template <typename T>
void bias_add(const T* x, const T* b, T* y, int64_t rows, int64_t C) {
  for (int64_t r = 0; r < rows; ++r) {
    const T* xr = x + r * C;
    T* yr = y + r * C;
    for (int64_t c = 0; c < C; ++c) yr[c] = xr[c] + b[c];
  }
}

template <typename T>
void bias_grad(const T* dy, T* db, int64_t rows, int64_t C) {
  std::fill(db, db + C, T(0));
  for (int64_t r = 0; r < rows; ++r) {
    const T* g = dy + r * C;
    for (int64_t c = 0; c < C; ++c) db[c] += g[c];
  }
}

template <typename T>
void prelu(const T* x, const T* alpha, T* y, int64_t rows, int64_t C) {
  for (int64_t r = 0; r < rows; ++r) {
    const T* xr = x + r * C;
    T* yr = y + r * C;
    // Every operand is read unconditionally, so the select vectorises (a load under the condition
    // could not be made speculatively).
    for (int64_t c = 0; c < C; ++c) {
      const T v = xr[c], a = alpha[c];
      yr[c] = v >= T(0) ? v : a * v;
    }
  }
}

template <typename T>
void prelu_backward(const T* x, const T* alpha, const T* dy, T* dx, T* dalpha, int64_t rows, int64_t C) {
  if (dalpha) std::fill(dalpha, dalpha + C, T(0));
  for (int64_t r = 0; r < rows; ++r) {
    const T* xr = x + r * C;
    const T* g = dy + r * C;
    if (dx) {
      T* d = dx + r * C;
      for (int64_t c = 0; c < C; ++c) {
        const T v = xr[c], a = alpha[c], gc = g[c];
        d[c] = v >= T(0) ? gc : a * gc;
      }
    }
    if (dalpha)
      for (int64_t c = 0; c < C; ++c) {
        const T v = xr[c], gc = g[c];
        dalpha[c] += v < T(0) ? gc * v : T(0);
      }
  }
}

#define FACET_INSTANTIATE(T)                                                                             \
  template void matmul<T>(const T*, const T*, T*, int64_t, int64_t, int64_t, bool, bool, T, T);          \
  template void matmul_per_row<T>(const T*, const T*, T*, int64_t, int64_t, int64_t);                    \
  template void bias_add<T>(const T*, const T*, T*, int64_t, int64_t);                                   \
  template void bias_grad<T>(const T*, T*, int64_t, int64_t);                                            \
  template void prelu<T>(const T*, const T*, T*, int64_t, int64_t);                                      \
  template void prelu_backward<T>(const T*, const T*, const T*, T*, T*, int64_t, int64_t);
FACET_INSTANTIATE(float)
FACET_INSTANTIATE(double)
#undef FACET_INSTANTIATE

}  // namespace facet::cpu
