// CUDA twins of kernels/cpu/elementwise.h (f32 and bf16 storage, f32 math). Reductions are
// deterministic: one block per output element, a fixed-order tree in shared memory.
#pragma once
#include "kernels/common/dtype.h"
#include "kernels/common/elementwise_ops.h"

namespace facet::cuda {

void unary_forward(DType dt, UnaryOp op, const void* x, void* y, int64_t n, float alpha, void* stream);
void unary_backward(DType dt, UnaryOp op, const void* x, const void* y, const void* gy, void* gx, int64_t n,
                    float alpha, void* stream);
void binary_forward(DType dt, BinaryOp op, const void* a, const void* b, void* y, const BroadcastGeom& g, void* stream);
void axpy(DType dt, float alpha, const void* x, void* y, int64_t n, void* stream);
void reduce_sum(DType dt, const void* x, void* y, const ReduceGeom& g, float scale, void* stream);

}  // namespace facet::cuda
