#include "engine/core/context.h"

#include <cstdio>

#include "engine/core/error.h"
#include "engine/memory/caching_allocator.h"
#include "facet_config.h"
#include "kernels/cpu/parallel.h"
#if FACET_HAS_ONEDNN
#include "kernels/onednn/conv2d.h"
#else
namespace facet::onednn {
class ConvCache {};  // never made without oneDNN; complete so that unique_ptr can be destroyed
}  // namespace facet::onednn
#endif
#if FACET_HAS_CUDA
#include "engine/cuda/caching_allocator.h"
#include "kernels/cuda/conv2d.h"
#include "kernels/cuda/launch_count.h"
#include "kernels/cuda/runtime.h"
#else
namespace facet::cuda {
// Never instantiated without the CUDA backend; complete types so unique_ptr can be destroyed.
struct Handles {};
class ConvAlgoCache {};
}  // namespace facet::cuda
#endif

namespace facet {

bool cuda_available() {
#if FACET_HAS_CUDA
  return cuda::device_count() > 0;
#else
  return false;
#endif
}

CudaWorkCounts cuda_work_counts() {
  CudaWorkCounts c;
#if FACET_HAS_CUDA
  c.launches = cuda::launch_count();
  c.copies = cuda::copy_count();
#endif
  return c;
}

int cuda_compute_capability(int index) {
#if FACET_HAS_CUDA
  return cuda::device_count() > index ? cuda::compute_capability(index) : 0;
#else
  (void)index;
  return 0;
#endif
}

bool cuda_is_emulated() {
#if FACET_HAS_CUDA
  return cuda::is_emulated();
#else
  return false;
#endif
}

std::string device_name(Device device) {
#if FACET_HAS_CUDA
  if (device.is_cuda()) return cuda::device_name(device.index);
#endif
  return device.str();
}

std::string cpu_pool_description() {
  return std::to_string(cpu::pool_threads()) + " threads (OpenMP), BLAS on " + cpu::blas_thread_pool();
}

bool cpu_has_onednn() { return FACET_HAS_ONEDNN != 0; }

bool cpu_has_native_bf16() {
#if FACET_HAS_ONEDNN
  return onednn::cpu_has_native_bf16();
#else
  return false;
#endif
}

const char* cpu_conv_name(CpuConv c) {
  switch (c) {
    case CpuConv::OneDnnF32: return "oneDNN f32";
    case CpuConv::OneDnnBf16: return "oneDNN bf16";
    case CpuConv::Reference: return "reference";
  }
  return "?";
}

onednn::ConvCache* Context::onednn_convs() {
#if FACET_HAS_ONEDNN
  if (!onednn_convs_) onednn_convs_ = std::make_unique<onednn::ConvCache>();
#endif
  return onednn_convs_.get();
}

void set_cpu_threads_for_this_thread(int threads) { cpu::set_pool_threads_for_caller(threads); }

Context::Context(Device device, uint64_t seed) : device_(device), seed_(seed) {
  cpu_alloc_ = make_cpu_allocator();
  if (device.is_cuda()) {
#if FACET_HAS_CUDA
    FACET_CHECK(cuda::device_count() > device.index, "no CUDA device ", device.index,
                " is available (found ", cuda::device_count(), "); use the CPU instead");
    cuda_ = std::make_unique<cuda::Handles>(cuda::create_handles(device.index));
    cuda_alloc_ = make_cuda_allocator();
    conv_cache_ = std::make_unique<cuda::ConvAlgoCache>();
#else
    throw Error("this build of facet has no CUDA backend; rebuild with -DFACET_CUDA=ON or use the CPU");
#endif
  }
}

Context::~Context() {
  tape_.clear();
#if FACET_HAS_CUDA
  if (cuda_) {
    // A destructor must not throw: after a sticky CUDA error (a faulting kernel) this
    // synchronisation fails, and throwing while an exception unwinds would end the process.
    try {
      cuda::stream_synchronize(cuda_->stream);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "facet: CUDA context closed after an error: %s\n", e.what());
    }
    conv_cache_.reset();  // its descriptors belong to the cuDNN handle
    cuda::destroy_handles(*cuda_);
  }
#endif
}

std::shared_ptr<Allocator> Context::allocator(Device d) {
  if (d.is_cpu()) return cpu_alloc_;
  FACET_CHECK(cuda_alloc_ && d == device_, "context for ", device_.str(), " cannot allocate on ", d.str());
  return cuda_alloc_;
}

MemoryStats Context::memory_stats(Device d) { return allocator(d)->stats(); }

const cuda::Handles& Context::cuda_handles() {
  FACET_CHECK(cuda_ != nullptr, "this context has no CUDA device");
  return *cuda_;
}

void Context::synchronize() {
#if FACET_HAS_CUDA
  if (cuda_) cuda::stream_synchronize(cuda_->stream);
#endif
}

}  // namespace facet
