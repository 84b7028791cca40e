// Host references for max pooling and bilinear resize (see pool_resize.h). Backward passes are
// written as scatters from each output pixel, the direct transpose of the forward loops; the
// CUDA versions gather instead (no atomics) and are checked against these.
#include "kernels/cpu/pool_resize.h"

#include <algorithm>
#include <limits>

namespace facet::cpu {

namespace {
// Index (row*W + col) of the first maximum of one window for channel c, or -1 if the window
// lies entirely in the padding. Strict '>' keeps the first maximum on ties.
template <typename T>
int64_t window_argmax(const T* img, int64_t H, int64_t W, int64_t C, int64_t c, int64_t r0, int64_t c0,
                      int64_t kh, int64_t kw) {
  int64_t best_i = -1;
  T best = 0;
  for (int64_t a = 0; a < kh; ++a) {
    const int64_t h = r0 + a;
    if (h < 0 || h >= H) continue;
    for (int64_t b = 0; b < kw; ++b) {
      const int64_t w = c0 + b;
      if (w < 0 || w >= W) continue;
      const T v = img[(h * W + w) * C + c];
      if (best_i < 0 || v > best) {
        best = v;
        best_i = h * W + w;
      }
    }
  }
  return best_i;
}
}  // namespace

template <typename T>
void max_pool2d(const T* x, T* y, int64_t N, int64_t H, int64_t W, int64_t C, int64_t kh, int64_t kw,
                int64_t sh, int64_t sw, int64_t pad_top, int64_t pad_left, int64_t OH, int64_t OW) {
  // The value window_argmax picks (the first maximum, so a NaN first in its window stays and a
  // later one is passed over), computed a whole pixel of channels at a time so that it vectorises.
  for (int64_t n = 0; n < N; ++n) {
    const T* img = x + n * H * W * C;
    for (int64_t oh = 0; oh < OH; ++oh)
      for (int64_t ow = 0; ow < OW; ++ow) {
        T* out = y + ((n * OH + oh) * OW + ow) * C;
        bool any = false;
        for (int64_t a = 0; a < kh; ++a) {
          const int64_t h = oh * sh - pad_top + a;
          if (h < 0 || h >= H) continue;
          for (int64_t b = 0; b < kw; ++b) {
            const int64_t w = ow * sw - pad_left + b;
            if (w < 0 || w >= W) continue;
            const T* px = img + (h * W + w) * C;
            if (!any) {
              std::copy(px, px + C, out);
              any = true;
              continue;
            }
            for (int64_t c = 0; c < C; ++c) {
              const T v = px[c], best = out[c];
              out[c] = v > best ? v : best;
            }
          }
        }
        if (!any) std::fill(out, out + C, -std::numeric_limits<T>::infinity());
      }
  }
}

template <typename T>
void max_pool2d_backward(const T* x, const T* dy, T* dx, int64_t N, int64_t H, int64_t W, int64_t C,
                         int64_t kh, int64_t kw, int64_t sh, int64_t sw, int64_t pad_top, int64_t pad_left,
                         int64_t OH, int64_t OW) {
  std::fill(dx, dx + N * H * W * C, T(0));
  for (int64_t n = 0; n < N; ++n) {
    const T* img = x + n * H * W * C;
    T* gimg = dx + n * H * W * C;
    for (int64_t oh = 0; oh < OH; ++oh)
      for (int64_t ow = 0; ow < OW; ++ow)
        for (int64_t c = 0; c < C; ++c) {
          const int64_t i = window_argmax(img, H, W, C, c, oh * sh - pad_top, ow * sw - pad_left, kh, kw);
          if (i >= 0) gimg[i * C + c] += dy[((n * OH + oh) * OW + ow) * C + c];
        }
  }
}

template <typename T>
void resize_bilinear(const T* x, T* y, int64_t N, int64_t H, int64_t W, int64_t C, int64_t OH, int64_t OW) {
  for (int64_t n = 0; n < N; ++n) {
    const T* img = x + n * H * W * C;
    for (int64_t oh = 0; oh < OH; ++oh) {
      const LerpTap<T> ty = half_pixel_tap<T>(oh, H, OH);
      for (int64_t ow = 0; ow < OW; ++ow) {
        const LerpTap<T> tx = half_pixel_tap<T>(ow, W, OW);
        const T* p00 = img + (ty.lo * W + tx.lo) * C;
        const T* p01 = img + (ty.lo * W + tx.hi) * C;
        const T* p10 = img + (ty.hi * W + tx.lo) * C;
        const T* p11 = img + (ty.hi * W + tx.hi) * C;
        T* out = y + ((n * OH + oh) * OW + ow) * C;
        const T w00 = (1 - ty.w) * (1 - tx.w), w01 = (1 - ty.w) * tx.w;
        const T w10 = ty.w * (1 - tx.w), w11 = ty.w * tx.w;
        for (int64_t c = 0; c < C; ++c) out[c] = w00 * p00[c] + w01 * p01[c] + w10 * p10[c] + w11 * p11[c];
      }
    }
  }
}

template <typename T>
void resize_bilinear_backward(const T* dy, T* dx, int64_t N, int64_t H, int64_t W, int64_t C, int64_t OH,
                              int64_t OW) {
  std::fill(dx, dx + N * H * W * C, T(0));
  for (int64_t n = 0; n < N; ++n) {
    T* g = dx + n * H * W * C;
    for (int64_t oh = 0; oh < OH; ++oh) {
      const LerpTap<T> ty = half_pixel_tap<T>(oh, H, OH);
      for (int64_t ow = 0; ow < OW; ++ow) {
        const LerpTap<T> tx = half_pixel_tap<T>(ow, W, OW);
        const T* go = dy + ((n * OH + oh) * OW + ow) * C;
        const T w00 = (1 - ty.w) * (1 - tx.w), w01 = (1 - ty.w) * tx.w;
        const T w10 = ty.w * (1 - tx.w), w11 = ty.w * tx.w;
        for (int64_t c = 0; c < C; ++c) {
          g[(ty.lo * W + tx.lo) * C + c] += w00 * go[c];
          g[(ty.lo * W + tx.hi) * C + c] += w01 * go[c];
          g[(ty.hi * W + tx.lo) * C + c] += w10 * go[c];
          g[(ty.hi * W + tx.hi) * C + c] += w11 * go[c];
        }
      }
    }
  }
}

#define FACET_POOL_RESIZE_INSTANTIATE(T)                                                                    \
  template void max_pool2d<T>(const T*, T*, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, \
                              int64_t, int64_t, int64_t, int64_t, int64_t);                                 \
  template void max_pool2d_backward<T>(const T*, const T*, T*, int64_t, int64_t, int64_t, int64_t, int64_t, \
                                       int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t);      \
  template void resize_bilinear<T>(const T*, T*, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t);    \
  template void resize_bilinear_backward<T>(const T*, T*, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t);

FACET_POOL_RESIZE_INSTANTIATE(float)
FACET_POOL_RESIZE_INSTANTIATE(double)
#undef FACET_POOL_RESIZE_INSTANTIATE

}  // namespace facet::cpu
