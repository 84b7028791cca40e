// What a training step asks of the GPU, counted since the process started, so that `facet bench
// train` and the launch-budget test can report and bound the work per step:
//   launch_count()  kernels launched through FACET_LAUNCH, plus one for each cuDNN convolution and
//                   cuBLAS GEMM call our wrappers make (such a call launches at least one kernel;
//                   the library may add a second, e.g. a split-K reduction, which is not seen here);
//   copy_count()    stream copies and memsets (cudaMemcpyAsync / cudaMemsetAsync) our runtime
//                   wrappers issue: not kernels, but work the stream orders all the same.
// The emulated device counts the very same calls, so its counts equal a real GPU's.
#pragma once
#include <cstdint>

namespace facet::cuda {
void count_launch();
uint64_t launch_count();
void count_copy();
uint64_t copy_count();
}  // namespace facet::cuda
