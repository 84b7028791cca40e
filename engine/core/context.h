// The Context is everything an op needs that is not a tensor: the default device, allocators,
// CUDA stream and library handles, the autograd tape, the RNG seed and counter, and flags.
// There are no globals: a host program may hold several contexts (e.g. one per GPU).
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

#include "engine/autograd/tape.h"
#include "engine/core/device.h"
#include "engine/memory/allocator.h"
#include "kernels/common/dtype.h"

namespace facet {

namespace cuda {
struct Handles;
class ConvAlgoCache;
}  // namespace cuda
namespace onednn {
class ConvCache;
}  // namespace onednn

// True when this build has the CUDA backend and a device is present.
bool cuda_available();
// The CUDA backend is the emulated device (the CPU running our CUDA code, for tests and debugging
// only; see docs/testing.md).
bool cuda_is_emulated();
// What the GPU has been asked to do since the process started (0 without the CUDA backend):
// kernel launches (ours, plus one per cuDNN / cuBLAS call) and stream copies / memsets. A
// training step's share is the difference around it (kernels/cuda/launch_count.h).
struct CudaWorkCounts {
  uint64_t launches = 0, copies = 0;
};
CudaWorkCounts cuda_work_counts();
// major * 10 + minor of CUDA device `index` (0 without one): bf16 tensor cores need 80 (Ampere).
int cuda_compute_capability(int index);

// What `device` is, for reports: "cpu", or the CUDA device's name (e.g. "NVIDIA H100 80GB HBM3").
std::string device_name(Device device);

// The CPU backend's thread pool, for reports: "2 threads (OpenMP), BLAS on openmp". "BLAS on
// pthreads" means the process loaded a BLAS with its own pool first (see engine/CMakeLists.txt).
std::string cpu_pool_description();
// Whether this build runs CPU convolutions on oneDNN (kernels/onednn/conv2d.h).
bool cpu_has_onednn();
// Whether this CPU multiplies bf16 natively (AVX512_BF16 or AMX), so that CpuConv::Bf16 is fast.
bool cpu_has_native_bf16();
// What the CPU backend runs an f32 regular convolution on: oneDNN in f32, oneDNN with bf16
// products and f32 accumulation (`--precision bf16` on the CPU), or the reference kernels
// (kernels/cpu/conv2d.h), which f64 convolutions and builds without oneDNN always use.
enum class CpuConv { OneDnnF32, OneDnnBf16, Reference };
const char* cpu_conv_name(CpuConv c);

// Threads the CPU backend may use for work started on the calling thread (the others keep theirs):
// a stage with one engine context per worker thread and a worker per core sets 1 in each worker.
void set_cpu_threads_for_this_thread(int threads);

class Context {
 public:
  explicit Context(Device device = Device::cpu(), uint64_t seed = 0x5eed);
  ~Context();
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  Device device() const { return device_; }
  std::shared_ptr<Allocator> allocator(Device d);
  MemoryStats memory_stats(Device d);
  const cuda::Handles& cuda_handles();  // throws when this context has no CUDA device
  // cuDNN algorithm choices and descriptors per conv problem (null on a CPU context).
  cuda::ConvAlgoCache* conv_algo_cache() { return conv_cache_.get(); }

  // oneDNN primitives per CPU conv problem, made on first use (null in a build without oneDNN).
  onednn::ConvCache* onednn_convs();
  // How f32 convolutions run on the CPU (see CpuConv); builds without oneDNN use Reference whatever this says.
  CpuConv cpu_conv = CpuConv::OneDnnF32;

  Tape& tape() { return tape_; }
  bool grad_enabled() const { return grad_enabled_; }
  void set_grad_enabled(bool on) { grad_enabled_ = on; }

  // Counter-based RNG: reserve `count` draws from the stream (seed, offset). Saving seed and
  // offset in a checkpoint makes a resumed run draw the same numbers as an uninterrupted one.
  uint64_t seed() const { return seed_; }
  uint64_t rng_offset() const { return rng_offset_; }
  void set_rng_state(uint64_t seed, uint64_t offset) { seed_ = seed; rng_offset_ = offset; }
  uint64_t reserve_rng(uint64_t count) {
    uint64_t o = rng_offset_;
    rng_offset_ += (count + 3) / 4 * 4;
    return o;
  }

  // Deterministic mode: bit-identical results run to run (CPU always is; on CUDA this picks
  // deterministic cuDNN algorithms and avoids atomics in reductions).
  bool deterministic = false;

  // Mixed precision ("autocast"). When set, the parameterised layers (engine/nn/layers.h) cast
  // their input and their master weights to this dtype in forward (engine/ops/cast.h: autocast),
  // so activations flow in it while the masters, their gradients and the optimizer state keep
  // the masters' dtype (cast_to's backward brings each gradient back). The SAEHD models cast
  // their input batch in and their outputs back to the batch's dtype, so losses never see it.
  // GPU training uses BF16 over f32 masters; CPU tests use F32 over f64 masters. Unset (the
  // default): every op runs in its inputs' dtype, bit-identical to a build without this field.
  std::optional<DType> compute_dtype;

  // The masters already cast to compute_dtype for this step, by master (ParameterBuffer's
  // MasterCastScope fills and clears it); autocast takes a master's copy from here when present.
  std::unordered_map<const TensorImpl*, Tensor> master_casts;

  void synchronize();  // waits for queued device work (never called inside a training step)

 private:
  Device device_;
  uint64_t seed_, rng_offset_ = 0;
  bool grad_enabled_ = true;
  Tape tape_;
  std::shared_ptr<Allocator> cpu_alloc_;
  std::shared_ptr<Allocator> cuda_alloc_;
  std::unique_ptr<cuda::Handles> cuda_;
  std::unique_ptr<cuda::ConvAlgoCache> conv_cache_;
  std::unique_ptr<onednn::ConvCache> onednn_convs_;
};

// Disables tape recording in a scope (inference, optimizer updates, backward formulas).
class NoGradGuard {
 public:
  explicit NoGradGuard(Context& ctx) : ctx_(ctx), prev_(ctx.grad_enabled()) { ctx.set_grad_enabled(false); }
  ~NoGradGuard() { ctx_.set_grad_enabled(prev_); }

 private:
  Context& ctx_;
  bool prev_;
};

// Sets (or clears, with nullopt) the context's compute dtype in a scope.
class ComputeDtypeGuard {
 public:
  ComputeDtypeGuard(Context& ctx, std::optional<DType> dt) : ctx_(ctx), prev_(ctx.compute_dtype) {
    ctx.compute_dtype = dt;
  }
  ~ComputeDtypeGuard() { ctx_.compute_dtype = prev_; }
  ComputeDtypeGuard(const ComputeDtypeGuard&) = delete;
  ComputeDtypeGuard& operator=(const ComputeDtypeGuard&) = delete;

 private:
  Context& ctx_;
  std::optional<DType> prev_;
};

}  // namespace facet
