// Device code for the emulator's own tests, compiled with the emulator's shim (see
// tests/emu/CMakeLists.txt): kernels that use barriers and shuffles correctly, and kernels that
// misuse them the way real bugs do, each launched through FACET_LAUNCH like facet's kernels.
#include "tests/emu/emu_test_kernels.h"

#include "kernels/cuda/common.cuh"

namespace facet::emu_test {

namespace {

// Block sum in shared memory: correct with the barriers, wrong without the one after the store.
template <bool kBarrierAfterStore>
__global__ void block_sum_kernel(const float* x, float* out) {
  __shared__ float buf[256];
  buf[threadIdx.x] = x[blockIdx.x * blockDim.x + threadIdx.x];
  if (kBarrierAfterStore) __syncthreads();
  for (int s = blockDim.x / 2; s > 0; s >>= 1) {
    if (threadIdx.x < s) buf[threadIdx.x] += buf[threadIdx.x + s];
    __syncthreads();
  }
  if (threadIdx.x == 0) out[blockIdx.x] = buf[0];
}

// Threads past n return before the barrier the others wait at: barrier divergence.
__global__ void divergent_barrier_kernel(float* x, int n) {
  const int i = threadIdx.x;
  if (i >= n) return;
  x[i] *= 2.f;
  __syncthreads();
  x[i] += 1.f;
}

__global__ void warp_sum_kernel(const float* x, float* out) {
  float v = x[threadIdx.x];
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  out[threadIdx.x] = v;
}

// Only the even lanes call the shuffle, yet the mask names every lane.
__global__ void partial_mask_kernel(float* out) {
  float v = static_cast<float>(threadIdx.x);
  if (threadIdx.x % 2 == 0) v = __shfl_xor_sync(0xffffffffu, v, 2);
  out[threadIdx.x] = v;
}

__global__ void dynamic_shared_kernel(const float* x, float* out, int n) {
  float* s = cuda::dynamic_shared<float>();
  for (int i = threadIdx.x; i < n; i += blockDim.x) s[i] = x[i];
  __syncthreads();
  for (int i = threadIdx.x; i < n; i += blockDim.x) out[i] = s[n - 1 - i];
}

// Reads shared memory nobody wrote.
__global__ void uninitialised_shared_kernel(float* out) {
  float* s = cuda::dynamic_shared<float>();
  out[threadIdx.x] = s[threadIdx.x];
}

__global__ void coords_kernel(unsigned* out) {
  const unsigned b = (blockIdx.z * gridDim.y + blockIdx.y) * gridDim.x + blockIdx.x;
  const unsigned t = (threadIdx.z * blockDim.y + threadIdx.y) * blockDim.x + threadIdx.x;
  const unsigned per_block = blockDim.x * blockDim.y * blockDim.z;
  out[b * per_block + t] = b * 10000u + t;
}

__global__ void scale_kernel(float* x, int n, float a) {
  for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += blockDim.x * gridDim.x) x[i] *= a;
}

}  // namespace

void block_sum(const float* x, float* out, int blocks, bool barrier_after_store, void* stream) {
  if (barrier_after_store)
    FACET_LAUNCH(block_sum_kernel<true>, blocks, 256, 0, static_cast<cudaStream_t>(stream), x, out);
  else
    FACET_LAUNCH(block_sum_kernel<false>, blocks, 256, 0, static_cast<cudaStream_t>(stream), x, out);
}

void divergent_barrier(float* x, int n, int threads) {
  FACET_LAUNCH(divergent_barrier_kernel, 1, threads, 0, nullptr, x, n);
}

void warp_sum(const float* x, float* out) { FACET_LAUNCH(warp_sum_kernel, 1, 32, 0, nullptr, x, out); }

void partial_mask(float* out) { FACET_LAUNCH(partial_mask_kernel, 1, 32, 0, nullptr, out); }

void dynamic_shared_reverse(const float* x, float* out, int n, size_t shared_bytes) {
  FACET_LAUNCH(dynamic_shared_kernel, 1, 128, shared_bytes, nullptr, x, out, n);
}

void allow_dynamic_shared(int bytes) {
  FACET_CUDA_CHECK(cudaFuncSetAttribute(reinterpret_cast<const void*>(&dynamic_shared_kernel),
                                        cudaFuncAttributeMaxDynamicSharedMemorySize, bytes));
}

void uninitialised_shared(float* out) {
  FACET_LAUNCH(uninitialised_shared_kernel, 1, 32, 32 * sizeof(float), nullptr, out);
}

void coords(unsigned* out, dim3 grid, dim3 block) { FACET_LAUNCH(coords_kernel, grid, block, 0, nullptr, out); }

void scale(float* x, int n, float a, dim3 grid, dim3 block, void* stream) {
  FACET_LAUNCH(scale_kernel, grid, block, 0, static_cast<cudaStream_t>(stream), x, n, a);
}

}  // namespace facet::emu_test
