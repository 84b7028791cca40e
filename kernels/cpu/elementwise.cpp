// CPU elementwise ops. The operation is chosen once per call (a switch outside the loop turns each
// case into its own tight, vectorisable loop) and long tensors are cut into fixed-size chunks spread
// over the backend's thread pool (kernels/cpu/parallel.h). Binary ops take a flat loop when the
// operands are laid out like the output or one of them repeats along the last axis (bias-like) or
// is a scalar, and fall back to the general odometer walk otherwise.
#include "kernels/cpu/elementwise.h"

#include <type_traits>

#include "kernels/cpu/parallel.h"

namespace facet::cpu {

namespace {

template <typename Fn>
void with_unary_op(UnaryOp op, Fn&& fn) {
  switch (op) {
#define FACET_CASE(name) \
  case UnaryOp::name: fn(std::integral_constant<UnaryOp, UnaryOp::name>{}); return;
    FACET_CASE(Relu) FACET_CASE(LeakyRelu) FACET_CASE(Sigmoid) FACET_CASE(Tanh) FACET_CASE(Neg)
    FACET_CASE(Square) FACET_CASE(Sqrt) FACET_CASE(Rsqrt) FACET_CASE(Exp) FACET_CASE(Log) FACET_CASE(Abs)
    FACET_CASE(AddScalar) FACET_CASE(MulScalar) FACET_CASE(PowScalar) FACET_CASE(RsubScalar)
    FACET_CASE(RdivScalar) FACET_CASE(ClampMin) FACET_CASE(ClampMax)
#undef FACET_CASE
  }
}

template <typename Fn>
void with_binary_op(BinaryOp op, Fn&& fn) {
  switch (op) {
#define FACET_CASE(name) \
  case BinaryOp::name: fn(std::integral_constant<BinaryOp, BinaryOp::name>{}); return;
    FACET_CASE(Add) FACET_CASE(Sub) FACET_CASE(Mul) FACET_CASE(Div) FACET_CASE(Max) FACET_CASE(Min)
    FACET_CASE(GreaterEq) FACET_CASE(LessEq)
#undef FACET_CASE
  }
}

// How each operand is read along the flattened output.
enum class Operand { Full, Scalar, LastAxis };  // y[i] uses x[i], x[0] or x[i % last]

int64_t element_count(const BroadcastGeom& g) {
  int64_t n = 1;
  for (int d = 0; d < g.rank; ++d) n *= g.shape[d];
  return n;
}

// Whether `stride` walks the output contiguously (Full), never moves (Scalar) or walks only the
// last axis contiguously (LastAxis); false if it is none of these.
bool classify(const BroadcastGeom& g, const int64_t* stride, Operand* kind) {
  bool all_zero = true, contiguous = true, last_only = g.rank > 0 && stride[g.rank - 1] == 1;
  int64_t expect = 1;
  for (int d = g.rank - 1; d >= 0; --d) {
    if (g.shape[d] == 1) continue;  // a size-1 axis never moves, whatever its stride
    if (stride[d] != 0) all_zero = false;
    if (stride[d] != expect) contiguous = false;
    if (d < g.rank - 1 && stride[d] != 0) last_only = false;
    expect *= g.shape[d];
  }
  if (all_zero) *kind = Operand::Scalar;
  else if (contiguous) *kind = Operand::Full;
  else if (last_only) *kind = Operand::LastAxis;
  else return false;
  return true;
}

template <typename T, typename Op>
void binary_general(Op, const T* a, const T* b, T* y, const BroadcastGeom& g, int64_t n) {
  int64_t idx[kMaxRank] = {};
  int64_t ia = 0, ib = 0;
  for (int64_t i = 0; i < n; ++i) {
    y[i] = binary_apply(Op::value, a[ia], b[ib]);
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

}  // namespace

template <typename T>
void unary_forward(UnaryOp op, const T* x, T* y, int64_t n, T alpha) {
  with_unary_op(op, [&](auto op_c) {
    parallel_chunks(n, kParallelGrain, [&](int64_t i0, int64_t i1) {
      for (int64_t i = i0; i < i1; ++i) y[i] = unary_apply(op_c.value, x[i], alpha);
    });
  });
}

template <typename T>
void unary_backward(UnaryOp op, const T* x, const T* y, const T* gy, T* gx, int64_t n, T alpha) {
  with_unary_op(op, [&](auto op_c) {
    parallel_chunks(n, kParallelGrain, [&](int64_t i0, int64_t i1) {
      if (x && y) {
        for (int64_t i = i0; i < i1; ++i) gx[i] = gy[i] * unary_grad(op_c.value, x[i], y[i], alpha);
      } else if (x) {
        for (int64_t i = i0; i < i1; ++i) gx[i] = gy[i] * unary_grad(op_c.value, x[i], T(0), alpha);
      } else if (y) {
        for (int64_t i = i0; i < i1; ++i) gx[i] = gy[i] * unary_grad(op_c.value, T(0), y[i], alpha);
      } else {
        for (int64_t i = i0; i < i1; ++i) gx[i] = gy[i] * unary_grad(op_c.value, T(0), T(0), alpha);
      }
    });
  });
}

template <typename T>
void binary_forward(BinaryOp op, const T* a, const T* b, T* y, const BroadcastGeom& g) {
  const int64_t n = element_count(g);
  if (n == 0) return;
  Operand ka, kb;
  const bool flat = classify(g, g.stride_a, &ka) && classify(g, g.stride_b, &kb) &&
                    !(ka == Operand::LastAxis && kb == Operand::LastAxis);
  with_binary_op(op, [&](auto op_c) {
    constexpr BinaryOp o = decltype(op_c)::value;
    if (!flat) {
      binary_general(op_c, a, b, y, g, n);
      return;
    }
    const int64_t last = g.rank > 0 ? g.shape[g.rank - 1] : 1;
    // Chunks start on a multiple of the last axis so a LastAxis operand starts at its element 0.
    const int64_t grain = (ka == Operand::LastAxis || kb == Operand::LastAxis)
                              ? std::max<int64_t>(1, kParallelGrain / last) * last
                              : kParallelGrain;
    parallel_chunks(n, grain, [&](int64_t i0, int64_t i1) {
      if (ka == Operand::Full && kb == Operand::Full) {
        for (int64_t i = i0; i < i1; ++i) y[i] = binary_apply(o, a[i], b[i]);
      } else if (ka == Operand::Full && kb == Operand::Scalar) {
        const T s = b[0];
        for (int64_t i = i0; i < i1; ++i) y[i] = binary_apply(o, a[i], s);
      } else if (ka == Operand::Scalar && kb == Operand::Full) {
        const T s = a[0];
        for (int64_t i = i0; i < i1; ++i) y[i] = binary_apply(o, s, b[i]);
      } else if (ka == Operand::Scalar && kb == Operand::Scalar) {
        const T v = binary_apply(o, a[0], b[0]);
        for (int64_t i = i0; i < i1; ++i) y[i] = v;
      } else if (kb == Operand::LastAxis) {  // a is Full or Scalar
        for (int64_t r = i0; r < i1; r += last)
          for (int64_t j = 0; j < last; ++j) y[r + j] = binary_apply(o, ka == Operand::Full ? a[r + j] : a[0], b[j]);
      } else {  // ka == LastAxis, b Full or Scalar
        for (int64_t r = i0; r < i1; r += last)
          for (int64_t j = 0; j < last; ++j) y[r + j] = binary_apply(o, a[j], kb == Operand::Full ? b[r + j] : b[0]);
      }
    });
  });
}

template <typename T>
void axpy(T alpha, const T* x, T* y, int64_t n) {
  parallel_chunks(n, kParallelGrain, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) y[i] += alpha * x[i];
  });
}

template <typename T>
void reduce_sum(const T* x, T* y, const ReduceGeom& g, T scale) {
  // Each output is summed by one thread in the same order as ever: the result does not depend on
  // the number of threads. Outputs are spread over the pool when there are many of them.
  const int64_t per_output = std::max<int64_t>(1, g.reduce_count);
  parallel_chunks(g.out_count, std::max<int64_t>(1, kParallelGrain / per_output), [&](int64_t o0, int64_t o1) {
    for (int64_t o = o0; o < o1; ++o) {
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
  });
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
