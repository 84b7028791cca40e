// Internal to the emulated runtime: registering allocations and streams, the last-error slot,
// and the hardware limits the launch checks enforce (those of every GPU since Kepler).
#pragma once
#include <cuda_runtime.h>

#include <cstddef>

#include "kernels/cuda_emu/emu_state.h"

namespace facet::emu {

constexpr int kWarpSize = 32;
constexpr int kMaxThreadsPerBlock = 1024;

void register_allocation(const void* p, size_t bytes, MemKind kind);
bool unregister_allocation(const void* p, MemKind kind);  // false if p is no allocation of that kind
void register_stream(cudaStream_t s);
bool unregister_stream(cudaStream_t s);
cudaError_t take_last_error();  // cudaGetLastError: returns and clears (all but a sticky error)
cudaError_t peek_last_error();
// A fault in device code (illegal address, a block that cannot finish) corrupts the context as on
// hardware: the error stays, and every synchronisation and launch reports it until
// cudaDeviceReset.
cudaError_t set_sticky_error(cudaError_t err);
cudaError_t sticky_error();
void clear_sticky_error();

}  // namespace facet::emu
