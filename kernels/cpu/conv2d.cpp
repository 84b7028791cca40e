// CPU convolution: im2col + BLAS GEMM for regular conv, direct loops for depthwise.
// See conv2d.h for layouts. The patch matrix of the whole batch is (n*oh*ow) x (kh*kw*c); it is
// never materialised whole (8 x 64x64 x 3x3x64 floats would be 75 MB) but built in blocks of rows
// sized to stay in the last-level cache, each block multiplied at once so the GEMM reads it from cache.
//
// The forward never lets a block span two images: every GEMM it makes has the same shape whatever
// the batch size, so an image's output is bit-identical whether it is run alone or in a batch.
// BLAS libraries pick kernels (and with them the order of the K-sums) by problem size -- OpenBLAS's
// small-matrix kernels on AVX-512 CPUs, for one -- so a block that spans images would tie a frame's
// swap to how frames happened to be batched (a resumed merge would then differ from an
// uninterrupted one). The backward passes are training-only and keep whole-batch blocks.
#include "kernels/cpu/conv2d.h"

#include <cblas.h>

#include <algorithm>
#include <cstring>

#include "kernels/cpu/parallel.h"

namespace facet::cpu {

// Rows per im2col block are chosen so a block holds about this many elements (4 MB of floats).
// Large enough that each GEMM call amortises OpenBLAS's packing and thread start-up, small enough
// to stay in cache. Measured on the 64->64 3x3 64x64 batch-8 case with 2 OpenBLAS threads:
// 2^18 gave 129 GFLOP/s forward, 2^20 147, 2^22 117 (sgemm 2048^3: 198).
static constexpr int64_t kColBlockElems = 1 << 20;

void tf_same_pads(int64_t in, int64_t k, int64_t stride, int64_t* before, int64_t* after) {
  const int64_t out = (in + stride - 1) / stride;
  const int64_t total = std::max<int64_t>((out - 1) * stride + k - in, 0);
  *before = total / 2;
  *after = total - *before;
}

int64_t conv_out_size(int64_t in, int64_t k, int64_t stride, int64_t before, int64_t after) {
  const int64_t span = in + before + after - k;
  return span < 0 ? 0 : span / stride + 1;
}

Conv2dGeom conv2d_geom_explicit(int64_t n, int64_t h, int64_t w, int64_t c, int64_t k, int64_t kh, int64_t kw,
                                int64_t stride_h, int64_t stride_w, int64_t pad_top, int64_t pad_bottom,
                                int64_t pad_left, int64_t pad_right) {
  Conv2dGeom g{n, h, w, c, k, kh, kw, stride_h, stride_w, pad_top, pad_bottom, pad_left, pad_right, 0, 0};
  g.oh = conv_out_size(h, kh, stride_h, pad_top, pad_bottom);
  g.ow = conv_out_size(w, kw, stride_w, pad_left, pad_right);
  return g;
}

Conv2dGeom conv2d_geom_same(int64_t n, int64_t h, int64_t w, int64_t c, int64_t k, int64_t kh, int64_t kw,
                            int64_t stride_h, int64_t stride_w) {
  int64_t pt, pb, pl, pr;
  tf_same_pads(h, kh, stride_h, &pt, &pb);
  tf_same_pads(w, kw, stride_w, &pl, &pr);
  return conv2d_geom_explicit(n, h, w, c, k, kh, kw, stride_h, stride_w, pt, pb, pl, pr);
}

Conv2dGeom conv2d_geom_valid(int64_t n, int64_t h, int64_t w, int64_t c, int64_t k, int64_t kh, int64_t kw,
                             int64_t stride_h, int64_t stride_w) {
  return conv2d_geom_explicit(n, h, w, c, k, kh, kw, stride_h, stride_w, 0, 0, 0, 0);
}

namespace {

int64_t block_rows(const Conv2dGeom& g) {
  const int64_t rows = std::max<int64_t>(1, kColBlockElems / std::max<int64_t>(1, g.patch()));
  return std::min(rows, std::max<int64_t>(1, g.out_pixels()));
}

// Output pixels of one image.
int64_t image_pixels(const Conv2dGeom& g) { return g.oh * g.ow; }

// Row-major C[M,N] = alpha * op(A) * op(B) + beta * C.
inline void gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
                 const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, (blasint)m, (blasint)n,
              (blasint)k, alpha, a, (blasint)lda, b, (blasint)ldb, beta, c, (blasint)ldc);
}
inline void gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, double alpha, const double* a, int64_t lda,
                 const double* b, int64_t ldb, double beta, double* c, int64_t ldc) {
  cblas_dgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, (blasint)m, (blasint)n,
              (blasint)k, alpha, a, (blasint)lda, b, (blasint)ldb, beta, c, (blasint)ldc);
}

// Walks output pixels p0 .. p0+rows-1 of the batch and, for each kernel row i, hands `fn` the
// in-bounds kernel-column range [j_lo, j_hi) and the input row it reads. Without dilation the
// in-bounds taps of one kernel row read kw*c (or fewer) CONTIGUOUS NHWC elements whatever the
// stride, so im2col and col2im are a memcpy / an add loop per kernel row.
template <typename Fn>
inline void for_patch_rows(const Conv2dGeom& g, int64_t p0, int64_t rows, Fn&& fn) {
  const int64_t per_img = g.oh * g.ow;
  int64_t n = p0 / per_img, rem = p0 % per_img, oy = rem / g.ow, ox = rem % g.ow;
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t iy0 = oy * g.stride_h - g.pad_top, ix0 = ox * g.stride_w - g.pad_left;
    const int64_t j_lo = std::max<int64_t>(0, -ix0), j_hi = std::min<int64_t>(g.kw, g.w - ix0);
    for (int64_t i = 0; i < g.kh; ++i) {
      const int64_t iy = iy0 + i;
      const bool row_in = iy >= 0 && iy < g.h && j_hi > j_lo;
      // offset of tap (iy, ix0 + j_lo) in the input; only meaningful when row_in
      const int64_t xoff = row_in ? ((n * g.h + iy) * g.w + ix0 + j_lo) * g.c : 0;
      fn(r, i, row_in, j_lo, j_hi, xoff);
    }
    if (++ox == g.ow) {
      ox = 0;
      if (++oy == g.oh) { oy = 0; ++n; }
    }
  }
}

template <typename T>
void im2col_rows(const Conv2dGeom& g, const T* x, int64_t p0, int64_t rows, T* col) {
  const int64_t P = g.patch(), C = g.c, KW = g.kw;
  for_patch_rows(g, p0, rows, [&](int64_t r, int64_t i, bool row_in, int64_t j_lo, int64_t j_hi, int64_t xoff) {
    T* d = col + r * P + i * KW * C;
    if (!row_in) {
      std::memset(d, 0, sizeof(T) * KW * C);
      return;
    }
    if (j_lo > 0) std::memset(d, 0, sizeof(T) * j_lo * C);
    std::memcpy(d + j_lo * C, x + xoff, sizeof(T) * (j_hi - j_lo) * C);
    if (j_hi < KW) std::memset(d + j_hi * C, 0, sizeof(T) * (KW - j_hi) * C);
  });
}

// im2col_rows for a block, its rows spread over the thread pool (each row is written by one thread).
template <typename T>
void im2col_block(const Conv2dGeom& g, const T* x, int64_t p0, int64_t rows, T* col) {
  const int64_t grain = std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(1, g.patch()));
  parallel_chunks(rows, grain, [&](int64_t r0, int64_t r1) { im2col_rows(g, x, p0 + r0, r1 - r0, col + r0 * g.patch()); });
}

// dx += scatter of a block of patch-gradient rows (padding taps are dropped).
template <typename T>
void col2im_rows(const Conv2dGeom& g, const T* col, int64_t p0, int64_t rows, T* dx) {
  const int64_t P = g.patch(), C = g.c, KW = g.kw;
  for_patch_rows(g, p0, rows, [&](int64_t r, int64_t i, bool row_in, int64_t j_lo, int64_t j_hi, int64_t xoff) {
    if (!row_in) return;
    const T* s = col + r * P + i * KW * C + j_lo * C;
    T* d = dx + xoff;
    const int64_t len = (j_hi - j_lo) * C;
    for (int64_t e = 0; e < len; ++e) d[e] += s[e];
  });
}

template <typename T>
void fill_bias_rows(int64_t rows, int64_t k, const T* bias, T* y) {
  parallel_chunks(rows, std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(1, k)), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) std::memcpy(y + r * k, bias, sizeof(T) * k);
  });
}

}  // namespace

int64_t conv2d_workspace_elems(const Conv2dGeom& g) {
  if (g.is_pointwise()) return 0;
  return block_rows(g) * g.patch();
}

template <typename T>
void conv2d_forward(const Conv2dGeom& g, const T* x, const T* w, const T* bias, T* y, T* workspace) {
  const int64_t NP = g.out_pixels(), K = g.k, P = g.patch();
  if (NP == 0 || K == 0) return;
  if (P == 0) {  // no input channels: the output is the bias alone
    for (int64_t r = 0; r < NP; ++r)
      for (int64_t o = 0; o < K; ++o) y[r * K + o] = bias ? bias[o] : T(0);
    return;
  }
  const int64_t IP = image_pixels(g);
  if (g.is_pointwise()) {  // the input rows are the patch rows: one GEMM per image
    if (bias) fill_bias_rows(NP, K, bias, y);
    for (int64_t p0 = 0; p0 < NP; p0 += IP)
      gemm(false, true, IP, K, P, T(1), x + p0 * P, P, w, P, bias ? T(1) : T(0), y + p0 * K, K);
    return;
  }
  const int64_t B = std::min(block_rows(g), IP);
  for (int64_t i0 = 0; i0 < NP; i0 += IP)
    for (int64_t p0 = i0; p0 < i0 + IP; p0 += B) {
      const int64_t rows = std::min(B, i0 + IP - p0);
      im2col_block(g, x, p0, rows, workspace);
      T* yb = y + p0 * K;
      if (bias) fill_bias_rows(rows, K, bias, yb);
      gemm(false, true, rows, K, P, T(1), workspace, P, w, P, bias ? T(1) : T(0), yb, K);
    }
}

template <typename T>
void conv2d_backward_data(const Conv2dGeom& g, const T* dy, const T* w, T* dx, T* workspace) {
  const int64_t NP = g.out_pixels(), K = g.k, P = g.patch();
  if (g.is_pointwise()) {
    if (NP == 0 || P == 0) return;
    if (K == 0) {
      std::memset(dx, 0, sizeof(T) * NP * P);
      return;
    }
    gemm(false, false, NP, P, K, T(1), dy, K, w, P, T(0), dx, P);
    return;
  }
  std::memset(dx, 0, sizeof(T) * g.n * g.h * g.w * g.c);
  if (NP == 0 || K == 0 || P == 0) return;
  const int64_t B = block_rows(g);
  for (int64_t p0 = 0; p0 < NP; p0 += B) {
    const int64_t rows = std::min(B, NP - p0);
    gemm(false, false, rows, P, K, T(1), dy + p0 * K, K, w, P, T(0), workspace, P);
    col2im_rows(g, workspace, p0, rows, dx);
  }
}

template <typename T>
void conv2d_bias_backward(int64_t rows, int64_t k, const T* dy, T* dbias) {
  // Accumulate in double, a tile of channels at a time, so that float sums over a whole batch
  // of pixels keep their precision without a heap buffer.
  constexpr int64_t kTile = 256;
  double acc[kTile];
  for (int64_t c0 = 0; c0 < k; c0 += kTile) {
    const int64_t tc = std::min(kTile, k - c0);
    for (int64_t c = 0; c < tc; ++c) acc[c] = 0.0;
    for (int64_t r = 0; r < rows; ++r) {
      const T* row = dy + r * k + c0;
      for (int64_t c = 0; c < tc; ++c) acc[c] += static_cast<double>(row[c]);
    }
    for (int64_t c = 0; c < tc; ++c) dbias[c0 + c] = static_cast<T>(acc[c]);
  }
}

template <typename T>
void conv2d_backward_filter(const Conv2dGeom& g, const T* x, const T* dy, T* dw, T* dbias, T* workspace) {
  const int64_t NP = g.out_pixels(), K = g.k, P = g.patch();
  if (dbias) conv2d_bias_backward(NP, K, dy, dbias);
  if (K == 0 || P == 0) return;
  if (NP == 0) {
    std::memset(dw, 0, sizeof(T) * K * P);
    return;
  }
  if (g.is_pointwise()) {
    gemm(true, false, K, P, NP, T(1), dy, K, x, P, T(0), dw, P);
    return;
  }
  const int64_t B = block_rows(g);
  for (int64_t p0 = 0; p0 < NP; p0 += B) {
    const int64_t rows = std::min(B, NP - p0);
    im2col_block(g, x, p0, rows, workspace);
    gemm(true, false, K, P, rows, T(1), dy + p0 * K, K, workspace, P, p0 == 0 ? T(0) : T(1), dw, P);
  }
}

// ---- depthwise ------------------------------------------------------------------------------

// Calls fn(x_offset, y_offset, w_offset) for every in-bounds (output pixel, tap) pair; each
// offset addresses the first of C channel-contiguous elements.
template <typename Fn>
inline void for_depthwise_taps(const Conv2dGeom& g, Fn&& fn) {
  const int64_t C = g.c;
  for (int64_t n = 0; n < g.n; ++n)
    for (int64_t oy = 0; oy < g.oh; ++oy)
      for (int64_t ox = 0; ox < g.ow; ++ox) {
        const int64_t yoff = ((n * g.oh + oy) * g.ow + ox) * C;
        for (int64_t i = 0; i < g.kh; ++i) {
          const int64_t iy = oy * g.stride_h - g.pad_top + i;
          if (iy < 0 || iy >= g.h) continue;
          for (int64_t j = 0; j < g.kw; ++j) {
            const int64_t ix = ox * g.stride_w - g.pad_left + j;
            if (ix < 0 || ix >= g.w) continue;
            fn(((n * g.h + iy) * g.w + ix) * C, yoff, (i * g.kw + j) * C);
          }
        }
      }
}

// One output pixel at a time, channels in blocks of kDepthwiseBlock held in registers across the
// taps (the sums start from the bias and add the taps in kernel order, as the definition reads).
template <typename T>
void depthwise_conv2d_forward(const Conv2dGeom& g, const T* x, const T* w, const T* bias, T* y) {
  constexpr int64_t kDepthwiseBlock = 32;
  const int64_t C = g.c;
  for (int64_t n = 0; n < g.n; ++n)
    for (int64_t oy = 0; oy < g.oh; ++oy) {
      const int64_t iy0 = oy * g.stride_h - g.pad_top;
      const int64_t i_lo = std::max<int64_t>(0, -iy0), i_hi = std::min<int64_t>(g.kh, g.h - iy0);
      for (int64_t ox = 0; ox < g.ow; ++ox) {
        const int64_t ix0 = ox * g.stride_w - g.pad_left;
        const int64_t j_lo = std::max<int64_t>(0, -ix0), j_hi = std::min<int64_t>(g.kw, g.w - ix0);
        T* yp = y + ((n * g.oh + oy) * g.ow + ox) * C;
        for (int64_t c0 = 0; c0 < C; c0 += kDepthwiseBlock) {
          const int64_t cb = std::min(kDepthwiseBlock, C - c0);
          T acc[kDepthwiseBlock];
          for (int64_t c = 0; c < cb; ++c) acc[c] = bias ? bias[c0 + c] : T(0);
          for (int64_t i = i_lo; i < i_hi; ++i)
            for (int64_t j = j_lo; j < j_hi; ++j) {
              const T* xs = x + ((n * g.h + iy0 + i) * g.w + ix0 + j) * C + c0;
              const T* ws = w + (i * g.kw + j) * C + c0;
              if (cb == kDepthwiseBlock) {
                for (int64_t c = 0; c < kDepthwiseBlock; ++c) acc[c] += xs[c] * ws[c];
              } else {
                for (int64_t c = 0; c < cb; ++c) acc[c] += xs[c] * ws[c];
              }
            }
          for (int64_t c = 0; c < cb; ++c) yp[c0 + c] = acc[c];
        }
      }
    }
}

template <typename T>
void depthwise_conv2d_backward_data(const Conv2dGeom& g, const T* dy, const T* w, T* dx) {
  const int64_t C = g.c;
  std::memset(dx, 0, sizeof(T) * g.n * g.h * g.w * C);
  for_depthwise_taps(g, [&](int64_t xo, int64_t yo, int64_t wo) {
    const T* ds = dy + yo;
    const T* ws = w + wo;
    T* xs = dx + xo;
    for (int64_t c = 0; c < C; ++c) xs[c] += ds[c] * ws[c];
  });
}

template <typename T>
void depthwise_conv2d_backward_filter(const Conv2dGeom& g, const T* x, const T* dy, T* dw, T* dbias) {
  const int64_t C = g.c;
  std::memset(dw, 0, sizeof(T) * g.kh * g.kw * C);
  for_depthwise_taps(g, [&](int64_t xo, int64_t yo, int64_t wo) {
    const T* xs = x + xo;
    const T* ds = dy + yo;
    T* ws = dw + wo;
    for (int64_t c = 0; c < C; ++c) ws[c] += xs[c] * ds[c];
  });
  if (dbias) conv2d_bias_backward(g.out_pixels(), C, dy, dbias);
}

#define FACET_CONV2D_INSTANTIATE(T)                                                                   \
  template void conv2d_forward<T>(const Conv2dGeom&, const T*, const T*, const T*, T*, T*);          \
  template void conv2d_backward_data<T>(const Conv2dGeom&, const T*, const T*, T*, T*);              \
  template void conv2d_backward_filter<T>(const Conv2dGeom&, const T*, const T*, T*, T*, T*);        \
  template void conv2d_bias_backward<T>(int64_t, int64_t, const T*, T*);                             \
  template void depthwise_conv2d_forward<T>(const Conv2dGeom&, const T*, const T*, const T*, T*);    \
  template void depthwise_conv2d_backward_data<T>(const Conv2dGeom&, const T*, const T*, T*);        \
  template void depthwise_conv2d_backward_filter<T>(const Conv2dGeom&, const T*, const T*, T*, T*);
FACET_CONV2D_INSTANTIATE(float)
FACET_CONV2D_INSTANTIATE(double)
#undef FACET_CONV2D_INSTANTIATE

}  // namespace facet::cpu
