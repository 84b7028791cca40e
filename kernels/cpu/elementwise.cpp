#include "kernels/cpu/elementwise.h"

namespace facet::cpu {

template <typename T>
void unary_forward(UnaryOp op, const T* x, T* y, int64_t n, T alpha) {
  for (int64_t i = 0; i < n; ++i) y[i] = unary_apply(op, x[i], alpha);
}

template <typename T>
void unary_backward(UnaryOp op, const T* x, const T* y, const T* gy, T* gx, int64_t n, T alpha) {
  for (int64_t i = 0; i < n; ++i) gx[i] = gy[i] * unary_grad(op, x ? x[i] : T(0), y ? y[i] : T(0), alpha);
}

template <typename T>
void binary_forward(BinaryOp op, const T* a, const T* b, T* y, const BroadcastGeom& g) {
  int64_t n = 1;
  for (int d = 0; d < g.rank; ++d) n *= g.shape[d];
  int64_t idx[kMaxRank] = {};
  int64_t ia = 0, ib = 0;
  for (int64_t i = 0; i < n; ++i) {
    y[i] = binary_apply(op, a[ia], b[ib]);
    for (int d = g.rank - 1; d >= 0; --d) {  // odometer increment keeps ia/ib in step
      ia += g.stride_a[d];
      ib += g.stride_b[d];
      if (++idx[d] < g.shape[d]) break;
      ia -= g.stride_a[d] * g.shape[d];
      ib -= g.stride_b[d] * g.shape[d];
      idx[d] = 0;
    }
  }
}

template <typename T>
void axpy(T alpha, const T* x, T* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] += alpha * x[i];
}

template <typename T>
void reduce_sum(const T* x, T* y, const ReduceGeom& g, T scale) {
  for (int64_t o = 0; o < g.out_count; ++o) {
    int64_t base = 0, rem = o;
    for (int d = g.kept_rank - 1; d >= 0; --d) {
      base += (rem % g.kept_size[d]) * g.kept_stride[d];
      rem /= g.kept_size[d];
    }
    T acc = T(0);
    for (int64_t r = 0; r < g.reduce_count; ++r) {
      int64_t off = base, q = r;
      for (int d = g.reduced_rank - 1; d >= 0; --d) {
        off += (q % g.reduced_size[d]) * g.reduced_stride[d];
        q /= g.reduced_size[d];
      }
      acc += x[off];
    }
    y[o] = acc * scale;
  }
}

#define FACET_INSTANTIATE(T)                                                                   \
  template void unary_forward<T>(UnaryOp, const T*, T*, int64_t, T);                          \
  template void unary_backward<T>(UnaryOp, const T*, const T*, const T*, T*, int64_t, T);     \
  template void binary_forward<T>(BinaryOp, const T*, const T*, T*, const BroadcastGeom&);    \
  template void axpy<T>(T, const T*, T*, int64_t);                                             \
  template void reduce_sum<T>(const T*, T*, const ReduceGeom&, T);
FACET_INSTANTIATE(float)
FACET_INSTANTIATE(double)
#undef FACET_INSTANTIATE

}  // namespace facet::cpu
