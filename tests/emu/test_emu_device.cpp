// The emulated device's scheduler and runtime: barriers, shuffles and shared memory behave as on
// hardware, a missing barrier gives a wrong answer, and what the hardware refuses or leaves
// undefined is refused loudly (launch limits, divergence, host pointers, mismatched copies, a
// destroyed stream, a host read before synchronisation).
#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <numeric>
#include <vector>

#include "kernels/common/error.h"
#include "kernels/cuda/check.h"
#include "kernels/cuda/launch_count.h"
#include "tests/emu/emu_test_kernels.h"

namespace facet {
namespace {

template <typename T>
T* device_copy(const std::vector<T>& h) {
  void* d = nullptr;
  FACET_CUDA_CHECK(cudaMalloc(&d, h.size() * sizeof(T)));
  FACET_CUDA_CHECK(cudaMemcpy(d, h.data(), h.size() * sizeof(T), cudaMemcpyHostToDevice));
  return static_cast<T*>(d);
}

template <typename T>
std::vector<T> host_copy(const T* d, size_t n) {
  std::vector<T> h(n);
  FACET_CUDA_CHECK(cudaMemcpy(h.data(), d, n * sizeof(T), cudaMemcpyDeviceToHost));
  return h;
}

std::vector<float> iota_floats(size_t n) {
  std::vector<float> v(n);
  std::iota(v.begin(), v.end(), 1.f);
  return v;
}

TEST(EmuDevice, ReportsOneDeviceWithConfigurableCapability) {
  int n = 0;
  ASSERT_EQ(cudaGetDeviceCount(&n), cudaSuccess);
  EXPECT_EQ(n, 1);
  cudaDeviceProp p;
  ASSERT_EQ(cudaGetDeviceProperties(&p, 0), cudaSuccess);
  const char* cc = std::getenv("FACET_EMULATED_CC");
  if (!cc) {
    EXPECT_EQ(p.major, 9);
    EXPECT_EQ(p.minor, 0);
  }
  EXPECT_NE(std::string(p.name).find("emulated"), std::string::npos);
  EXPECT_EQ(cudaGetDeviceProperties(&p, 1), cudaErrorInvalidDevice);
  EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidDevice);
  EXPECT_EQ(cudaGetLastError(), cudaSuccess);  // read and cleared
}

TEST(EmuDevice, BlockReductionWithBarriersIsExact) {
  const int blocks = 3;
  const auto x = iota_floats(256 * blocks);
  float* dx = device_copy(x);
  float* dout = device_copy(std::vector<float>(blocks, 0.f));
  emu_test::block_sum(dx, dout, blocks, true, nullptr);
  const auto out = host_copy(dout, blocks);
  for (int b = 0; b < blocks; ++b) {
    double want = 0;
    for (int i = 0; i < 256; ++i) want += x[b * 256 + i];
    EXPECT_EQ(out[b], static_cast<float>(want)) << "block " << b;
  }
  cudaFree(dx);
  cudaFree(dout);
}

TEST(EmuDevice, MissingBarrierGivesAWrongAnswer) {
  const auto x = iota_floats(256);
  float* dx = device_copy(x);
  float* dout = device_copy(std::vector<float>(1, 0.f));
  emu_test::block_sum(dx, dout, 1, false, nullptr);
  const float got = host_copy(dout, 1)[0];
  EXPECT_NE(got, 32896.f) << "threads between barriers must not see each other's later writes";
  cudaFree(dx);
  cudaFree(dout);
}

TEST(EmuDevice, BarrierDivergenceIsReported) {
  float* dx = device_copy(iota_floats(64));
  EXPECT_THROW(emu_test::divergent_barrier(dx, 40, 64), Error);
  // a fault in device code is sticky, as on hardware: later launches and synchronisations fail too
  EXPECT_THROW(emu_test::divergent_barrier(dx, 64, 64), Error);
  EXPECT_EQ(cudaStreamSynchronize(nullptr), cudaErrorLaunchFailure);
  EXPECT_EQ(cudaGetLastError(), cudaErrorLaunchFailure);
  EXPECT_EQ(cudaGetLastError(), cudaErrorLaunchFailure);
  ASSERT_EQ(cudaDeviceReset(), cudaSuccess);
  EXPECT_NO_THROW(emu_test::divergent_barrier(dx, 64, 64));
  cudaFree(dx);
}

TEST(EmuDevice, WarpShuffleReductionGivesEveryLaneTheSum) {
  const auto x = iota_floats(32);
  float* dx = device_copy(x);
  float* dout = device_copy(std::vector<float>(32, 0.f));
  emu_test::warp_sum(dx, dout);
  for (float v : host_copy(dout, 32)) EXPECT_EQ(v, 528.f);
  cudaFree(dx);
  cudaFree(dout);
}

TEST(EmuDevice, ShuffleWhoseNamedLanesDoNotArriveIsReported) {
  float* dout = device_copy(std::vector<float>(32, 0.f));
  EXPECT_THROW(emu_test::partial_mask(dout), Error);
  ASSERT_EQ(cudaDeviceReset(), cudaSuccess);
  cudaFree(dout);
}

TEST(EmuDevice, DynamicSharedMemoryAndTheOptInLimit) {
  const int n = 1000;
  const auto x = iota_floats(n);
  float* dx = device_copy(x);
  float* dout = device_copy(std::vector<float>(n, 0.f));
  emu_test::dynamic_shared_reverse(dx, dout, n, n * sizeof(float));
  const auto out = host_copy(dout, n);
  for (int i = 0; i < n; ++i) ASSERT_EQ(out[i], x[n - 1 - i]);
  // 64 KiB is more than the 48 KiB default: refused until the kernel opts in.
  EXPECT_THROW(emu_test::dynamic_shared_reverse(dx, dout, n, 64 * 1024), Error);
  emu_test::allow_dynamic_shared(64 * 1024);
  EXPECT_NO_THROW(emu_test::dynamic_shared_reverse(dx, dout, n, 64 * 1024));
  cudaFree(dx);
  cudaFree(dout);
}

TEST(EmuDevice, UninitialisedSharedMemoryReadsAsNaN) {
  float* dout = device_copy(std::vector<float>(32, 0.f));
  emu_test::uninitialised_shared(dout);
  for (float v : host_copy(dout, 32)) EXPECT_TRUE(std::isnan(v));
  cudaFree(dout);
}

TEST(EmuDevice, ThreadAndBlockCoordinatesCoverTheGrid) {
  const dim3 grid(3, 2, 2), block(8, 4, 2);
  const size_t per_block = 64, total = 12 * per_block;
  unsigned* d = nullptr;
  ASSERT_EQ(cudaMalloc(reinterpret_cast<void**>(&d), total * sizeof(unsigned)), cudaSuccess);
  emu_test::coords(d, grid, block);
  const auto out = host_copy(d, total);
  for (size_t b = 0; b < 12; ++b)
    for (size_t t = 0; t < per_block; ++t) ASSERT_EQ(out[b * per_block + t], b * 10000 + t);
  cudaFree(d);
}

TEST(EmuDevice, LaunchLimitsAreThoseOfTheHardware) {
  float* dx = device_copy(iota_floats(4096));
  EXPECT_THROW(emu_test::scale(dx, 4096, 2.f, dim3(1), dim3(1025), nullptr), Error);
  EXPECT_THROW(emu_test::scale(dx, 4096, 2.f, dim3(1), dim3(2, 2, 65), nullptr), Error);
  EXPECT_THROW(emu_test::scale(dx, 4096, 2.f, dim3(1, 65536), dim3(32), nullptr), Error);
  EXPECT_THROW(emu_test::scale(dx, 4096, 2.f, dim3(0), dim3(32), nullptr), Error);
  EXPECT_NO_THROW(emu_test::scale(dx, 4096, 2.f, dim3(4), dim3(1024), nullptr));
  EXPECT_EQ(host_copy(dx, 4096)[4095], 8192.f);
  cudaFree(dx);
}

TEST(EmuDevice, HostPointerArgumentIsRefused) {
  std::vector<float> host(16, 1.f);
  EXPECT_THROW(emu_test::scale(host.data(), 16, 2.f, dim3(1), dim3(16), nullptr), Error);
  EXPECT_EQ(host[0], 1.f);
  EXPECT_EQ(cudaGetLastError(), cudaErrorIllegalAddress);  // sticky
  ASSERT_EQ(cudaDeviceReset(), cudaSuccess);
  void* pinned = nullptr;
  ASSERT_EQ(cudaHostAlloc(&pinned, 16 * sizeof(float), cudaHostAllocMapped), cudaSuccess);
  auto* pf = static_cast<float*>(pinned);
  for (int i = 0; i < 16; ++i) pf[i] = 1.f;
  EXPECT_NO_THROW(emu_test::scale(pf, 16, 2.f, dim3(1), dim3(16), nullptr));  // mapped: the device reads it
  EXPECT_EQ(pf[7], 2.f);
  cudaFreeHost(pinned);
}

TEST(EmuDevice, LaunchOnADestroyedStreamIsRefused) {
  float* dx = device_copy(iota_floats(16));
  cudaStream_t s;
  ASSERT_EQ(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking), cudaSuccess);
  EXPECT_NO_THROW(emu_test::scale(dx, 16, 2.f, dim3(1), dim3(16), s));
  ASSERT_EQ(cudaStreamDestroy(s), cudaSuccess);
  EXPECT_THROW(emu_test::scale(dx, 16, 2.f, dim3(1), dim3(16), s), Error);
  cudaFree(dx);
}

TEST(EmuDevice, AsyncCopyToHostArrivesOnlyAtSynchronisation) {
  const auto x = iota_floats(8);
  float* dx = device_copy(x);
  cudaStream_t s;
  ASSERT_EQ(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking), cudaSuccess);
  std::vector<float> h(8, 0.f);
  ASSERT_EQ(cudaMemcpyAsync(h.data(), dx, 8 * sizeof(float), cudaMemcpyDeviceToHost, s), cudaSuccess);
  emu_test::scale(dx, 8, 10.f, dim3(1), dim3(8), s);  // later work must not change what the copy read
  EXPECT_TRUE(std::isnan(h[0])) << "a host read before synchronising must not see the data by luck";
  ASSERT_EQ(cudaStreamSynchronize(s), cudaSuccess);
  EXPECT_EQ(h, x);
  ASSERT_EQ(cudaStreamDestroy(s), cudaSuccess);
  cudaFree(dx);
}

TEST(EmuDevice, CopiesMustMatchTheirDirection) {
  float* dx = device_copy(iota_floats(8));
  std::vector<float> h(8);
  void* pinned = nullptr;
  ASSERT_EQ(cudaHostAlloc(&pinned, 8 * sizeof(float), cudaHostAllocMapped | cudaHostAllocPortable), cudaSuccess);
  // Mapped host memory is host memory: "host to device" into it is a mismatch, Default is right.
  EXPECT_EQ(cudaMemcpy(pinned, h.data(), 8 * sizeof(float), cudaMemcpyHostToDevice), cudaErrorInvalidValue);
  EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidValue);
  EXPECT_EQ(cudaMemcpy(pinned, dx, 8 * sizeof(float), cudaMemcpyDefault), cudaSuccess);
  EXPECT_EQ(static_cast<float*>(pinned)[3], 4.f);
  EXPECT_EQ(cudaMemcpy(dx, h.data(), 8 * sizeof(float), cudaMemcpyDeviceToHost), cudaErrorInvalidValue);
  EXPECT_EQ(cudaMemcpy(dx, h.data(), 9 * sizeof(float), cudaMemcpyHostToDevice), cudaErrorInvalidValue)
      << "a copy past the end of the allocation";
  EXPECT_EQ(cudaMemsetAsync(h.data(), 0, 8, nullptr), cudaErrorInvalidValue);
  (void)cudaGetLastError();
  cudaFreeHost(pinned);
  cudaFree(dx);
}

TEST(EmuDevice, NewDeviceMemoryReadsAsNaN) {
  float* d = nullptr;
  ASSERT_EQ(cudaMalloc(reinterpret_cast<void**>(&d), 4 * sizeof(float)), cudaSuccess);
  for (float v : host_copy(d, 4)) EXPECT_TRUE(std::isnan(v));
  cudaFree(d);
}

TEST(EmuDevice, FailedCheckLeavesNoStaleLastError) {
  void* p = nullptr;
  EXPECT_THROW(FACET_CUDA_CHECK(cudaMalloc(&p, size_t(1) << 62)), Error);
  EXPECT_EQ(cudaGetLastError(), cudaSuccess);
}

TEST(EmuDevice, LaunchesAreCounted) {
  float* dx = device_copy(iota_floats(16));
  const uint64_t before = cuda::launch_count();
  emu_test::scale(dx, 16, 2.f, dim3(1), dim3(16), nullptr);
  emu_test::scale(dx, 16, 2.f, dim3(1), dim3(16), nullptr);
  EXPECT_EQ(cuda::launch_count() - before, 2u);
  cudaFree(dx);
}

TEST(EmuDevice, EventsMeasureElapsedTime) {
  cudaEvent_t a, b;
  ASSERT_EQ(cudaEventCreate(&a), cudaSuccess);
  ASSERT_EQ(cudaEventCreate(&b), cudaSuccess);
  float* dx = device_copy(iota_floats(1 << 16));
  ASSERT_EQ(cudaEventRecord(a, nullptr), cudaSuccess);
  emu_test::scale(dx, 1 << 16, 2.f, dim3(64), dim3(256), nullptr);
  ASSERT_EQ(cudaEventRecord(b, nullptr), cudaSuccess);
  ASSERT_EQ(cudaEventSynchronize(b), cudaSuccess);
  float ms = -1;
  ASSERT_EQ(cudaEventElapsedTime(&ms, a, b), cudaSuccess);
  EXPECT_GE(ms, 0.f);
  cudaEventDestroy(a);
  cudaEventDestroy(b);
  cudaFree(dx);
}

}  // namespace
}  // namespace facet
