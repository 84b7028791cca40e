// Separable Gaussian blur on the GPU (see blur.h). One thread per output value in each pass;
// the window sits in shared memory and taps come through L1, which is plenty for the sizes DFL
// uses (masks at R/32 sigma, style blur at R/8). Sums run in the same tap order as the CPU
// reference, so the two agree to f32 rounding.
#include "kernels/cuda/blur.h"
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/runtime.h"

namespace facet::cuda {

namespace {

constexpr int kThreads = 256;

inline size_t align256(size_t b) { return (b + 255) / 256 * 256; }

// One block: exp in double, a fixed-order tree for the sum (deterministic), then normalise.
__global__ void window_kernel(float* w, int size, double sigma) {
  __shared__ double buf[kThreads];
  const double centre = 0.5 * (size - 1), inv2s2 = 1.0 / (2.0 * sigma * sigma);
  double s = 0.0;
  for (int i = threadIdx.x; i < size; i += blockDim.x) {
    double d = i - centre;
    s += exp(-d * d * inv2s2);
  }
  buf[threadIdx.x] = s;
  __syncthreads();
  for (int k = blockDim.x / 2; k > 0; k >>= 1) {
    if (threadIdx.x < k) buf[threadIdx.x] += buf[threadIdx.x + k];
    __syncthreads();
  }
  const double sum = buf[0];
  for (int i = threadIdx.x; i < size; i += blockDim.x) {
    double d = i - centre;
    w[i] = static_cast<float>(exp(-d * d * inv2s2) / sum);
  }
}

__device__ __forceinline__ void load_window(float* k, const float* win, int ks) {
  for (int i = threadIdx.x; i < ks; i += blockDim.x) k[i] = win[i];
  __syncthreads();
}

// tmp[n,h,w,c] = sum_b k[b] x[n,h,w+b-pad,c] (zero outside the row).
template <typename T>
__global__ void blur_w_kernel(const T* x, float* tmp, const float* win, long long total, int W, int C, int ks) {
  float* k = dynamic_shared<float>();
  load_window(k, win, ks);
  const int pad = ks / 2;
  FACET_GRID_STRIDE(idx, total) {
    const int c = static_cast<int>(idx % C);
    const long long t = idx / C;
    const int w = static_cast<int>(t % W);
    const T* xr = x + (t / W) * W * C + c;
    const int b0 = max(0, pad - w), b1 = min(ks, W + pad - w);
    float acc = 0.f;
    for (int b = b0; b < b1; ++b) acc += k[b] * to_f(xr[(w + b - pad) * C]);
    tmp[idx] = acc;
  }
}

// y[n,h,:] = sum_a k[a] tmp[n,h+a-pad,:] (zero outside the image).
template <typename T>
__global__ void blur_h_kernel(const float* tmp, T* y, const float* win, long long total, int H, int plane, int ks) {
  float* k = dynamic_shared<float>();
  load_window(k, win, ks);
  const int pad = ks / 2;
  FACET_GRID_STRIDE(idx, total) {
    const int j = static_cast<int>(idx % plane);
    const long long t = idx / plane;
    const int h = static_cast<int>(t % H);
    const float* tn = tmp + (t / H) * H * plane + j;
    const int a0 = max(0, pad - h), a1 = min(ks, H + pad - h);
    float acc = 0.f;
    for (int a = a0; a < a1; ++a) acc += k[a] * tn[static_cast<long long>(h + a - pad) * plane];
    y[idx] = from_f<T>(acc);
  }
}

}  // namespace

size_t gaussian_blur_workspace_bytes(int64_t N, int64_t H, int64_t W, int64_t C, int64_t ks) {
  return align256(static_cast<size_t>(ks) * sizeof(float)) + static_cast<size_t>(N * H * W * C) * sizeof(float);
}

void gaussian_window(float* w, int64_t size, double sigma, void* stream) {
  FACET_LAUNCH(window_kernel, 1, kThreads, 0, as_stream(stream), w, static_cast<int>(size), sigma);
  check_last_error("gaussian_window");
}

void gaussian_blur(DType dt, const void* x, void* y, void* workspace, int64_t N, int64_t H, int64_t W, int64_t C,
                   double sigma, int64_t ks, void* stream) {
  const long long total = N * H * W * C;
  if (total == 0) return;
  float* win = static_cast<float*>(workspace);
  float* tmp = reinterpret_cast<float*>(static_cast<char*>(workspace) + align256(static_cast<size_t>(ks) * sizeof(float)));
  gaussian_window(win, ks, sigma, stream);
  const size_t smem = window_shared_bytes(ks);
  dispatch_float(dt, "gaussian_blur", [&](auto t) {
    using T = decltype(t);
    FACET_LAUNCH(blur_w_kernel<T>, grid_for(total, kThreads), kThreads, smem, as_stream(stream), static_cast<const T*>(x), tmp, win, total, static_cast<int>(W), static_cast<int>(C), static_cast<int>(ks));
    FACET_LAUNCH(blur_h_kernel<T>, grid_for(total, kThreads), kThreads, smem, as_stream(stream), tmp, static_cast<T*>(y), win, total, static_cast<int>(H), static_cast<int>(W * C), static_cast<int>(ks));
  });
  check_last_error("gaussian_blur");
}

}  // namespace facet::cuda
