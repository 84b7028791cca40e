// A CUDA context survives the failures the engine catches on purpose (an allocation that does
// not fit) and closes cleanly after one it cannot recover from (a faulting kernel): no stale
// error reported by the next kernel, no exception from a destructor.
#include <gtest/gtest.h>

#include <vector>

#include "engine/core/context.h"
#include "engine/core/error.h"
#include "engine/ops/elementwise.h"
#include "engine/tensor/tensor.h"
#include "facet_config.h"
#include "kernels/cuda/elementwise.h"
#include "kernels/cuda/runtime.h"

namespace facet {
namespace {

TEST(GpuContext, FailedAllocationLeavesNoStaleErrorForTheNextKernel) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  Context ctx(Device::cuda(0), 1);
  EXPECT_THROW(Tensor::empty(ctx, {int64_t(1) << 22, int64_t(1) << 22}, DType::F32), Error);  // 64 TiB
  const Tensor a = Tensor::full(ctx, {4, 8}, 1.5, DType::F32, Device::cuda(0));
  const Tensor b = Tensor::full(ctx, {4, 8}, 2.0, DType::F32, Device::cuda(0));
  Tensor c;
  ASSERT_NO_THROW(c = add(ctx, a, b));
  for (double v : c.to_double(ctx)) EXPECT_EQ(v, 3.5);
}

TEST(GpuContext, ClosesWithoutThrowingAfterAFaultingKernel) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  if (!cuda_is_emulated()) GTEST_SKIP() << "provoking a device fault on purpose needs the emulated device";
#if FACET_HAS_CUDA  // the kernel is called directly: a build without CUDA has none to link
  std::vector<float> host(64, 1.f);
  {
    Context ctx(Device::cuda(0), 1);
    const void* stream = ctx.cuda_handles().stream;
    // A host pointer handed to a kernel: an illegal address, a sticky error for the context.
    EXPECT_THROW(cuda::unary_forward(DType::F32, UnaryOp::Neg, host.data(), host.data(), 64, 0.f,
                                     const_cast<void*>(stream)),
                 Error);
    EXPECT_THROW(ctx.synchronize(), Error);
  }  // ~Context synchronises, fails, and must not throw (that would end the process)
  cuda::device_reset();
#endif
  SUCCEED();
}

}  // namespace
}  // namespace facet
