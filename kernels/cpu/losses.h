// Training losses of DeepFaceLab's SAEHD (models/Model_SAEHD/Model.py), CPU reference.
// Every loss returns a per-sample vector [N], as DFL does; the backward takes the gradient of
// that vector (DFL differentiates its sum over the batch) and writes (=, not +=) the input grads.
//
// DSSIM is nn.dssim with max_val 1, k1 0.01, k2 0.03: window softmax(-0.5(x²+y²)/sigma²) on a
// filter_size² grid centred at (fs-1)/2, depthwise VALID filtering, ssim = luminance·cs averaged
// over the valid pixels of each (sample, channel), dssim = (1 - ssim)/2, loss = mean over channels.
// The backward is the exact analytic gradient with respect to both images (recomputing the
// window statistics instead of saving them).
#pragma once
#include <cstdint>

namespace facet::cpu {

// a, b: [N, H, W, C]; requires fs <= H and fs <= W. per_channel ([N, C], may be null) receives
// (1 - ssim)/2 per channel, loss ([N]) its mean over C.
template <typename T>
void dssim_forward(const T* a, const T* b, int64_t N, int64_t H, int64_t W, int64_t C, int64_t fs, double sigma,
                   T* per_channel, T* loss);

// grad_loss: [N]. grad_a / grad_b ([N, H, W, C]) may be null when not wanted.
template <typename T>
void dssim_backward(const T* a, const T* b, int64_t N, int64_t H, int64_t W, int64_t C, int64_t fs, double sigma,
                    const T* grad_loss, T* grad_a, T* grad_b);

// Masked mean squared error and mean absolute error per sample:
//   loss[n] = (1/M) * sum_i w_i * (a_i - b_i)^2   (or |a_i - b_i|),  i over the M elements of sample n.
// The innermost axis has C elements (M is a multiple of C). mask is null (w = 1), or holds one
// weight per element (mask_c == C), or one per innermost row broadcast over the C axis
// (mask_c == 1, e.g. a [N,H,W,1] mask for [N,H,W,C] images). The mean is over all M elements, not
// over the mask's area, as in DFL. The mask gets no gradient.
template <typename T>
void mse_forward(const T* a, const T* b, const T* mask, int64_t N, int64_t M, int64_t C, int64_t mask_c, T* loss);
template <typename T>
void mse_backward(const T* a, const T* b, const T* mask, int64_t N, int64_t M, int64_t C, int64_t mask_c,
                  const T* grad_loss, T* grad_a, T* grad_b);
// The L1 gradient uses sign(a - b) with sign(0) = 0.
template <typename T>
void l1_forward(const T* a, const T* b, const T* mask, int64_t N, int64_t M, int64_t C, int64_t mask_c, T* loss);
template <typename T>
void l1_backward(const T* a, const T* b, const T* mask, int64_t N, int64_t M, int64_t C, int64_t mask_c,
                 const T* grad_loss, T* grad_a, T* grad_b);

}  // namespace facet::cpu
