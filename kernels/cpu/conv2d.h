// 2-D convolution on the CPU: geometry (TF SAME / VALID / explicit pads), regular convolution
// forward and both backwards through im2col + OpenBLAS GEMM, and depthwise convolution.
//
// Layouts (see the project conventions): activations NHWC, regular weights OHWI [k, kh, kw, c]
// (so one output channel's weights are one contiguous im2col row), depthwise weights [kh, kw, c]
// with channel multiplier 1, bias [k]. TF SAME puts the odd pad pixel after (bottom / right).
//
// Regular conv is on the training hot path of the CPU backend, so it is fast: im2col is done in
// row blocks of the (batch * oh * ow) x (kh * kw * c) patch matrix that fit in cache, each block
// feeding one sgemm/dgemm; 1x1 stride-1 unpadded convs are one plain GEMM over the whole batch.
// The caller owns the workspace (conv2d_workspace_elems) so the hot path never allocates.
// Depthwise is direct loops with the channel loop innermost (vectorised by the compiler).
#pragma once
#include <cstdint>

namespace facet::cpu {

struct Conv2dGeom {
  int64_t n, h, w, c, k /*out ch*/, kh, kw, stride_h, stride_w, pad_top, pad_bottom, pad_left, pad_right, oh, ow;

  int64_t patch() const { return kh * kw * c; }   // im2col row length (regular conv)
  int64_t out_pixels() const { return n * oh * ow; }
  // 1x1, stride 1, no padding: the conv is a GEMM on the input as it lies in memory.
  bool is_pointwise() const {
    return kh == 1 && kw == 1 && stride_h == 1 && stride_w == 1 && pad_top == 0 && pad_bottom == 0 &&
           pad_left == 0 && pad_right == 0;
  }
};

// TensorFlow SAME along one axis: out = ceil(in / stride), pad_total = max((out-1)*stride + k - in, 0),
// before = total / 2, after = total - before.
void tf_same_pads(int64_t in, int64_t k, int64_t stride, int64_t* before, int64_t* after);
// floor((in + before + after - k) / stride) + 1, or 0 when the padded input is smaller than k.
int64_t conv_out_size(int64_t in, int64_t k, int64_t stride, int64_t before, int64_t after);

Conv2dGeom conv2d_geom_explicit(int64_t n, int64_t h, int64_t w, int64_t c, int64_t k, int64_t kh, int64_t kw,
                                int64_t stride_h, int64_t stride_w, int64_t pad_top, int64_t pad_bottom,
                                int64_t pad_left, int64_t pad_right);
Conv2dGeom conv2d_geom_same(int64_t n, int64_t h, int64_t w, int64_t c, int64_t k, int64_t kh, int64_t kw,
                            int64_t stride_h, int64_t stride_w);
Conv2dGeom conv2d_geom_valid(int64_t n, int64_t h, int64_t w, int64_t c, int64_t k, int64_t kh, int64_t kw,
                             int64_t stride_h, int64_t stride_w);

// Elements of T the regular-conv functions below need as workspace (0 for pointwise convs).
// The same size serves forward, backward-data and backward-filter.
int64_t conv2d_workspace_elems(const Conv2dGeom& g);

// y[n, oh, ow, k] = sum x * w (+ bias[k]); bias may be null. y is overwritten.
template <typename T>
void conv2d_forward(const Conv2dGeom& g, const T* x, const T* w, const T* bias, T* y, T* workspace);

// dx[n, h, w, c] = gradient of sum(y * dy) w.r.t. x. dx is overwritten.
template <typename T>
void conv2d_backward_data(const Conv2dGeom& g, const T* dy, const T* w, T* dx, T* workspace);

// dw[k, kh, kw, c] (overwritten) and, when dbias is not null, dbias[k] = sum of dy over n, oh, ow.
template <typename T>
void conv2d_backward_filter(const Conv2dGeom& g, const T* x, const T* dy, T* dw, T* dbias, T* workspace);

// dbias[k] = sum of dy[rows, k] over rows (rows = n * oh * ow). Also used by depthwise (k = c).
template <typename T>
void conv2d_bias_backward(int64_t rows, int64_t k, const T* dy, T* dbias);

// Depthwise: g.k must equal g.c. w is [kh, kw, c]; bias [c] may be null. Outputs overwritten.
template <typename T>
void depthwise_conv2d_forward(const Conv2dGeom& g, const T* x, const T* w, const T* bias, T* y);
template <typename T>
void depthwise_conv2d_backward_data(const Conv2dGeom& g, const T* dy, const T* w, T* dx);
template <typename T>
void depthwise_conv2d_backward_filter(const Conv2dGeom& g, const T* x, const T* dy, T* dw, T* dbias);

}  // namespace facet::cpu
