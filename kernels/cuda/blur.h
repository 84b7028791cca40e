// CUDA twin of kernels/cpu/blur.h: DFL's depthwise Gaussian blur (zero padding, SAME size), run
// as a W pass into an f32 scratch plane and an H pass; f32 and bf16 storage, f32 math.
// The window is computed on the device (one deterministic block, double precision) so a call
// needs no host-to-device copy and can sit inside a captured CUDA graph.
#pragma once
#include <cstddef>
#include <cstdint>

#include "kernels/common/dtype.h"

namespace facet::cuda {

// Device bytes of the workspace gaussian_blur needs (the window and an f32 W-pass plane).
size_t gaussian_blur_workspace_bytes(int64_t N, int64_t H, int64_t W, int64_t C, int64_t ks);

// y = blur(x), NHWC; ks odd (see cpu::gaussian_blur_kernel_size for DFL's default). x and y must
// not alias. The backward of the blur is the same call on the output gradient.
void gaussian_blur(DType dt, const void* x, void* y, void* workspace, int64_t N, int64_t H, int64_t W, int64_t C,
                   double sigma, int64_t ks, void* stream);

// Writes the normalised 1-D window of cpu::gaussian_window_1d (size floats) to device memory w.
// DSSIM (kernels/cuda/losses.cu) uses it too.
void gaussian_window(float* w, int64_t size, double sigma, void* stream);

}  // namespace facet::cuda
