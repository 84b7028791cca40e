// The one way our kernels are launched: FACET_LAUNCH(kernel, grid, block, shared_bytes, stream,
// args...) in place of kernel<<<grid, block, shared_bytes, stream>>>(args...). Under nvcc it is
// that launch plus its error check (the kernel's name, file and line in the facet::Error); under
// the emulated device (kernels/cuda_emu) it runs the grid on the CPU, after checking that every
// pointer argument addresses memory the device can reach. Either way it counts the launch, so
// benchmarks can report kernel launches per training step.
//
// A kernel name with a comma in its template arguments goes in parentheses:
//   FACET_LAUNCH((column_partial_kernel<T, 0>), grid, block, 0, stream, ...).
#pragma once
#include <cuda_runtime.h>

#include <cstddef>
#include <tuple>
#include <type_traits>
#include <utility>

#include "kernels/cuda/check.h"
#include "kernels/cuda/launch_count.h"

namespace facet::cuda {

#if defined(FACET_CUDA_EMULATED)
template <typename T>
const void* pointer_or_null(const T& v) {
  if constexpr (std::is_pointer_v<T>) return static_cast<const void*>(v);
  else return nullptr;
}
#endif

template <typename... Params, typename... Args>
void launch(const char* name, const char* file, int line, void (*kernel)(Params...), dim3 grid, dim3 block,
            size_t shared_bytes, cudaStream_t stream, Args&&... args) {
  static_assert(sizeof...(Params) == sizeof...(Args), "FACET_LAUNCH: argument count differs from the kernel's");
  count_launch();
#if defined(FACET_CUDA_EMULATED)
  // Converted once, as the hardware copies arguments into the launch's parameter buffer; each
  // thread gets its own copy of the by-value parameters.
  const std::tuple<Params...> params(static_cast<Params>(std::forward<Args>(args))...);
  emu::GridLaunch l;
  l.kernel = name;
  l.file = file;
  l.line = line;
  l.function = reinterpret_cast<const void*>(kernel);
  l.grid = grid;
  l.block = block;
  l.dynamic_shared_bytes = shared_bytes;
  l.stream = stream;
  bool pointers_ok = true;
  int index = 0;
  std::apply([&](const auto&... p) { ((pointers_ok = emu::check_kernel_pointer(l, index++, pointer_or_null(p)) && pointers_ok), ...); },
             params);
  if (pointers_ok) {
    auto body = [&] {
      std::tuple<Params...> copy = params;
      std::apply(kernel, copy);
    };
    using Body = decltype(body);
    l.run_thread = [](const void* closure) { (*static_cast<const Body*>(closure))(); };
    l.closure = &body;
    emu::run_grid(l);
  }
#else
  kernel<<<grid, block, shared_bytes, stream>>>(std::forward<Args>(args)...);
#endif
  const cudaError_t e = cudaGetLastError();
  if (e != cudaSuccess) throw_error("CUDA", name, cudaGetErrorString(e), file, line);
}

}  // namespace facet::cuda

#define FACET_LAUNCH(kernel, grid, block, shared_bytes, stream, ...) \
  ::facet::cuda::launch(#kernel, __FILE__, __LINE__, kernel, grid, block, shared_bytes, stream, ##__VA_ARGS__)
