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

}  // namespace facet
