// CUDA data-movement kernels (see layout.h). Pixel shuffle and its inverse are pure gathers of
// contiguous channel runs, so they move the widest unit (16/8/4/2/1 bytes) that divides a run and
// the pointers' alignment: the bench shape [8,32,32,1024] f32 copies 1 KiB runs as uint4.
// pad / slice / permute share one rank-generic gather after merging axes that are copied whole,
// which turns e.g. a channel slice of NHWC into a 2-D problem. pixel_norm reduces each sample in
// one block with a fixed shuffle tree, so results are bit-identical run to run.
#include <algorithm>
#include <cstring>
#include <numeric>
#include <vector>

#include "kernels/cuda/common.cuh"
#include "kernels/cuda/layout.h"
#include "kernels/cuda/runtime.h"

namespace facet::cuda {

namespace {

constexpr int kBlock = 256;

// Calls f(U{}) with U an unsigned type of `bytes` bytes (16 = uint4).
template <typename F>
void dispatch_unit(int bytes, F&& f) {
  switch (bytes) {
    case 16: f(uint4{}); break;
    case 8: f(uint2{}); break;
    case 4: f(uint32_t{}); break;
    case 2: f(uint16_t{}); break;
    default: f(uint8_t{}); break;
  }
}

// Widest unit dividing a run of `run_bytes` with both pointers aligned to it.
int pick_unit(int64_t run_bytes, const void* a, const void* b) {
  const uintptr_t pa = reinterpret_cast<uintptr_t>(a), pb = reinterpret_cast<uintptr_t>(b);
  for (int u : {16, 8, 4, 2})
    if (run_bytes % u == 0 && pa % u == 0 && pb % u == 0) return u;
  return 1;
}

// 32-bit index math when the element count allows it (div/mod are several times cheaper).
template <typename F>
void dispatch_index(int64_t total, F&& f) {
  if (total < (int64_t(1) << 31)) f(uint32_t{});
  else f(uint64_t{});
}

// y [N, H*r, W*r, Cu] (in units) gathers x [N, H, W, Cu*r*r].
template <typename U, typename I>
__global__ void pixel_shuffle_kernel(const U* __restrict__ x, U* __restrict__ y, I total, I Cu, I r, I H, I W) {
  const I Ho = H * r, Wo = W * r;
  for (I t = blockIdx.x * (I)blockDim.x + threadIdx.x; t < total; t += (I)blockDim.x * gridDim.x) {
    I p = t / Cu;
    const I cu = t - p * Cu;
    const I ow = p % Wo;
    p /= Wo;
    const I oh = p % Ho, n = p / Ho;
    const I h = oh / r, i = oh - h * r, w = ow / r, j = ow - w * r;
    y[t] = x[((n * H + h) * W + w) * (Cu * r * r) + (i * r + j) * Cu + cu];
  }
}

// y [N, H, W, Cu*r*r] (in units) gathers x [N, H*r, W*r, Cu].
template <typename U, typename I>
__global__ void space_to_depth_kernel(const U* __restrict__ x, U* __restrict__ y, I total, I Cu, I r, I H, I W) {
  const I rr = r * r;
  for (I t = blockIdx.x * (I)blockDim.x + threadIdx.x; t < total; t += (I)blockDim.x * gridDim.x) {
    I p = t / Cu;
    const I cc = t - p * Cu;
    const I k = p % rr;
    p /= rr;
    const I w = p % W;
    p /= W;
    const I h = p % H, n = p / H;
    const I i = k / r, j = k - i * r;
    y[t] = x[((n * H * r + h * r + i) * (W * r) + w * r + j) * Cu + cc];
  }
}

// rows x len units from src (row pitch sp) to dst (row pitch dp): concat and split.
template <typename U, typename I>
__global__ void copy2d_kernel(const U* __restrict__ src, I sp, U* __restrict__ dst, I dp, I rows, I len) {
  const I total = rows * len;
  for (I t = blockIdx.x * (I)blockDim.x + threadIdx.x; t < total; t += (I)blockDim.x * gridDim.x) {
    const I row = t / len, e = t - row * len;
    dst[row * dp + e] = src[row * sp + e];
  }
}

// Output multi-index -> source index: k[a] = idx[a] + off[a]; outside [0, sdim[a]) reads `fill`.
struct GatherMap {
  int rank;
  long long odim[kLayoutMaxRank], sstride[kLayoutMaxRank], off[kLayoutMaxRank], sdim[kLayoutMaxRank];
};

template <typename U>
__global__ void gather_kernel(const U* __restrict__ x, U* __restrict__ y, long long total, GatherMap g, U fill) {
  FACET_GRID_STRIDE(t, total) {
    long long rem = t, src = 0;
    bool inside = true;
    for (int a = g.rank - 1; a >= 0; --a) {
      const long long id = rem % g.odim[a];
      rem /= g.odim[a];
      const long long k = id + g.off[a];
      inside = inside && k >= 0 && k < g.sdim[a];
      src += k * g.sstride[a];
    }
    y[t] = inside ? x[src] : fill;
  }
}

void launch_gather(DType dt, const void* x, void* y, const GatherMap& g, uint64_t fill_bits, void* stream) {
  long long total = 1;
  for (int a = 0; a < g.rank; ++a) total *= g.odim[a];
  if (total == 0) return;
  dispatch_unit(static_cast<int>(dtype_size(dt)), [&](auto u) {
    using U = decltype(u);
    U fill;
    std::memcpy(&fill, &fill_bits, sizeof(U));  // little-endian: the low bytes hold the value
    FACET_LAUNCH(gather_kernel<U>, grid_for(total, kBlock), kBlock, 0, as_stream(stream), static_cast<const U*>(x), static_cast<U*>(y), total, g, fill);
  });
}

uint64_t value_bits(DType dt, double v) {
  uint64_t bits = 0;
  switch (dt) {
    case DType::F32: { float f = static_cast<float>(v); std::memcpy(&bits, &f, 4); break; }
    case DType::F64: std::memcpy(&bits, &v, 8); break;
    case DType::BF16: bits = f32_to_bf16_bits(static_cast<float>(v)); break;
    case DType::F16: bits = f32_to_f16_bits(static_cast<float>(v)); break;
  }
  return bits;
}

// Merges axis a into a-1 whenever axis a is taken whole (in == out, offset 0), so a channel slice
// of an NHWC image becomes [N*H*W, C] and rank limits only bite on genuinely strided problems.
struct Axis {
  long long in, out, off;
};
std::vector<Axis> merge_whole_axes(int rank, const int64_t* in, const int64_t* out, const int64_t* off) {
  std::vector<Axis> ax;
  for (int a = 0; a < rank; ++a) {
    if (in[a] == 1 && out[a] == 1 && off[a] == 0) continue;  // size-1 axes carry nothing
    const bool whole = in[a] == out[a] && off[a] == 0;
    if (whole && !ax.empty()) {
      ax.back().in *= in[a];
      ax.back().out *= in[a];
      ax.back().off *= in[a];
    } else {
      ax.push_back({in[a], out[a], off[a]});
    }
  }
  if (ax.empty()) ax.push_back({1, 1, 0});
  return ax;
}

GatherMap map_from_axes(const std::vector<Axis>& ax, const char* what) {
  if (static_cast<int>(ax.size()) > kLayoutMaxRank)
    throw Error(std::string(what) + ": more than 8 strided axes after merging");
  GatherMap g{};
  g.rank = static_cast<int>(ax.size());
  long long stride = 1;
  for (int a = g.rank - 1; a >= 0; --a) {
    g.odim[a] = ax[a].out;
    g.sdim[a] = ax[a].in;
    g.off[a] = ax[a].off;
    g.sstride[a] = stride;
    stride *= ax[a].in;
  }
  return g;
}

template <int BLOCK>
__device__ float block_sum(float v, float* shm) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  __syncthreads();  // shm may still be read by a previous reduction
  if (lane == 0) shm[warp] = v;
  __syncthreads();
  v = lane < BLOCK / 32 ? shm[lane] : 0.f;
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;  // every thread holds the block total
}

constexpr int kNormBlock = 512;

template <typename T>
__global__ void pixel_norm_kernel(const T* __restrict__ x, T* __restrict__ y, long long D, float eps) {
  __shared__ float shm[32];
  const T* xs = x + blockIdx.x * D;
  float ss = 0.f;
  for (long long k = threadIdx.x; k < D; k += kNormBlock) {
    const float v = to_f(xs[k]);
    ss += v * v;
  }
  ss = block_sum<kNormBlock>(ss, shm);
  const float s = rsqrtf(ss / (float)D + eps);
  for (long long k = threadIdx.x; k < D; k += kNormBlock) y[blockIdx.x * D + k] = from_f<T>(to_f(xs[k]) * s);
}

template <typename T>
__global__ void pixel_norm_backward_kernel(const T* __restrict__ x, const T* __restrict__ dy, T* __restrict__ dx,
                                           long long D, float eps) {
  __shared__ float shm[32];
  const T* xs = x + blockIdx.x * D;
  const T* gs = dy + blockIdx.x * D;
  float ss = 0.f, dot = 0.f;
  for (long long k = threadIdx.x; k < D; k += kNormBlock) {
    const float v = to_f(xs[k]);
    ss += v * v;
    dot += to_f(gs[k]) * v;
  }
  ss = block_sum<kNormBlock>(ss, shm);
  dot = block_sum<kNormBlock>(dot, shm);
  const float s = rsqrtf(ss / (float)D + eps);
  const float coef = s * s * s * dot / (float)D;
  for (long long k = threadIdx.x; k < D; k += kNormBlock)
    dx[blockIdx.x * D + k] = from_f<T>(s * to_f(gs[k]) - coef * to_f(xs[k]));
}

}  // namespace

void pixel_shuffle(DType dt, const void* x, void* y, int64_t N, int64_t H, int64_t W, int64_t C, int64_t r,
                   void* stream) {
  const int64_t run = C * static_cast<int64_t>(dtype_size(dt));
  const int64_t total_bytes = N * H * r * W * r * run;
  if (total_bytes == 0) return;
  const int ub = pick_unit(run, x, y);
  dispatch_unit(ub, [&](auto u) {
    using U = decltype(u);
    const int64_t total = total_bytes / ub;
    dispatch_index(total, [&](auto i) {
      using I = decltype(i);
      FACET_LAUNCH((pixel_shuffle_kernel<U, I>), grid_for(total, kBlock), kBlock, 0, as_stream(stream), static_cast<const U*>(x), static_cast<U*>(y), (I)total, (I)(run / ub), (I)r, (I)H, (I)W);
    });
  });
  check_last_error("pixel_shuffle");
}

void space_to_depth(DType dt, const void* x, void* y, int64_t N, int64_t H, int64_t W, int64_t C, int64_t r,
                    void* stream) {
  const int64_t run = C * static_cast<int64_t>(dtype_size(dt));
  const int64_t total_bytes = N * H * r * W * r * run;
  if (total_bytes == 0) return;
  const int ub = pick_unit(run, x, y);
  dispatch_unit(ub, [&](auto u) {
    using U = decltype(u);
    const int64_t total = total_bytes / ub;
    dispatch_index(total, [&](auto i) {
      using I = decltype(i);
      FACET_LAUNCH((space_to_depth_kernel<U, I>), grid_for(total, kBlock), kBlock, 0, as_stream(stream), static_cast<const U*>(x), static_cast<U*>(y), (I)total, (I)(run / ub), (I)r, (I)H, (I)W);
    });
  });
  check_last_error("space_to_depth");
}

void pixel_norm(DType dt, const void* x, void* y, int64_t N, int64_t D, double eps, void* stream) {
  if (N == 0 || D == 0) return;
  dispatch_float(dt, "pixel_norm", [&](auto t) {
    using T = decltype(t);
    FACET_LAUNCH(pixel_norm_kernel<T>, static_cast<unsigned>(N), kNormBlock, 0, as_stream(stream), static_cast<const T*>(x), static_cast<T*>(y), D, static_cast<float>(eps));
  });
  check_last_error("pixel_norm");
}

void pixel_norm_backward(DType dt, const void* x, const void* dy, void* dx, int64_t N, int64_t D, double eps,
                         void* stream) {
  if (N == 0 || D == 0) return;
  dispatch_float(dt, "pixel_norm_backward", [&](auto t) {
    using T = decltype(t);
    FACET_LAUNCH(pixel_norm_backward_kernel<T>, static_cast<unsigned>(N), kNormBlock, 0, as_stream(stream), static_cast<const T*>(x), static_cast<const T*>(dy), static_cast<T*>(dx), D, static_cast<float>(eps));
  });
  check_last_error("pixel_norm_backward");
}

void pad(DType dt, const void* x, void* y, int rank, const int64_t* shape, const int64_t* before,
         const int64_t* after, double value, void* stream) {
  std::vector<int64_t> out(static_cast<size_t>(rank)), off(static_cast<size_t>(rank));
  for (int a = 0; a < rank; ++a) {
    out[a] = shape[a] + before[a] + after[a];
    off[a] = -before[a];
  }
  launch_gather(dt, x, y, map_from_axes(merge_whole_axes(rank, shape, out.data(), off.data()), "pad"),
                value_bits(dt, value), stream);
  check_last_error("pad");
}

void slice(DType dt, const void* x, void* y, int rank, const int64_t* shape, const int64_t* begin,
           const int64_t* out_shape, void* stream) {
  launch_gather(dt, x, y, map_from_axes(merge_whole_axes(rank, shape, out_shape, begin), "slice"), 0, stream);
  check_last_error("slice");
}

void concat(DType dt, const void* const* xs, const int64_t* sizes, int n, void* y, int64_t outer, int64_t inner,
            void* stream) {
  const int64_t es = static_cast<int64_t>(dtype_size(dt));
  int64_t total = 0;
  for (int k = 0; k < n; ++k) total += sizes[k];
  int64_t offset = 0;
  for (int k = 0; k < n; ++k) {
    const int64_t len = sizes[k] * inner * es, pitch = total * inner * es;
    char* dst = static_cast<char*>(y) + offset * inner * es;
    offset += sizes[k];
    if (len == 0 || outer == 0) continue;
    const int u = pick_unit(std::gcd(len, pitch), xs[k], dst);
    dispatch_unit(u, [&](auto uu) {
      using U = decltype(uu);
      dispatch_index(outer * (pitch / u), [&](auto i) {
        using I = decltype(i);
        FACET_LAUNCH((copy2d_kernel<U, I>), grid_for(outer * len / u, kBlock), kBlock, 0, as_stream(stream), static_cast<const U*>(xs[k]), (I)(len / u), reinterpret_cast<U*>(dst), (I)(pitch / u), (I)outer,
            (I)(len / u));
      });
    });
  }
  check_last_error("concat");
}

void split(DType dt, const void* y, void* const* xs, const int64_t* sizes, int n, int64_t outer, int64_t inner,
           void* stream) {
  const int64_t es = static_cast<int64_t>(dtype_size(dt));
  int64_t total = 0;
  for (int k = 0; k < n; ++k) total += sizes[k];
  int64_t offset = 0;
  for (int k = 0; k < n; ++k) {
    const int64_t len = sizes[k] * inner * es, pitch = total * inner * es;
    const char* src = static_cast<const char*>(y) + offset * inner * es;
    offset += sizes[k];
    if (len == 0 || outer == 0 || xs[k] == nullptr) continue;
    const int u = pick_unit(std::gcd(len, pitch), src, xs[k]);
    dispatch_unit(u, [&](auto uu) {
      using U = decltype(uu);
      dispatch_index(outer * (pitch / u), [&](auto i) {
        using I = decltype(i);
        FACET_LAUNCH((copy2d_kernel<U, I>), grid_for(outer * len / u, kBlock), kBlock, 0, as_stream(stream), reinterpret_cast<const U*>(src), (I)(pitch / u), static_cast<U*>(xs[k]), (I)(len / u), (I)outer,
            (I)(len / u));
      });
    });
  }
  check_last_error("split");
}

void permute(DType dt, const void* x, void* y, int rank, const int64_t* shape, const int* perm, void* stream) {
  // Drop size-1 axes, then fuse runs of output axes that are also adjacent (in order) in the
  // input: NHWC -> NCHW becomes the 3-D [N, HW, C] -> [N, C, HW] transpose.
  std::vector<int> keep_id(static_cast<size_t>(rank), -1);
  std::vector<long long> in;
  for (int a = 0; a < rank; ++a)
    if (shape[a] != 1) {
      keep_id[a] = static_cast<int>(in.size());
      in.push_back(shape[a]);
    }
  std::vector<int> p;
  for (int a = 0; a < rank; ++a)
    if (keep_id[perm[a]] >= 0) p.push_back(keep_id[perm[a]]);
  long long total = 1;
  for (long long d : in) total *= d;
  if (total == 0) return;
  // Groups: runs of consecutive input axes in output order.
  std::vector<std::vector<int>> groups;
  for (size_t a = 0; a < p.size(); ++a) {
    if (a > 0 && p[a] == p[a - 1] + 1) groups.back().push_back(p[a]);
    else groups.push_back({p[a]});
  }
  const int g = static_cast<int>(groups.size());
  if (g <= 1) {  // the permutation keeps memory order: a plain copy
    memcpy_d2d(y, x, static_cast<size_t>(total) * dtype_size(dt), stream);
    return;
  }
  if (g > kLayoutMaxRank) throw Error("permute: more than 8 axes after merging");
  // Each group becomes one axis; its input position is the rank of its first axis.
  std::vector<long long> gsize(g, 1);
  std::vector<int> order(g);
  for (int k = 0; k < g; ++k) {
    for (int a : groups[k]) gsize[k] *= in[a];
    order[k] = k;
  }
  std::vector<int> in_pos(g);  // input-order position of group k
  std::vector<int> by_first(order);
  std::sort(by_first.begin(), by_first.end(), [&](int a, int b) { return groups[a][0] < groups[b][0]; });
  for (int pos = 0; pos < g; ++pos) in_pos[by_first[pos]] = pos;
  std::vector<long long> in_stride(g);
  long long s = 1;
  for (int pos = g - 1; pos >= 0; --pos) {
    in_stride[pos] = s;
    s *= gsize[by_first[pos]];
  }
  GatherMap m{};
  m.rank = g;
  for (int k = 0; k < g; ++k) {
    m.odim[k] = gsize[k];
    m.sdim[k] = gsize[k];
    m.off[k] = 0;
    m.sstride[k] = in_stride[in_pos[k]];
  }
  launch_gather(dt, x, y, m, 0, stream);
  check_last_error("permute");
}

}  // namespace facet::cuda
