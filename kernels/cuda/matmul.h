// CUDA twins of kernels/cpu/matmul.h: row-major GEMM on cuBLAS (f32 or bf16 storage, always f32
// accumulation), bias add / bias gradient, PReLU forward / backward. The channel reductions
// (bias gradient, PReLU alpha gradient) are two-stage and atomic-free, so they are
// bit-reproducible; they need a caller-provided workspace of column_reduce_workspace_bytes().
#pragma once
#include <cstddef>
#include <cstdint>

#include "kernels/common/dtype.h"

namespace facet::cuda {

struct Handles;

// c[M, N] = alpha * op(a) * op(b) + beta * c, row-major, same layout rules as cpu::matmul.
// dt is F32 (true fp32 math, no TF32, so it matches the CPU reference) or BF16 (tensor cores,
// fp32 accumulation, bf16 output).
void matmul(const Handles& h, DType dt, const void* a, const void* b, void* c, int64_t M, int64_t N, int64_t K,
            bool trans_a, bool trans_b, float alpha = 1.0f, float beta = 0.0f);

void bias_add(DType dt, const void* x, const void* b, void* y, int64_t rows, int64_t C, void* stream);

// Bytes of scratch for a deterministic sum over `rows` of a [rows, C] tensor.
size_t column_reduce_workspace_bytes(int64_t rows, int64_t C);

// db[c] = sum_r dy[r, c]. workspace: column_reduce_workspace_bytes(rows, C) bytes on the device.
void bias_grad(DType dt, const void* dy, void* db, int64_t rows, int64_t C, void* workspace, void* stream);

void prelu(DType dt, const void* x, const void* alpha, void* y, int64_t rows, int64_t C, void* stream);

// dx and/or dalpha (either may be null); workspace as for bias_grad (unused when dalpha is null).
void prelu_backward(DType dt, const void* x, const void* alpha, const void* dy, void* dx, void* dalpha, int64_t rows,
                    int64_t C, void* workspace, void* stream);

}  // namespace facet::cuda
