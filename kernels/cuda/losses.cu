// SAEHD losses on the GPU (see losses.h and the CPU reference kernels/cpu/losses.cpp).
//
// DSSIM keeps the four window statistics (mean a, mean b, mean a*b, mean a^2+b^2) together as a
// float4 so each separable pass reads one 16-byte value per tap:
//   forward : W pass (VALID) -> H pass + ssim map + per-block channel sums -> per-sample finish
//   backward: W pass -> H pass + d loss/d statistics -> transposed W pass -> transposed H pass
//             combined with the images into both gradients.
// Partial sums go to fixed slots of the workspace and are added in a fixed order: deterministic.
#include "kernels/cuda/blur.h"
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/losses.h"
#include "kernels/cuda/runtime.h"

namespace facet::cuda {

namespace {

constexpr int kThreads = 256;
constexpr int kLossChunk = kThreads * 16;  // elements one MSE/L1 block sums
constexpr float kC1 = 0.01f * 0.01f, kC2 = 0.03f * 0.03f;

inline size_t align256(size_t b) { return (b + 255) / 256 * 256; }

// Workspace carving shared by the DSSIM entry points.
struct DssimWs {
  float* win;
  float4* stats;  // [N, H, Wo, C] forward; reused as [N, Ho, W, C] in backward
  float4* grads;  // [N, Ho, Wo, C]
  float* partial; // [N, C, K]
  int64_t K;
};

DssimWs carve(void* ws, int64_t N, int64_t H, int64_t W, int64_t C, int64_t fs, size_t* total) {
  const int64_t Ho = H - fs + 1, Wo = W - fs + 1;
  const int64_t K = (Ho * Wo + kThreads - 1) / kThreads;
  size_t o_win = 0;
  size_t o_stats = o_win + align256(static_cast<size_t>(fs) * sizeof(float));
  int64_t stats_n = N * C * (H * Wo > Ho * W ? H * Wo : Ho * W);
  size_t o_grads = o_stats + align256(static_cast<size_t>(stats_n) * sizeof(float4));
  size_t o_part = o_grads + align256(static_cast<size_t>(N * Ho * Wo * C) * sizeof(float4));
  size_t end = o_part + align256(static_cast<size_t>(N * C * K) * sizeof(float));
  if (total) *total = end;
  if (!ws) return {nullptr, nullptr, nullptr, nullptr, K};
  char* base = static_cast<char*>(ws);
  return {reinterpret_cast<float*>(base + o_win), reinterpret_cast<float4*>(base + o_stats),
          reinterpret_cast<float4*>(base + o_grads), reinterpret_cast<float*>(base + o_part), K};
}

__device__ __forceinline__ void load_window(float* k, const float* win, int fs) {
  for (int i = threadIdx.x; i < fs; i += blockDim.x) k[i] = win[i];
  __syncthreads();
}

// Fixed-order shared-memory tree over one block; every thread gets the total back.
__device__ __forceinline__ float block_sum(float v, float* buf) {
  buf[threadIdx.x] = v;
  __syncthreads();
  for (int s = blockDim.x / 2; s > 0; s >>= 1) {
    if (threadIdx.x < s) buf[threadIdx.x] += buf[threadIdx.x + s];
    __syncthreads();
  }
  float r = buf[0];
  __syncthreads();
  return r;
}

// stats[n,h,wo,c] = sum_b k[b] * (a, b, a*b, a^2+b^2)[n,h,wo+b,c]
template <typename T>
__global__ void dssim_w_kernel(const T* a, const T* b, const float* win, float4* stats, long long total, int W,
                               int Wo, int C, int fs) {
  float* k = dynamic_shared<float>();
  load_window(k, win, fs);
  FACET_GRID_STRIDE(idx, total) {
    const int c = static_cast<int>(idx % C);
    const long long t = idx / C;
    const int wo = static_cast<int>(t % Wo);
    const long long off = (t / Wo) * W * C + static_cast<long long>(wo) * C + c;
    float4 s = make_float4(0.f, 0.f, 0.f, 0.f);
    for (int q = 0; q < fs; ++q) {
      const float x = to_f(a[off + q * C]), y = to_f(b[off + q * C]);
      s.x += k[q] * x;
      s.y += k[q] * y;
      s.z += k[q] * (x * y);
      s.w += k[q] * (x * x + y * y);
    }
    stats[idx] = s;
  }
}

// The H pass at output pixel (n, ho, wo, c) of a [N, rows, Wo, C] float4 plane.
__device__ __forceinline__ float4 h_pass(const float4* st, const float* k, int fs, long long base, long long step) {
  float4 m = make_float4(0.f, 0.f, 0.f, 0.f);
  for (int q = 0; q < fs; ++q) {
    const float4 v = st[base + q * step];
    m.x += k[q] * v.x;
    m.y += k[q] * v.y;
    m.z += k[q] * v.z;
    m.w += k[q] * v.w;
  }
  return m;
}

// Block (kx, n) covers output pixels [kx*256, kx*256+256) of sample n; per channel it writes the
// block's sum of the ssim map to partial[(n*C + c)*K + kx].
__global__ void dssim_map_kernel(const float4* stats, const float* win, float* partial, int H, int Wo, int C, int fs,
                                 int P, int K) {
  float* k = dynamic_shared<float>();
  __shared__ float buf[kThreads];
  load_window(k, win, fs);
  const int n = blockIdx.y, p = blockIdx.x * blockDim.x + threadIdx.x;
  const int ho = p / Wo, wo = p % Wo;
  for (int c = 0; c < C; ++c) {
    float s = 0.f;
    if (p < P) {
      const long long base = ((static_cast<long long>(n) * H + ho) * Wo + wo) * C + c;
      const float4 m = h_pass(stats, k, fs, base, static_cast<long long>(Wo) * C);
      const float num0 = m.x * m.y * 2.f, den0 = m.x * m.x + m.y * m.y;
      const float lum = (num0 + kC1) / (den0 + kC1);
      const float cs = (m.z * 2.f - num0 + kC2) / (m.w - den0 + kC2);
      s = lum * cs;
    }
    const float tot = block_sum(s, buf);
    if (threadIdx.x == 0) partial[(static_cast<long long>(n) * C + c) * K + blockIdx.x] = tot;
  }
}

// One block per sample: ssim = sum of partials / P, dssim = (1 - ssim)/2, loss = mean over C.
template <typename T>
__global__ void dssim_finish_kernel(const float* partial, T* per_channel, T* loss, int C, int K, int P) {
  __shared__ float buf[kThreads];
  const int n = blockIdx.x;
  float mean = 0.f;
  for (int c = 0; c < C; ++c) {
    float s = 0.f;
    for (int i = threadIdx.x; i < K; i += blockDim.x) s += partial[(static_cast<long long>(n) * C + c) * K + i];
    const float d = (1.f - block_sum(s, buf) / static_cast<float>(P)) * 0.5f;
    if (per_channel && threadIdx.x == 0) per_channel[n * C + c] = from_f<T>(d);
    mean += d;
  }
  if (threadIdx.x == 0) loss[n] = from_f<T>(mean / static_cast<float>(C));
}

// d loss / d (statistics) at every output pixel, scaled by d loss[n] / d ssim_map = -g[n]/(2 C P).
template <typename T>
__global__ void dssim_grad_stats_kernel(const float4* stats, const float* win, const T* grad_loss, float4* grads,
                                        long long total, int H, int Ho, int Wo, int C, int fs, float inv2cp) {
  float* k = dynamic_shared<float>();
  load_window(k, win, fs);
  FACET_GRID_STRIDE(idx, total) {
    const int c = static_cast<int>(idx % C);
    long long t = idx / C;
    const int wo = static_cast<int>(t % Wo);
    t /= Wo;
    const int ho = static_cast<int>(t % Ho);
    const long long n = t / Ho;
    const long long base = ((n * H + ho) * Wo + wo) * C + c;
    const float4 m = h_pass(stats, k, fs, base, static_cast<long long>(Wo) * C);
    const float ux = m.x, uy = m.y;
    const float A1 = ux * uy * 2.f + kC1, B1 = ux * ux + uy * uy + kC1;
    const float A2 = (m.z - ux * uy) * 2.f + kC2, B2 = m.w - ux * ux - uy * uy + kC2;
    const float lum = A1 / B1, cs = A2 / B2;
    const float gs = -to_f(grad_loss[n]) * inv2cp;
    float4 g;
    g.x = gs * 2.f * ((uy - lum * ux) / B1 * cs + lum * (cs * ux - uy) / B2);
    g.y = gs * 2.f * ((ux - lum * uy) / B1 * cs + lum * (cs * uy - ux) / B2);
    g.z = gs * 2.f * lum / B2;
    g.w = -gs * lum * cs / B2;
    grads[idx] = g;
  }
}

// Transposed W pass: out[n,ho,w,c] = sum_{q: 0 <= w-q < Wo} k[q] * grads[n,ho,w-q,c].
__global__ void dssim_back_w_kernel(const float4* grads, const float* win, float4* out, long long total, int W, int Wo,
                                    int C, int fs) {
  float* k = dynamic_shared<float>();
  load_window(k, win, fs);
  FACET_GRID_STRIDE(idx, total) {
    const int c = static_cast<int>(idx % C);
    const long long t = idx / C;
    const int w = static_cast<int>(t % W);
    const float4* g = grads + (t / W) * Wo * C + c;
    const int q0 = max(0, w - Wo + 1), q1 = min(fs, w + 1);
    float4 s = make_float4(0.f, 0.f, 0.f, 0.f);
    for (int q = q0; q < q1; ++q) {
      const float4 v = g[static_cast<long long>(w - q) * C];
      s.x += k[q] * v.x;
      s.y += k[q] * v.y;
      s.z += k[q] * v.z;
      s.w += k[q] * v.w;
    }
    out[idx] = s;
  }
}

// Transposed H pass, then the chain rule through the per-pixel products of the images.
template <typename T>
__global__ void dssim_back_h_kernel(const float4* tw, const float* win, const T* a, const T* b, T* grad_a, T* grad_b,
                                    long long total, int H, int Ho, int plane, int fs) {
  float* k = dynamic_shared<float>();
  load_window(k, win, fs);
  FACET_GRID_STRIDE(idx, total) {
    const int j = static_cast<int>(idx % plane);
    const long long t = idx / plane;
    const int h = static_cast<int>(t % H);
    const float4* g = tw + (t / H) * Ho * plane + j;
    const int q0 = max(0, h - Ho + 1), q1 = min(fs, h + 1);
    float4 s = make_float4(0.f, 0.f, 0.f, 0.f);
    for (int q = q0; q < q1; ++q) {
      const float4 v = g[static_cast<long long>(h - q) * plane];
      s.x += k[q] * v.x;
      s.y += k[q] * v.y;
      s.z += k[q] * v.z;
      s.w += k[q] * v.w;
    }
    const float x = to_f(a[idx]), y = to_f(b[idx]);
    if (grad_a) grad_a[idx] = from_f<T>(s.x + 2.f * x * s.w + y * s.z);
    if (grad_b) grad_b[idx] = from_f<T>(s.y + 2.f * y * s.w + x * s.z);
  }
}

// ---- MSE / L1 ----

enum class LossKind { Mse, L1 };

template <LossKind K>
__device__ __forceinline__ float loss_f(float d) { return K == LossKind::Mse ? d * d : fabsf(d); }
template <LossKind K>
__device__ __forceinline__ float loss_df(float d) {
  if (K == LossKind::Mse) return 2.f * d;
  return d > 0.f ? 1.f : (d < 0.f ? -1.f : 0.f);
}

template <typename T>
__device__ __forceinline__ float mask_at(const T* mask, long long n, long long i, long long M, int C, int mask_c) {
  if (!mask) return 1.f;
  return mask_c == 1 ? to_f(mask[(n * M + i) / C]) : to_f(mask[n * M + i]);
}

// Block (kx, n) sums elements [kx*kLossChunk, (kx+1)*kLossChunk) of sample n into partial[n*K + kx].
template <typename T, LossKind L>
__global__ void loss_partial_kernel(const T* a, const T* b, const T* mask, float* partial, long long M, int C,
                                    int mask_c, int K) {
  __shared__ float buf[kThreads];
  const long long n = blockIdx.y;
  const long long i0 = static_cast<long long>(blockIdx.x) * kLossChunk;
  const long long i1 = min(M, i0 + kLossChunk);
  float s = 0.f;
  for (long long i = i0 + threadIdx.x; i < i1; i += blockDim.x) {
    const float d = to_f(a[n * M + i]) - to_f(b[n * M + i]);
    s += mask_at(mask, n, i, M, C, mask_c) * loss_f<L>(d);
  }
  const float tot = block_sum(s, buf);
  if (threadIdx.x == 0) partial[n * K + blockIdx.x] = tot;
}

template <typename T>
__global__ void loss_finish_kernel(const float* partial, T* loss, int K, float inv_m) {
  __shared__ float buf[kThreads];
  float s = 0.f;
  for (int i = threadIdx.x; i < K; i += blockDim.x) s += partial[static_cast<long long>(blockIdx.x) * K + i];
  const float tot = block_sum(s, buf);
  if (threadIdx.x == 0) loss[blockIdx.x] = from_f<T>(tot * inv_m);
}

template <typename T, LossKind L>
__global__ void loss_grad_kernel(const T* a, const T* b, const T* mask, const T* grad_loss, T* grad_a, T* grad_b,
                                 long long total, long long M, int C, int mask_c, float inv_m) {
  FACET_GRID_STRIDE(idx, total) {
    const long long n = idx / M, i = idx % M;
    const float d = to_f(a[idx]) - to_f(b[idx]);
    const float v = to_f(grad_loss[n]) * inv_m * mask_at(mask, n, i, M, C, mask_c) * loss_df<L>(d);
    if (grad_a) grad_a[idx] = from_f<T>(v);
    if (grad_b) grad_b[idx] = from_f<T>(-v);
  }
}

template <LossKind L>
void loss_forward(const char* what, DType dt, const void* a, const void* b, const void* mask, int64_t N, int64_t M,
                  int64_t C, int64_t mask_c, void* loss, void* workspace, void* stream) {
  if (N == 0) return;
  const int K = static_cast<int>((M + kLossChunk - 1) / kLossChunk);
  float* partial = static_cast<float*>(workspace);
  dispatch_float(dt, what, [&](auto t) {
    using T = decltype(t);
    if (K > 0) {
      FACET_LAUNCH((loss_partial_kernel<T, L>), dim3(K, static_cast<unsigned>(N)), kThreads, 0, as_stream(stream), static_cast<const T*>(a), static_cast<const T*>(b), static_cast<const T*>(mask), partial, M,
          static_cast<int>(C), static_cast<int>(mask_c), K);
    }
    FACET_LAUNCH(loss_finish_kernel<T>, static_cast<unsigned>(N), kThreads, 0, as_stream(stream), partial, static_cast<T*>(loss), K, M > 0 ? 1.f / static_cast<float>(M) : 0.f);
  });
  check_last_error(what);
}

template <LossKind L>
void loss_backward(const char* what, DType dt, const void* a, const void* b, const void* mask, int64_t N, int64_t M,
                   int64_t C, int64_t mask_c, const void* grad_loss, void* grad_a, void* grad_b, void* stream) {
  const long long total = N * M;
  if (total == 0 || (!grad_a && !grad_b)) return;
  dispatch_float(dt, what, [&](auto t) {
    using T = decltype(t);
    FACET_LAUNCH((loss_grad_kernel<T, L>), grid_for(total, kThreads), kThreads, 0, as_stream(stream), static_cast<const T*>(a), static_cast<const T*>(b), static_cast<const T*>(mask),
        static_cast<const T*>(grad_loss), static_cast<T*>(grad_a), static_cast<T*>(grad_b), total, M,
        static_cast<int>(C), static_cast<int>(mask_c), 1.f / static_cast<float>(M));
  });
  check_last_error(what);
}

}  // namespace

size_t dssim_workspace_bytes(int64_t N, int64_t H, int64_t W, int64_t C, int64_t fs) {
  size_t total = 0;
  carve(nullptr, N, H, W, C, fs, &total);
  return total;
}

void dssim_forward(DType dt, const void* a, const void* b, int64_t N, int64_t H, int64_t W, int64_t C, int64_t fs,
                   double sigma, void* per_channel, void* loss, void* workspace, void* stream) {
  if (N == 0) return;
  const DssimWs ws = carve(workspace, N, H, W, C, fs, nullptr);
  const int64_t Wo = W - fs + 1, Ho = H - fs + 1, P = Ho * Wo;
  const size_t smem = window_shared_bytes(fs);
  gaussian_window(ws.win, fs, sigma, stream);
  dispatch_float(dt, "dssim_forward", [&](auto t) {
    using T = decltype(t);
    const long long n_stats = N * H * Wo * C;
    FACET_LAUNCH(dssim_w_kernel<T>, grid_for(n_stats, kThreads), kThreads, smem, as_stream(stream), static_cast<const T*>(a), static_cast<const T*>(b), ws.win, ws.stats, n_stats, static_cast<int>(W),
        static_cast<int>(Wo), static_cast<int>(C), static_cast<int>(fs));
    FACET_LAUNCH(dssim_map_kernel, dim3(static_cast<unsigned>(ws.K), static_cast<unsigned>(N)), kThreads, smem,
                       as_stream(stream), ws.stats, ws.win, ws.partial, static_cast<int>(H), static_cast<int>(Wo),
                                            static_cast<int>(C), static_cast<int>(fs), static_cast<int>(P),
                                            static_cast<int>(ws.K));
    FACET_LAUNCH(dssim_finish_kernel<T>, static_cast<unsigned>(N), kThreads, 0, as_stream(stream), ws.partial, static_cast<T*>(per_channel), static_cast<T*>(loss), static_cast<int>(C), static_cast<int>(ws.K),
        static_cast<int>(P));
  });
  check_last_error("dssim_forward");
}

void dssim_backward(DType dt, const void* a, const void* b, int64_t N, int64_t H, int64_t W, int64_t C, int64_t fs,
                    double sigma, const void* grad_loss, void* grad_a, void* grad_b, void* workspace, void* stream) {
  if (N == 0 || (!grad_a && !grad_b)) return;
  const DssimWs ws = carve(workspace, N, H, W, C, fs, nullptr);
  const int64_t Wo = W - fs + 1, Ho = H - fs + 1, P = Ho * Wo;
  const size_t smem = window_shared_bytes(fs);
  const float inv2cp = static_cast<float>(1.0 / (2.0 * static_cast<double>(C) * static_cast<double>(P)));
  gaussian_window(ws.win, fs, sigma, stream);
  dispatch_float(dt, "dssim_backward", [&](auto t) {
    using T = decltype(t);
    const long long n_stats = N * H * Wo * C, n_out = N * P * C, n_tw = N * Ho * W * C, n_in = N * H * W * C;
    FACET_LAUNCH(dssim_w_kernel<T>, grid_for(n_stats, kThreads), kThreads, smem, as_stream(stream), static_cast<const T*>(a), static_cast<const T*>(b), ws.win, ws.stats, n_stats, static_cast<int>(W),
        static_cast<int>(Wo), static_cast<int>(C), static_cast<int>(fs));
    FACET_LAUNCH(dssim_grad_stats_kernel<T>, grid_for(n_out, kThreads), kThreads, smem, as_stream(stream), ws.stats, ws.win, static_cast<const T*>(grad_loss), ws.grads, n_out, static_cast<int>(H),
        static_cast<int>(Ho), static_cast<int>(Wo), static_cast<int>(C), static_cast<int>(fs), inv2cp);
    // The stats plane is free again: reuse it for the transposed W pass.
    FACET_LAUNCH(dssim_back_w_kernel, grid_for(n_tw, kThreads), kThreads, smem, as_stream(stream), ws.grads, ws.win, ws.stats, n_tw, static_cast<int>(W), static_cast<int>(Wo), static_cast<int>(C),
        static_cast<int>(fs));
    FACET_LAUNCH(dssim_back_h_kernel<T>, grid_for(n_in, kThreads), kThreads, smem, as_stream(stream), ws.stats, ws.win, static_cast<const T*>(a), static_cast<const T*>(b), static_cast<T*>(grad_a),
        static_cast<T*>(grad_b), n_in, static_cast<int>(H), static_cast<int>(Ho), static_cast<int>(W * C),
        static_cast<int>(fs));
  });
  check_last_error("dssim_backward");
}

size_t loss_workspace_bytes(int64_t N, int64_t M) {
  const int64_t K = (M + kLossChunk - 1) / kLossChunk;
  return align256(static_cast<size_t>(N * (K > 0 ? K : 1)) * sizeof(float));
}

void mse_forward(DType dt, const void* a, const void* b, const void* mask, int64_t N, int64_t M, int64_t C,
                 int64_t mask_c, void* loss, void* workspace, void* stream) {
  loss_forward<LossKind::Mse>("mse_forward", dt, a, b, mask, N, M, C, mask_c, loss, workspace, stream);
}
void mse_backward(DType dt, const void* a, const void* b, const void* mask, int64_t N, int64_t M, int64_t C,
                  int64_t mask_c, const void* grad_loss, void* grad_a, void* grad_b, void* stream) {
  loss_backward<LossKind::Mse>("mse_backward", dt, a, b, mask, N, M, C, mask_c, grad_loss, grad_a, grad_b, stream);
}
void l1_forward(DType dt, const void* a, const void* b, const void* mask, int64_t N, int64_t M, int64_t C,
                int64_t mask_c, void* loss, void* workspace, void* stream) {
  loss_forward<LossKind::L1>("l1_forward", dt, a, b, mask, N, M, C, mask_c, loss, workspace, stream);
}
void l1_backward(DType dt, const void* a, const void* b, const void* mask, int64_t N, int64_t M, int64_t C,
                 int64_t mask_c, const void* grad_loss, void* grad_a, void* grad_b, void* stream) {
  loss_backward<LossKind::L1>("l1_backward", dt, a, b, mask, N, M, C, mask_c, grad_loss, grad_a, grad_b, stream);
}

}  // namespace facet::cuda
