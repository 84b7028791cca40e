// Differentiable spatial resampling on NHWC images: TensorFlow max pooling (SAME pads with -inf,
// so padding never wins; the gradient goes to the first maximum of each window) and half-pixel
// bilinear resize (TF2 tf.image.resize / TFLite RESIZE_BILINEAR with half_pixel_centers=true).
#pragma once
#include <cstdint>

#include "engine/core/context.h"
#include "engine/tensor/tensor.h"

namespace facet {

// TF padding modes for pooling. SAME: out = ceil(in/stride), the odd pad pixel goes after.
// VALID: out = ceil((in - k + 1)/stride), no padding.
enum class PoolPadding { Same, Valid };

Tensor max_pool2d(Context& ctx, const Tensor& x, int kernel_h, int kernel_w, int stride_h, int stride_w,
                  PoolPadding padding);
inline Tensor max_pool2d(Context& ctx, const Tensor& x, int kernel, int stride, PoolPadding padding) {
  return max_pool2d(ctx, x, kernel, kernel, stride, stride, padding);
}

// x [N,H,W,C] -> [N,out_h,out_w,C]; src = (dst + 0.5) * in/out - 0.5 with TF's edge clamping.
// No antialiasing when shrinking (as in TF). Backward is deterministic on both backends.
Tensor resize_bilinear(Context& ctx, const Tensor& x, int64_t out_h, int64_t out_w);

// Anti-aliased downsampling (Zhang, "Making Convolutional Networks Shift-Invariant Again", ICML
// 2019; DeepFaceLab's core/leras/layers/BlurPool.py): each channel convolved with the normalised
// outer product of the binomial row of `size` taps (1 | 1 1 | 1 2 1 | 1 3 3 1 | ...), zero padding
// floor((size-1)/2) before and ceil((size-1)/2) after, stride 2: out = ceil(in / 2).
// The filter is a constant [size, size, C] for depthwise_conv2d, built once by its user.
Tensor blur_pool_filter(Context& ctx, int size, int64_t channels, DType dtype, Device device);
// x [N,H,W,C] with the filter of blur_pool_filter (no gradient flows into it).
Tensor blur_pool2d(Context& ctx, const Tensor& x, const Tensor& filter);

}  // namespace facet
