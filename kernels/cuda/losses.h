// CUDA twins of kernels/cpu/losses.h: DSSIM, masked MSE and masked L1, per-sample loss vectors,
// forward and backward, f32 and bf16 storage with f32 math. Every reduction is deterministic
// (fixed partial blocks, fixed-order trees, no atomics), so equal inputs give equal bits.
// The callers own a device workspace of the size the *_workspace_bytes functions return.
#pragma once
#include <cstddef>
#include <cstdint>

#include "kernels/common/dtype.h"

namespace facet::cuda {

// Enough for both dssim_forward and dssim_backward on these sizes.
size_t dssim_workspace_bytes(int64_t N, int64_t H, int64_t W, int64_t C, int64_t fs);
// per_channel ([N, C], may be null) and loss ([N]) in dt.
void dssim_forward(DType dt, const void* a, const void* b, int64_t N, int64_t H, int64_t W, int64_t C, int64_t fs,
                   double sigma, void* per_channel, void* loss, void* workspace, void* stream);
// grad_loss [N]; grad_a / grad_b may be null.
void dssim_backward(DType dt, const void* a, const void* b, int64_t N, int64_t H, int64_t W, int64_t C, int64_t fs,
                    double sigma, const void* grad_loss, void* grad_a, void* grad_b, void* workspace, void* stream);

// Masked MSE / L1 (mask null, or mask_c == 1 broadcast over the innermost C axis, or mask_c == C).
size_t loss_workspace_bytes(int64_t N, int64_t M);
void mse_forward(DType dt, const void* a, const void* b, const void* mask, int64_t N, int64_t M, int64_t C,
                 int64_t mask_c, void* loss, void* workspace, void* stream);
void mse_backward(DType dt, const void* a, const void* b, const void* mask, int64_t N, int64_t M, int64_t C,
                  int64_t mask_c, const void* grad_loss, void* grad_a, void* grad_b, void* stream);
void l1_forward(DType dt, const void* a, const void* b, const void* mask, int64_t N, int64_t M, int64_t C,
                int64_t mask_c, void* loss, void* workspace, void* stream);
void l1_backward(DType dt, const void* a, const void* b, const void* mask, int64_t N, int64_t M, int64_t C,
                 int64_t mask_c, const void* grad_loss, void* grad_a, void* grad_b, void* stream);

}  // namespace facet::cuda
