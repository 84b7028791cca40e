// Host entry points of the emulator tests' device code (emu_test_kernels.cpp). Each launches
// through FACET_LAUNCH and so throws facet::Error when the launch or the kernel fails.
#pragma once
#include <cuda_runtime.h>

#include <cstddef>

namespace facet::emu_test {

void block_sum(const float* x, float* out, int blocks, bool barrier_after_store, void* stream);
void divergent_barrier(float* x, int n, int threads);
void warp_sum(const float* x, float* out);
void partial_mask(float* out);
void dynamic_shared_reverse(const float* x, float* out, int n, size_t shared_bytes);
void allow_dynamic_shared(int bytes);
void uninitialised_shared(float* out);
void coords(unsigned* out, dim3 grid, dim3 block);
void scale(float* x, int n, float a, dim3 grid, dim3 block, void* stream);

}  // namespace facet::emu_test
