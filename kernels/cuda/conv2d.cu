// Our own convolution kernels: the zero-pad / crop pair that turns TF's asymmetric SAME padding
// into the symmetric padding cuDNN accepts (see conv2d.h), and depthwise convolution (channel
// multiplier 1) forward and backward. The cuDNN calls live in conv2d_cudnn.cpp.
//
// Depthwise backward-data gathers (one thread per input element, summing the taps that read it)
// instead of scattering, and backward-filter reduces over the batch in two passes (fixed chunks
// of output pixels -> per-chunk partials -> a fixed-order sum), so both are deterministic
// without atomics.
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/conv2d.h"
#include "kernels/cuda/matmul.h"
#include "kernels/cuda/runtime.h"

namespace facet::cuda {

namespace {

constexpr int kTileC = 32;   // channels per block in the filter reduction (one warp, coalesced on c)
constexpr int kRowsY = 8;    // warps per block, each summing every 8th output pixel of the chunk
constexpr int kMaxChunks = 64;

size_t align256(size_t b) { return (b + 255) / 256 * 256; }

int64_t filter_chunks(int64_t rows) {
  int64_t c = (rows + 255) / 256;
  return c < 1 ? 1 : (c > kMaxChunks ? kMaxChunks : c);
}

// Shapes as plain integers for the kernels (Conv2dGeom is host-side and 15 x int64).
struct DwGeom {
  long long n, h, w, c, oh, ow, kh, kw, sh, sw, pt, pl;
};
DwGeom dw_geom(const Conv2dGeom& g) {
  return {g.n, g.h, g.w, g.c, g.oh, g.ow, g.kh, g.kw, g.stride_h, g.stride_w, g.pad_top, g.pad_left};
}

template <typename T>
__global__ void pad_kernel(const T* x, T* xp, long long n, long long h, long long w, long long c, long long hp,
                           long long wp, long long top, long long left) {
  FACET_GRID_STRIDE(i, n * hp * wp * c) {
    long long ch = i % c, r = i / c;
    long long px = r % wp, py = (r / wp) % hp, b = r / (wp * hp);
    long long sy = py - top, sx = px - left;
    xp[i] = (sy >= 0 && sy < h && sx >= 0 && sx < w) ? x[((b * h + sy) * w + sx) * c + ch] : from_f<T>(0.f);
  }
}

template <typename T>
__global__ void crop_kernel(const T* dxp, T* dx, long long n, long long h, long long w, long long c, long long hp,
                            long long wp, long long top, long long left) {
  FACET_GRID_STRIDE(i, n * h * w * c) {
    long long ch = i % c, r = i / c;
    long long x = r % w, y = (r / w) % h, b = r / (w * h);
    dx[i] = dxp[((b * hp + y + top) * wp + x + left) * c + ch];
  }
}

template <typename T>
__global__ void dw_forward_kernel(DwGeom g, const T* x, const T* wt, const T* bias, T* y) {
  FACET_GRID_STRIDE(i, g.n * g.oh * g.ow * g.c) {
    long long ch = i % g.c, r = i / g.c;
    long long ox = r % g.ow, oy = (r / g.ow) % g.oh, b = r / (g.ow * g.oh);
    float acc = bias ? to_f(bias[ch]) : 0.f;
    for (long long ki = 0; ki < g.kh; ++ki) {
      long long iy = oy * g.sh - g.pt + ki;
      if (iy < 0 || iy >= g.h) continue;
      for (long long kj = 0; kj < g.kw; ++kj) {
        long long ix = ox * g.sw - g.pl + kj;
        if (ix < 0 || ix >= g.w) continue;
        acc += to_f(x[((b * g.h + iy) * g.w + ix) * g.c + ch]) * to_f(wt[(ki * g.kw + kj) * g.c + ch]);
      }
    }
    y[i] = from_f<T>(acc);
  }
}

template <typename T>
__global__ void dw_backward_data_kernel(DwGeom g, const T* dy, const T* wt, T* dx) {
  FACET_GRID_STRIDE(i, g.n * g.h * g.w * g.c) {
    long long ch = i % g.c, r = i / g.c;
    long long ix = r % g.w, iy = (r / g.w) % g.h, b = r / (g.w * g.h);
    float acc = 0.f;
    for (long long ki = 0; ki < g.kh; ++ki) {
      long long ty = iy + g.pt - ki;  // = oy * sh for the output row that reads iy through tap ki
      if (ty < 0 || ty % g.sh != 0) continue;
      long long oy = ty / g.sh;
      if (oy >= g.oh) continue;
      for (long long kj = 0; kj < g.kw; ++kj) {
        long long tx = ix + g.pl - kj;
        if (tx < 0 || tx % g.sw != 0) continue;
        long long ox = tx / g.sw;
        if (ox >= g.ow) continue;
        acc += to_f(dy[((b * g.oh + oy) * g.ow + ox) * g.c + ch]) * to_f(wt[(ki * g.kw + kj) * g.c + ch]);
      }
    }
    dx[i] = from_f<T>(acc);
  }
}

// Pass 1 of the filter gradient: block (channel tile, tap, chunk) sums x * dy over the chunk's
// output pixels into partial[chunk][tap][c], in a fixed order.
template <typename T>
__global__ void dw_filter_partial_kernel(DwGeom g, const T* x, const T* dy, float* partial, long long rows,
                                         long long chunk_rows) {
  __shared__ float red[kRowsY][kTileC + 1];
  const long long ch = (long long)blockIdx.x * kTileC + threadIdx.x;
  const long long tap = blockIdx.y, ki = tap / g.kw, kj = tap % g.kw;
  const long long p_begin = (long long)blockIdx.z * chunk_rows;
  long long p_end = p_begin + chunk_rows;
  if (p_end > rows) p_end = rows;
  float acc = 0.f;
  if (ch < g.c) {
    for (long long p = p_begin + threadIdx.y; p < p_end; p += kRowsY) {
      long long ox = p % g.ow, oy = (p / g.ow) % g.oh, b = p / (g.ow * g.oh);
      long long iy = oy * g.sh - g.pt + ki, ix = ox * g.sw - g.pl + kj;
      if (iy < 0 || iy >= g.h || ix < 0 || ix >= g.w) continue;
      acc += to_f(x[((b * g.h + iy) * g.w + ix) * g.c + ch]) * to_f(dy[p * g.c + ch]);
    }
  }
  red[threadIdx.y][threadIdx.x] = acc;
  __syncthreads();
  if (threadIdx.y == 0 && ch < g.c) {
    float s = 0.f;
    for (int r = 0; r < kRowsY; ++r) s += red[r][threadIdx.x];
    partial[((long long)blockIdx.z * g.kh * g.kw + tap) * g.c + ch] = s;
  }
}

// Pass 2: out[m] = sum over chunks of partial[chunk][m], in chunk order.
template <typename T>
__global__ void sum_chunks_kernel(const float* partial, long long chunks, long long m, T* out) {
  FACET_GRID_STRIDE(i, m) {
    float s = 0.f;
    for (long long k = 0; k < chunks; ++k) s += partial[k * m + i];
    out[i] = from_f<T>(s);
  }
}

}  // namespace

void conv2d_pad_input(DType dt, const Conv2dGeom& g, int64_t top, int64_t left, int64_t hp, int64_t wp, const void* x,
                      void* xp, void* stream) {
  const int64_t total = g.n * hp * wp * g.c;
  if (total == 0) return;
  dispatch_float(dt, "conv2d (pad)", [&](auto tag) {
    using T = decltype(tag);
    FACET_LAUNCH(pad_kernel<T>, grid_for(total, 256), 256, 0, as_stream(stream), static_cast<const T*>(x), static_cast<T*>(xp), g.n, g.h, g.w, g.c, hp, wp, top, left);
  });
  check_last_error("conv2d_pad_input");
}

void conv2d_crop_grad(DType dt, const Conv2dGeom& g, int64_t top, int64_t left, int64_t hp, int64_t wp,
                      const void* dxp, void* dx, void* stream) {
  const int64_t total = g.n * g.h * g.w * g.c;
  if (total == 0) return;
  dispatch_float(dt, "conv2d (crop)", [&](auto tag) {
    using T = decltype(tag);
    FACET_LAUNCH(crop_kernel<T>, grid_for(total, 256), 256, 0, as_stream(stream), static_cast<const T*>(dxp), static_cast<T*>(dx), g.n, g.h, g.w, g.c, hp, wp, top, left);
  });
  check_last_error("conv2d_crop_grad");
}

void depthwise_conv2d_forward(DType dt, const Conv2dGeom& g, const void* x, const void* w, const void* bias, void* y,
                              void* stream) {
  const int64_t total = g.n * g.oh * g.ow * g.c;
  if (total == 0) return;
  dispatch_float(dt, "depthwise_conv2d", [&](auto tag) {
    using T = decltype(tag);
    FACET_LAUNCH(dw_forward_kernel<T>, grid_for(total, 256), 256, 0, as_stream(stream), dw_geom(g), static_cast<const T*>(x), static_cast<const T*>(w), static_cast<const T*>(bias),
        static_cast<T*>(y));
  });
  check_last_error("depthwise_conv2d_forward");
}

void depthwise_conv2d_backward_data(DType dt, const Conv2dGeom& g, const void* dy, const void* w, void* dx,
                                    void* stream) {
  const int64_t total = g.n * g.h * g.w * g.c;
  if (total == 0) return;
  dispatch_float(dt, "depthwise_conv2d", [&](auto tag) {
    using T = decltype(tag);
    FACET_LAUNCH(dw_backward_data_kernel<T>, grid_for(total, 256), 256, 0, as_stream(stream), dw_geom(g), static_cast<const T*>(dy), static_cast<const T*>(w), static_cast<T*>(dx));
  });
  check_last_error("depthwise_conv2d_backward_data");
}

size_t depthwise_conv2d_workspace_bytes(const Conv2dGeom& g) {
  const int64_t rows = g.out_pixels();
  const size_t partial = static_cast<size_t>(filter_chunks(rows) * g.kh * g.kw * g.c) * sizeof(float);
  return align256(partial) + column_reduce_workspace_bytes(rows, g.c);
}

void depthwise_conv2d_backward_filter(DType dt, const Conv2dGeom& g, const void* x, const void* dy, void* dw,
                                      void* dbias, void* workspace, void* stream) {
  const int64_t rows = g.out_pixels(), taps = g.kh * g.kw, m = taps * g.c;
  if (dbias) {
    void* bias_ws = static_cast<char*>(workspace) +
                    align256(static_cast<size_t>(filter_chunks(rows) * m) * sizeof(float));
    bias_grad(dt, dy, dbias, rows, g.c, bias_ws, stream);
  }
  if (m == 0) return;
  if (rows == 0) {
    memset_zero(dw, static_cast<size_t>(m) * dtype_size(dt), stream);
    return;
  }
  const int64_t chunks = filter_chunks(rows), chunk_rows = (rows + chunks - 1) / chunks;
  float* partial = static_cast<float*>(workspace);
  dispatch_float(dt, "depthwise_conv2d", [&](auto tag) {
    using T = decltype(tag);
    dim3 grid(static_cast<unsigned>((g.c + kTileC - 1) / kTileC), static_cast<unsigned>(taps),
              static_cast<unsigned>(chunks));
    FACET_LAUNCH(dw_filter_partial_kernel<T>, grid, dim3(kTileC, kRowsY), 0, as_stream(stream), dw_geom(g), static_cast<const T*>(x), static_cast<const T*>(dy), partial, rows, chunk_rows);
    FACET_LAUNCH(sum_chunks_kernel<T>, grid_for(m, 256), 256, 0, as_stream(stream), partial, chunks, m, static_cast<T*>(dw));
  });
  check_last_error("depthwise_conv2d_backward_filter");
}

}  // namespace facet::cuda
