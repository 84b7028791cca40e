// Fused optimizer updates on the GPU (formulas in kernels/cpu/optimizers.h). The update is pure
// bandwidth (AdaBelief: 16 B read + 12 B written per parameter), so each thread moves four
// parameters with 16-byte loads and one Philox block supplies the four lr_dropout draws. Every
// float operation is an explicitly rounded intrinsic (__fmul_rn, ...) so nvcc cannot contract it
// into an FMA: the kernels then round exactly like the CPU reference.
// The clip norm is a two-stage reduction with a fixed grid (partials in double, tree-summed in a
// fixed order), so it is the same on every run and needs no atomics and no host round trip.
#include "kernels/common/philox.h"
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/optimizers.h"
#include "kernels/cuda/runtime.h"

namespace facet::cuda {

namespace {

constexpr int kClipBlocks = 1024;  // fixed: the summation order must not depend on the device
constexpr int kClipThreads = 256;

__device__ __forceinline__ float mask_uniform(uint32_t word) {
  return __fmul_rn(static_cast<float>(word >> 8), 1.0f / 16777216.0f);  // == philox_uniform
}

struct AdamOp {
  static constexpr int kStates = 2;
  __device__ __forceinline__ void operator()(float& w, float g, float& m, float& v, bool keep, const OptimHyper& h,
                                             float step) const {
    const float mi = __fadd_rn(__fmul_rn(h.beta1, m), __fmul_rn(h.one_minus_beta1, g));
    const float vi = __fadd_rn(__fmul_rn(h.beta2, v), __fmul_rn(h.one_minus_beta2, __fmul_rn(g, g)));
    m = mi;
    v = vi;
    const float denom = __fadd_rn(__fdiv_rn(__fsqrt_rn(vi), h.bias_correction2_sqrt), h.eps);
    if (keep) w = __fsub_rn(w, __fmul_rn(step, __fdiv_rn(mi, denom)));
  }
};

struct AdaBeliefOp {
  static constexpr int kStates = 2;
  __device__ __forceinline__ void operator()(float& w, float g, float& m, float& v, bool keep, const OptimHyper& h,
                                             float) const {
    const float mi = __fadd_rn(__fmul_rn(h.beta1, m), __fmul_rn(h.one_minus_beta1, g));
    const float d = __fsub_rn(g, mi);
    const float vi = __fadd_rn(__fmul_rn(h.beta2, v), __fmul_rn(h.one_minus_beta2, __fmul_rn(d, d)));
    m = mi;
    v = vi;
    if (keep) w = __fsub_rn(w, __fdiv_rn(__fmul_rn(h.lr, mi), __fadd_rn(__fsqrt_rn(vi), h.eps)));
  }
};

struct RmspropOp {
  static constexpr int kStates = 1;
  __device__ __forceinline__ void operator()(float& w, float g, float& a, float&, bool keep, const OptimHyper& h,
                                             float) const {
    const float ai = __fadd_rn(__fmul_rn(h.beta2, a), __fmul_rn(h.one_minus_beta2, __fmul_rn(g, g)));
    a = ai;
    if (keep) w = __fsub_rn(w, __fdiv_rn(__fmul_rn(h.lr, g), __fadd_rn(__fsqrt_rn(ai), h.eps)));
  }
};

template <typename Op>
__device__ __forceinline__ void update_one(Op op, float* w, const float* g, float* s0, float* s1, long long i,
                                           const OptimHyper& h, float scale, float step, bool dropout) {
  if (i >= h.frozen_begin && i < h.frozen_end) return;
  const bool keep = !dropout || mask_uniform(philox_word(h.seed, h.offset + (uint64_t)i)) < h.keep_prob;
  float wi = w[i], a = s0[i], b = Op::kStates > 1 ? s1[i] : 0.f;
  op(wi, __fmul_rn(g[i], scale), a, b, keep, h, step);
  w[i] = wi;
  s0[i] = a;
  if (Op::kStates > 1) s1[i] = b;
}

// vec4: all pointers 16-byte aligned, so groups of four move as float4.
template <typename Op, bool kVec4>
__global__ void update_kernel(Op op, float* w, const float* g, float* s0, float* s1, long long n, OptimHyper h,
                              const float* grad_scale) {
  const float scale = grad_scale ? *grad_scale : 1.f;
  const float step = __fdiv_rn(h.lr, h.bias_correction1);
  const bool dropout = h.keep_prob < 1.f;
  if (!kVec4) {
    FACET_GRID_STRIDE(i, n) update_one(op, w, g, s0, s1, i, h, scale, step, dropout);
    return;
  }
  const long long groups = n / 4;
  const bool block_aligned = (h.offset & 3) == 0;  // then group j is exactly Philox block (offset/4 + j)
  FACET_GRID_STRIDE(j, groups) {
    const long long i0 = j * 4;
    if (i0 >= h.frozen_begin && i0 < h.frozen_end) continue;  // the range is whole groups of four
    bool keep[4] = {true, true, true, true};
    if (dropout) {
      if (block_aligned) {
        const Philox4 r = philox4x32((h.offset >> 2) + (uint64_t)j, h.seed);
#pragma unroll
        for (int k = 0; k < 4; ++k) keep[k] = mask_uniform(r.v[k]) < h.keep_prob;
      } else {
#pragma unroll
        for (int k = 0; k < 4; ++k) keep[k] = mask_uniform(philox_word(h.seed, h.offset + (uint64_t)(i0 + k))) < h.keep_prob;
      }
    }
    float4 wv = reinterpret_cast<const float4*>(w)[j];
    const float4 gv = reinterpret_cast<const float4*>(g)[j];
    float4 av = reinterpret_cast<const float4*>(s0)[j];
    float4 bv = Op::kStates > 1 ? reinterpret_cast<const float4*>(s1)[j] : make_float4(0.f, 0.f, 0.f, 0.f);
    op(wv.x, __fmul_rn(gv.x, scale), av.x, bv.x, keep[0], h, step);
    op(wv.y, __fmul_rn(gv.y, scale), av.y, bv.y, keep[1], h, step);
    op(wv.z, __fmul_rn(gv.z, scale), av.z, bv.z, keep[2], h, step);
    op(wv.w, __fmul_rn(gv.w, scale), av.w, bv.w, keep[3], h, step);
    reinterpret_cast<float4*>(w)[j] = wv;
    reinterpret_cast<float4*>(s0)[j] = av;
    if (Op::kStates > 1) reinterpret_cast<float4*>(s1)[j] = bv;
  }
  // The last n % 4 elements, one thread each.
  const long long t = blockIdx.x * (long long)blockDim.x + threadIdx.x;
  if (t < n - groups * 4) update_one(op, w, g, s0, s1, groups * 4 + t, h, scale, step, dropout);
}

inline bool aligned16(const void* p) { return (reinterpret_cast<uintptr_t>(p) & 15) == 0; }

template <typename Op>
void launch_update(const char* what, float* w, const float* g, float* s0, float* s1, int64_t n, const OptimHyper& h,
                   const float* grad_scale, void* stream) {
  if (n == 0) return;
  const bool vec = aligned16(w) && aligned16(g) && aligned16(s0) && (Op::kStates < 2 || aligned16(s1));
  if (vec) {
    const int64_t groups = n / 4 > 0 ? n / 4 : 1;
    FACET_LAUNCH((update_kernel<Op, true>), grid_for(groups, 256), 256, 0, as_stream(stream), Op{}, w, g, s0, s1, n, h, grad_scale);
  } else {
    FACET_LAUNCH((update_kernel<Op, false>), grid_for(n, 256), 256, 0, as_stream(stream), Op{}, w, g, s0, s1, n, h, grad_scale);
  }
  check_last_error(what);
}

// Stage 1: block b sums x[i]^2 over i = b*T + t + k*(B*T) (fixed), tree-reduced in shared memory.
__global__ void sum_squares_partial_kernel(const float* x, long long n, double* partial) {
  __shared__ double sm[kClipThreads];
  double acc = 0.0;
  for (long long i = blockIdx.x * (long long)kClipThreads + threadIdx.x; i < n; i += (long long)kClipBlocks * kClipThreads) {
    const double v = static_cast<double>(x[i]);
    acc += v * v;
  }
  sm[threadIdx.x] = acc;
  __syncthreads();
  for (int s = kClipThreads / 2; s > 0; s >>= 1) {
    if (threadIdx.x < s) sm[threadIdx.x] += sm[threadIdx.x + s];
    __syncthreads();
  }
  if (threadIdx.x == 0) partial[blockIdx.x] = sm[0];
}

// Stage 2: one block adds the partials and turns the norm into the clip scale.
__global__ void clip_scale_kernel(const double* partial, float clipnorm, float* out) {
  __shared__ double sm[kClipBlocks];
  sm[threadIdx.x] = partial[threadIdx.x];
  __syncthreads();
  for (int s = kClipBlocks / 2; s > 0; s >>= 1) {
    if (threadIdx.x < s) sm[threadIdx.x] += sm[threadIdx.x + s];
    __syncthreads();
  }
  if (threadIdx.x == 0) {
    const double norm = sqrt(sm[0]);
    const double c = static_cast<double>(clipnorm);
    out[0] = static_cast<float>((c > 0.0 && norm >= c && norm > 0.0) ? c / norm : 1.0);
    out[1] = static_cast<float>(norm);
  }
}

}  // namespace

size_t clip_workspace_bytes() { return kClipBlocks * sizeof(double); }

void clip_scale(const float* g, int64_t n, float clipnorm, float* out, void* workspace, void* stream) {
  auto* partial = static_cast<double*>(workspace);
  FACET_LAUNCH(sum_squares_partial_kernel, kClipBlocks, kClipThreads, 0, as_stream(stream), g, n, partial);
  FACET_LAUNCH(clip_scale_kernel, 1, kClipBlocks, 0, as_stream(stream), partial, clipnorm, out);
  check_last_error("clip_scale");
}

void adam_step(float* w, const float* g, float* m, float* v, int64_t n, const OptimHyper& h, const float* grad_scale,
               void* stream) {
  launch_update<AdamOp>("adam_step", w, g, m, v, n, h, grad_scale, stream);
}

void adabelief_step(float* w, const float* g, float* m, float* v, int64_t n, const OptimHyper& h,
                    const float* grad_scale, void* stream) {
  launch_update<AdaBeliefOp>("adabelief_step", w, g, m, v, n, h, grad_scale, stream);
}

void rmsprop_step(float* w, const float* g, float* a, int64_t n, const OptimHyper& h, const float* grad_scale,
                  void* stream) {
  launch_update<RmspropOp>("rmsprop_step", w, g, a, nullptr, n, h, grad_scale, stream);
}

}  // namespace facet::cuda
