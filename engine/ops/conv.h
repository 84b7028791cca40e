// 2-D convolution ops: regular (NHWC input, OHWI weight [out, kh, kw, in]) and depthwise
// (weight [kh, kw, C], channel multiplier 1), each with an optional bias and TF-style padding.
// Both are differentiable and record one tape node (input, weight and bias gradients together).
// CPU: kernels/cpu/conv2d (im2col + OpenBLAS); CUDA: cuDNN for regular, own kernels for depthwise.
#pragma once
#include <cstdint>

#include "engine/core/context.h"
#include "engine/tensor/tensor.h"
#include "kernels/cpu/conv2d.h"

namespace facet {

enum class Padding {
  Same,      // TensorFlow SAME: out = ceil(in / stride), the odd pad pixel after (bottom / right)
  Valid,     // no padding
  Explicit,  // pad_top / pad_bottom / pad_left / pad_right below
};

struct Conv2dOptions {
  int64_t stride_h = 1, stride_w = 1;
  Padding padding = Padding::Same;
  int64_t pad_top = 0, pad_bottom = 0, pad_left = 0, pad_right = 0;  // Padding::Explicit only

  static Conv2dOptions same(int64_t stride = 1) { return {stride, stride, Padding::Same, 0, 0, 0, 0}; }
  static Conv2dOptions valid(int64_t stride = 1) { return {stride, stride, Padding::Valid, 0, 0, 0, 0}; }
  static Conv2dOptions pads(int64_t top, int64_t bottom, int64_t left, int64_t right, int64_t stride = 1) {
    return {stride, stride, Padding::Explicit, top, bottom, left, right};
  }
  // DeepFaceLab's "SAME": symmetric (k - 1) / 2 on every side, which for even inputs and stride 2
  // differs from TF SAME (core/leras/layers/Conv2D.py pads explicitly, then runs a VALID conv).
  static Conv2dOptions symmetric(int64_t k, int64_t stride = 1) {
    const int64_t p = (k - 1) / 2;
    return pads(p, p, p, p, stride);
  }
};

// x [N, H, W, C], w [K, kh, kw, C], bias [K] or undefined -> [N, OH, OW, K].
Tensor conv2d(Context& ctx, const Tensor& x, const Tensor& w, const Tensor& bias, const Conv2dOptions& opt);

// leaky_relu(conv2d(x, w, bias), slope) as one op (slope > 0): the same values, written once (the
// CPU's oneDNN convolutions apply it as a post-op), and a tape node that keeps only the output.
Tensor conv2d_leaky_relu(Context& ctx, const Tensor& x, const Tensor& w, const Tensor& bias, const Conv2dOptions& opt,
                         double slope);

// x [N, H, W, C], w [kh, kw, C], bias [C] or undefined -> [N, OH, OW, C].
Tensor depthwise_conv2d(Context& ctx, const Tensor& x, const Tensor& w, const Tensor& bias, const Conv2dOptions& opt);

// The geometry conv2d would use (output size, resolved pads), validated with the op's messages.
// out_channels is w.dim(0) for regular conv and C for depthwise.
cpu::Conv2dGeom conv2d_geometry(const char* op, const Shape& x, int64_t out_channels, int64_t kh, int64_t kw,
                                const Conv2dOptions& opt);

}  // namespace facet
