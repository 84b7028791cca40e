// The Context is everything an op needs that is not a tensor: the default device, allocators,
// CUDA stream and library handles, the autograd tape, the RNG seed and counter, and flags.
// There are no globals: a host program may hold several contexts (e.g. one per GPU).
#pragma once
#include <cstdint>
#include <memory>

#include "engine/autograd/tape.h"
#include "engine/core/device.h"
#include "engine/memory/allocator.h"

namespace facet {

namespace cuda {
struct Handles;
class ConvAlgoCache;
}  // namespace cuda

// True when this build has the CUDA backend and a device is present.
bool cuda_available();

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

}  // namespace facet
