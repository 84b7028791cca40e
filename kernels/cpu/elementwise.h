// CPU reference for elementwise unary/binary ops, in-place axpy and sum-reductions over axes.
#pragma once
#include "kernels/common/elementwise_ops.h"

namespace facet::cpu {

template <typename T> void unary_forward(UnaryOp op, const T* x, T* y, int64_t n, T alpha);
template <typename T> void unary_backward(UnaryOp op, const T* x, const T* y, const T* gy, T* gx, int64_t n, T alpha);
template <typename T> void binary_forward(BinaryOp op, const T* a, const T* b, T* y, const BroadcastGeom& g);
template <typename T> void axpy(T alpha, const T* x, T* y, int64_t n);  // y += alpha * x
template <typename T> void reduce_sum(const T* x, T* y, const ReduceGeom& g, T scale);  // y = scale * sum

}  // namespace facet::cpu
