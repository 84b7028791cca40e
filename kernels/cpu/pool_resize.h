// Host references for the spatial resampling ops on NHWC images: TensorFlow-semantics max
// pooling (SAME pads with -inf, so padding never wins) and half-pixel-centre bilinear resize
// (TF2 / TFLite half_pixel_centers=true, align_corners=false), each with its backward.
// Backward kernels OVERWRITE dx (the CUDA twins gather per input pixel, so no pre-zeroing pass).
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>

namespace facet::cpu {

// TF pooling/conv geometry along one axis. SAME: out = ceil(in/s), pad_total = max((out-1)*s +
// k - in, 0), pad_before = pad_total/2 (the odd extra goes after). VALID: out = ceil((in-k+1)/s).
inline void tf_window_geometry(int64_t in, int64_t k, int64_t s, bool same, int64_t* out, int64_t* pad_before) {
  if (same) {
    *out = (in + s - 1) / s;
    const int64_t total = std::max<int64_t>((*out - 1) * s + k - in, 0);
    *pad_before = total / 2;
  } else {
    *out = in >= k ? (in - k) / s + 1 : 0;
    *pad_before = 0;
  }
}

// y [N,OH,OW,C]: max over the window rows oh*sh - pad_top + [0,kh), cols ow*sw - pad_left + [0,kw),
// skipping positions outside the image. A window with no pixel inside yields -inf.
template <typename T>
void max_pool2d(const T* x, T* y, int64_t N, int64_t H, int64_t W, int64_t C, int64_t kh, int64_t kw,
                int64_t sh, int64_t sw, int64_t pad_top, int64_t pad_left, int64_t OH, int64_t OW);
// dx = dy routed to each window's argmax (the first maximum in row-major window order).
template <typename T>
void max_pool2d_backward(const T* x, const T* dy, T* dx, int64_t N, int64_t H, int64_t W, int64_t C,
                         int64_t kh, int64_t kw, int64_t sh, int64_t sw, int64_t pad_top, int64_t pad_left,
                         int64_t OH, int64_t OW);

// One output coordinate's two source taps and the weight of the upper one, exactly as TF's
// compute_interpolation_weights: src = (o + 0.5) * in/out - 0.5; lo = max(floor(src), 0),
// hi = min(ceil(src), in - 1), w = src - floor(src). Out-of-range sources collapse onto the edge.
template <typename T>
struct LerpTap {
  int64_t lo, hi;
  T w;
};
template <typename T>
inline LerpTap<T> half_pixel_tap(int64_t o, int64_t in, int64_t out) {
  const T scale = static_cast<T>(in) / static_cast<T>(out);
  const T src = (static_cast<T>(o) + T(0.5)) * scale - T(0.5);
  const T f = std::floor(src);
  LerpTap<T> t;
  t.lo = std::max<int64_t>(static_cast<int64_t>(f), 0);
  t.hi = std::min<int64_t>(static_cast<int64_t>(std::ceil(src)), in - 1);
  t.w = src - f;
  return t;
}

// x [N,H,W,C] -> y [N,OH,OW,C].
template <typename T>
void resize_bilinear(const T* x, T* y, int64_t N, int64_t H, int64_t W, int64_t C, int64_t OH, int64_t OW);
// dx [N,H,W,C] = the transpose of the map above applied to dy [N,OH,OW,C].
template <typename T>
void resize_bilinear_backward(const T* dy, T* dx, int64_t N, int64_t H, int64_t W, int64_t C, int64_t OH,
                              int64_t OW);

}  // namespace facet::cpu
