// CUDA max pooling and bilinear resize (see pool_resize.h). Forward kernels own one output
// element per thread; backward kernels own one INPUT element per thread and gather from every
// output that reads it, recomputing the window argmax / interpolation taps exactly as the forward
// did. That trades a little recomputation for determinism with no atomics and no scratch memory
// (the autograd tape only keeps x). Threads are laid out channel-fastest, so neighbours in a warp
// walk the same windows and their loads coalesce.
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/pool_resize.h"
#include "kernels/cuda/runtime.h"

namespace facet::cuda {

namespace {

constexpr int kBlock = 256;

struct PoolGeom {
  long long N, H, W, C, kh, kw, sh, sw, pt, pl, OH, OW;
};

// Same scan and tie rule as cpu::window_argmax: first maximum in row-major window order,
// -1 when the window lies wholly in the padding. bf16 -> f32 preserves order exactly.
template <typename T>
__device__ __forceinline__ long long window_argmax(const T* img, const PoolGeom& g, long long c, long long r0,
                                                   long long c0, float* best_out) {
  long long best_i = -1;
  float best = 0.f;
  for (long long a = 0; a < g.kh; ++a) {
    const long long h = r0 + a;
    if (h < 0 || h >= g.H) continue;
    for (long long b = 0; b < g.kw; ++b) {
      const long long w = c0 + b;
      if (w < 0 || w >= g.W) continue;
      const float v = to_f(img[(h * g.W + w) * g.C + c]);
      if (best_i < 0 || v > best) {
        best = v;
        best_i = h * g.W + w;
      }
    }
  }
  *best_out = best;
  return best_i;
}

template <typename T>
__global__ void max_pool_kernel(const T* __restrict__ x, T* __restrict__ y, PoolGeom g) {
  const long long total = g.N * g.OH * g.OW * g.C;
  FACET_GRID_STRIDE(t, total) {
    const long long c = t % g.C;
    long long p = t / g.C;
    const long long ow = p % g.OW;
    p /= g.OW;
    const long long oh = p % g.OH, n = p / g.OH;
    float best;
    const long long i = window_argmax(x + n * g.H * g.W * g.C, g, c, oh * g.sh - g.pt, ow * g.sw - g.pl, &best);
    y[t] = from_f<T>(i < 0 ? -INFINITY : best);
  }
}

template <typename T>
__global__ void max_pool_backward_kernel(const T* __restrict__ x, const T* __restrict__ dy, T* __restrict__ dx,
                                         PoolGeom g) {
  const long long total = g.N * g.H * g.W * g.C;
  FACET_GRID_STRIDE(t, total) {
    const long long c = t % g.C;
    long long p = t / g.C;
    const long long w = p % g.W;
    p /= g.W;
    const long long h = p % g.H, n = p / g.H;
    // Windows whose rows oh*sh - pt + [0, kh) contain h (and likewise for columns).
    const long long lo_h = h + g.pt - g.kh + 1, lo_w = w + g.pl - g.kw + 1;
    const long long oh0 = lo_h <= 0 ? 0 : (lo_h + g.sh - 1) / g.sh, oh1 = min(g.OH - 1, (h + g.pt) / g.sh);
    const long long ow0 = lo_w <= 0 ? 0 : (lo_w + g.sw - 1) / g.sw, ow1 = min(g.OW - 1, (w + g.pl) / g.sw);
    const T* img = x + n * g.H * g.W * g.C;
    const long long self = h * g.W + w;
    float acc = 0.f;
    for (long long oh = oh0; oh <= oh1; ++oh)
      for (long long ow = ow0; ow <= ow1; ++ow) {
        float best;
        if (window_argmax(img, g, c, oh * g.sh - g.pt, ow * g.sw - g.pl, &best) == self)
          acc += to_f(dy[((n * g.OH + oh) * g.OW + ow) * g.C + c]);
      }
    dx[t] = from_f<T>(acc);
  }
}

// TF's half-pixel taps in f32 with explicit rounding, so nvcc cannot contract them into an FMA
// and pick a different floor() than the host reference at exact integers.
struct Tap {
  long long lo, hi;
  float w;
};
__device__ __forceinline__ Tap half_pixel_tap(long long o, long long in, long long out) {
  const float scale = __fdiv_rn((float)in, (float)out);
  const float src = __fsub_rn(__fmul_rn(__fadd_rn((float)o, 0.5f), scale), 0.5f);
  const float f = floorf(src);
  Tap t;
  t.lo = max((long long)f, 0LL);
  t.hi = min((long long)ceilf(src), in - 1);
  t.w = __fsub_rn(src, f);
  return t;
}

template <typename T>
__global__ void resize_kernel(const T* __restrict__ x, T* __restrict__ y, long long N, long long H, long long W,
                              long long C, long long OH, long long OW) {
  const long long total = N * OH * OW * C;
  FACET_GRID_STRIDE(t, total) {
    const long long c = t % C;
    long long p = t / C;
    const long long ow = p % OW;
    p /= OW;
    const long long oh = p % OH, n = p / OH;
    const Tap ty = half_pixel_tap(oh, H, OH), tx = half_pixel_tap(ow, W, OW);
    const T* img = x + n * H * W * C + c;
    const float v00 = to_f(img[(ty.lo * W + tx.lo) * C]), v01 = to_f(img[(ty.lo * W + tx.hi) * C]);
    const float v10 = to_f(img[(ty.hi * W + tx.lo) * C]), v11 = to_f(img[(ty.hi * W + tx.hi) * C]);
    const float w00 = (1.f - ty.w) * (1.f - tx.w), w01 = (1.f - ty.w) * tx.w;
    const float w10 = ty.w * (1.f - tx.w), w11 = ty.w * tx.w;
    y[t] = from_f<T>(w00 * v00 + w01 * v01 + w10 * v10 + w11 * v11);
  }
}

// Weight with which output coordinate o reads input coordinate i (0 when it does not).
__device__ __forceinline__ float tap_weight(long long o, long long i, long long in, long long out) {
  const Tap t = half_pixel_tap(o, in, out);
  return (t.lo == i ? 1.f - t.w : 0.f) + (t.hi == i ? t.w : 0.f);
}

// Outputs that can read input coordinate i have sources in (i-1, i+1), i.e. o in
// ((i-0.5)*out/in - 0.5, (i+1.5)*out/in - 0.5); one extra step each side absorbs rounding and
// tap_weight decides exactly. The edge clamps are covered because the range is clipped to [0, out).
__device__ __forceinline__ void reader_range(long long i, long long in, long long out, long long* o0,
                                             long long* o1) {
  const float fac = (float)out / (float)in;
  *o0 = max(0LL, (long long)floorf((i - 0.5f) * fac - 0.5f) - 1);
  *o1 = min(out - 1, (long long)ceilf((i + 1.5f) * fac - 0.5f) + 1);
}

template <typename T>
__global__ void resize_backward_kernel(const T* __restrict__ dy, T* __restrict__ dx, long long N, long long H,
                                       long long W, long long C, long long OH, long long OW) {
  const long long total = N * H * W * C;
  FACET_GRID_STRIDE(t, total) {
    const long long c = t % C;
    long long p = t / C;
    const long long w = p % W;
    p /= W;
    const long long h = p % H, n = p / H;
    long long oh0, oh1, ow0, ow1;
    reader_range(h, H, OH, &oh0, &oh1);
    reader_range(w, W, OW, &ow0, &ow1);
    float acc = 0.f;
    for (long long oh = oh0; oh <= oh1; ++oh) {
      const float wy = tap_weight(oh, h, H, OH);
      if (wy == 0.f) continue;
      for (long long ow = ow0; ow <= ow1; ++ow) {
        const float wx = tap_weight(ow, w, W, OW);
        if (wx == 0.f) continue;
        acc += wy * wx * to_f(dy[((n * OH + oh) * OW + ow) * C + c]);
      }
    }
    dx[t] = from_f<T>(acc);
  }
}

}  // namespace

void max_pool2d(DType dt, const void* x, void* y, int64_t N, int64_t H, int64_t W, int64_t C, int64_t kh,
                int64_t kw, int64_t sh, int64_t sw, int64_t pad_top, int64_t pad_left, int64_t OH, int64_t OW,
                void* stream) {
  const PoolGeom g{N, H, W, C, kh, kw, sh, sw, pad_top, pad_left, OH, OW};
  const long long total = N * OH * OW * C;
  if (total == 0) return;
  dispatch_float(dt, "max_pool2d", [&](auto t) {
    using T = decltype(t);
    FACET_LAUNCH(max_pool_kernel<T>, grid_for(total, kBlock), kBlock, 0, as_stream(stream), static_cast<const T*>(x),
                                                                                  static_cast<T*>(y), g);
  });
  check_last_error("max_pool2d");
}

void max_pool2d_backward(DType dt, const void* x, const void* dy, void* dx, int64_t N, int64_t H, int64_t W,
                         int64_t C, int64_t kh, int64_t kw, int64_t sh, int64_t sw, int64_t pad_top,
                         int64_t pad_left, int64_t OH, int64_t OW, void* stream) {
  const PoolGeom g{N, H, W, C, kh, kw, sh, sw, pad_top, pad_left, OH, OW};
  const long long total = N * H * W * C;
  if (total == 0) return;
  dispatch_float(dt, "max_pool2d_backward", [&](auto t) {
    using T = decltype(t);
    FACET_LAUNCH(max_pool_backward_kernel<T>, grid_for(total, kBlock), kBlock, 0, as_stream(stream), static_cast<const T*>(x), static_cast<const T*>(dy), static_cast<T*>(dx), g);
  });
  check_last_error("max_pool2d_backward");
}

void resize_bilinear(DType dt, const void* x, void* y, int64_t N, int64_t H, int64_t W, int64_t C, int64_t OH,
                     int64_t OW, void* stream) {
  const long long total = N * OH * OW * C;
  if (total == 0) return;
  dispatch_float(dt, "resize_bilinear", [&](auto t) {
    using T = decltype(t);
    FACET_LAUNCH(resize_kernel<T>, grid_for(total, kBlock), kBlock, 0, as_stream(stream), static_cast<const T*>(x), static_cast<T*>(y), N, H, W, C, OH, OW);
  });
  check_last_error("resize_bilinear");
}

void resize_bilinear_backward(DType dt, const void* dy, void* dx, int64_t N, int64_t H, int64_t W, int64_t C,
                              int64_t OH, int64_t OW, void* stream) {
  const long long total = N * H * W * C;
  if (total == 0) return;
  dispatch_float(dt, "resize_bilinear_backward", [&](auto t) {
    using T = decltype(t);
    FACET_LAUNCH(resize_backward_kernel<T>, grid_for(total, kBlock), kBlock, 0, as_stream(stream), static_cast<const T*>(dy), static_cast<T*>(dx), N, H, W, C, OH, OW);
  });
  check_last_error("resize_bilinear_backward");
}

}  // namespace facet::cuda
