// Gaussian blur exactly as DeepFaceLab's nn.gaussian_blur (core/leras/ops L215-245): a 1-D
// Gaussian sampled at integer offsets from the centre, normalised, applied as a depthwise 2-D
// filter (the outer product of the 1-D kernel with itself) with zero padding and SAME-size output.
// DFL normalises the 2-D kernel by its sum; that sum is (sum of the 1-D kernel)^2, so running the
// normalised 1-D kernel along W and then along H is the same filter, which is how we compute it.
// The same window (centre (size-1)/2, sum 1) is DSSIM's: softmax over the outer sum of the two
// squared offsets factorises into the product of two normalised 1-D windows (kernels/cpu/losses).
#pragma once
#include <cstdint>

namespace facet::cpu {

// DFL's kernel-size rule: max(3, int(4*sigma)), plus one when even. sigma = 4 gives 17.
int64_t gaussian_blur_kernel_size(double sigma);

// w[i] = exp(-(i - (size-1)/2)^2 / (2 sigma^2)) / sum, computed in double. Any size >= 1 (even
// sizes put the centre between two taps, as DSSIM's window does for an even filter_size).
template <typename T>
void gaussian_window_1d(int64_t size, double sigma, T* w);

// y = blur(x) for NHWC x, every channel alike. ks must be odd (the SAME padding is ks/2 on each
// side). x and y must not alias. The blur is its own adjoint (symmetric kernel, zero padding), so
// the backward pass is gaussian_blur(grad_y) -> grad_x; tests/kernels/test_losses_cpu.cpp checks it.
template <typename T>
void gaussian_blur(const T* x, T* y, int64_t N, int64_t H, int64_t W, int64_t C, double sigma, int64_t ks);

}  // namespace facet::cpu
