// Runs a kernel's grid on the CPU: blocks one after another, the threads of a block as
// cooperatively scheduled fibers. A thread runs until it finishes or reaches a barrier
// (__syncthreads) or a warp collective (__shfl_*_sync, __syncwarp); only when every thread of the
// block (or every lane the mask names) has arrived do they go on, in thread order. Threads between
// two barriers run one after another, so a missing barrier gives a wrong result instead of luck,
// and barrier divergence or a shuffle whose named lanes never arrive is reported, not hung on.
//
// Barrier-free kernels cost one fiber per block: a thread that never waits runs to completion on
// the fiber that started it, which then starts the next thread; only a thread that waits keeps a
// fiber (and its stack) of its own.
#pragma once
#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>

namespace facet::emu {

struct GridLaunch {
  const char* kernel = "";  // the kernel's name as written at the call site
  const char* file = "";
  int line = 0;
  const void* function = nullptr;  // identifies the kernel for cudaFuncSetAttribute
  dim3 grid, block;
  size_t dynamic_shared_bytes = 0;
  cudaStream_t stream = nullptr;
  void (*run_thread)(const void* closure) = nullptr;  // runs the kernel body for the current thread
  const void* closure = nullptr;
};

// Checks the launch as the hardware would (block and grid limits, shared memory, stream) and runs
// it. Returns cudaSuccess or the error a real launch reports (and records it as the last error).
cudaError_t run_grid(const GridLaunch& launch);

// Argument check made by the launch helper: device code may only dereference device or
// page-locked memory. Records cudaErrorIllegalAddress and returns false (after saying which
// argument) for a pointer into ordinary host memory.
bool check_kernel_pointer(const GridLaunch& launch, int index, const void* p);

// Device-side services for the shim (valid only inside a running kernel).
void sync_block();                                                            // __syncthreads
void sync_warp(unsigned mask);                                                // __syncwarp
uint64_t warp_shuffle(unsigned mask, uint64_t value, int source_lane, int width, const char* what);
void* dynamic_shared_memory();                                                // extern __shared__
int lane_id();

// cudaFuncSetAttribute(cudaFuncAttributeMaxDynamicSharedMemorySize): the opt-in above 48 KiB.
cudaError_t set_max_dynamic_shared(const void* function, int bytes);

// Kernels launched through the emulator since the process started.
uint64_t launches();

}  // namespace facet::emu
