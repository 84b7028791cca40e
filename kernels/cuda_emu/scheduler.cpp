// The emulated device's grid runner (see scheduler.h). Fibers come from Boost.Context; stacks
// from one pool reused by every launch, so a launch allocates nothing after the first.
#include "kernels/cuda_emu/scheduler.h"

#include <boost/context/fiber.hpp>
#include <boost/context/pooled_fixedsize_stack.hpp>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "kernels/cuda_emu/device_coords.h"
#include "kernels/cuda_emu/emu_memory.h"
#include "kernels/cuda_emu/emu_state.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/common_interface_defs.h>
#endif

namespace facet::emu {

namespace ctx = boost::context;

namespace {

constexpr size_t kStackBytes = 64 * 1024;

// AddressSanitizer must be told of every switch between stacks (its fibre interface), or it takes
// the fibres' frames for wild accesses. Boost.Context's fcontext switches are plain jumps, so the
// scheduler annotates them itself: `to` names the stack being entered, `save` keeps the leaving
// fibre's fake-stack state (null when that fibre ends). No-ops without ASan. (Boost's ucontext
// fibres annotate too, but ASan's swapcontext interceptor clears the shadow of the whole target
// stack at every switch, and a signal-mask system call comes with each: barrier-heavy kernels
// ran an order of magnitude slower that way.)
struct StackBounds {
  const void* bottom = nullptr;
  size_t size = 0;
};
#if defined(__SANITIZE_ADDRESS__)
void asan_start_switch(void** save, const StackBounds& to) { __sanitizer_start_switch_fiber(save, to.bottom, to.size); }
void asan_finish_switch(void* saved, StackBounds* from) {
  __sanitizer_finish_switch_fiber(saved, from ? &from->bottom : nullptr, from ? &from->size : nullptr);
}
#else
void asan_start_switch(void**, const StackBounds&) {}
void asan_finish_switch(void*, StackBounds*) {}
#endif

enum class ThreadState { Unstarted, Runnable, AtBarrier, AtWarp, Done };

struct WarpRequest {
  unsigned mask = 0;
  uint64_t value = 0;
  int source = 0;  // lane whose value this lane receives (-1: none, e.g. __syncwarp)
  int width = 32;
  const char* what = "";
  uint64_t result = 0;
};

struct Runner;

struct Thread {
  ThreadState state = ThreadState::Unstarted;
  Runner* runner = nullptr;  // the runner whose fiber holds this thread
  ctx::fiber parked;  // the fiber holding this thread's frames while it waits
  WarpRequest warp;
};

// A fiber that starts threads. It keeps starting the next unstarted thread until one of its
// threads waits: then the loop passes to a new runner and this one ends with its thread.
struct Runner {
  ctx::fiber scheduler;  // where to switch when the current thread waits
  StackBounds scheduler_stack;  // the stack of the block's scheduler (the launching thread's)
  StackBounds own_stack;
  bool passed_loop = false;
};

struct Block {
  const GridLaunch* launch = nullptr;
  int threads = 0;
  int next_unstarted = 0;
  int current = -1;
  Runner* runner = nullptr;  // the runner of the current thread
  std::vector<Thread> t;
  std::vector<unsigned char> dynamic_shared;
  std::string failure;  // set when the block cannot go on (divergent barrier, bad shuffle)
  bool abandoning = false;  // the waiting threads are being unwound (abandon_waiting_threads)
};

Block* g_block = nullptr;  // the block being run (launches are serialised by device_lock)
std::atomic<uint64_t> g_launches{0};

std::map<const void*, int>& opt_in_shared() {
  static std::map<const void*, int>* m = new std::map<const void*, int>();
  return *m;
}

ctx::pooled_fixedsize_stack& stack_pool() {
  static ctx::pooled_fixedsize_stack* pool = new ctx::pooled_fixedsize_stack(kStackBytes, 64);
  return *pool;
}

// The pool's stacks, handed to Boost.Context, with the bounds of the last one kept for ASan.
struct BoundsKeepingStacks {
  StackBounds* last;
  ctx::stack_context allocate() {
    ctx::stack_context sc = stack_pool().allocate();
    *last = StackBounds{static_cast<const char*>(sc.sp) - sc.size, sc.size};
    return sc;
  }
  void deallocate(ctx::stack_context& sc) noexcept { stack_pool().deallocate(sc); }
};

void enter_thread(Block& b, int i) {
  b.current = i;
  const dim3& bd = b.launch->block;
  threadIdx.x = static_cast<unsigned>(i % bd.x);
  threadIdx.y = static_cast<unsigned>((i / bd.x) % bd.y);
  threadIdx.z = static_cast<unsigned>(i / (bd.x * bd.y));
}

// Thrown in a waiting thread to unwind its frames when its block has failed; caught by its runner.
// (Destroying the parked fibre would unwind it too, by an exception thrown on a stack switch the
// scheduler cannot announce to ASan.)
struct AbandonedThread {};

// Switches from the current thread back to the block's scheduler until it is resumed.
void wait_here(Block& b, ThreadState why) {
  Runner* r = b.runner;
  b.t[b.current].state = why;
  r->passed_loop = true;
  void* fake_stack = nullptr;
  asan_start_switch(&fake_stack, r->scheduler_stack);
  r->scheduler = std::move(r->scheduler).resume();
  asan_finish_switch(fake_stack, nullptr);
  // resumed by run_block, which has set b.runner, b.current and threadIdx for this thread again
  if (b.abandoning) throw AbandonedThread{};
}

// The bounds of the stack of the runner being made (read by step() as it enters it).
StackBounds g_new_runner_stack;

ctx::fiber make_runner(Block& b) {
  return ctx::fiber(std::allocator_arg, BoundsKeepingStacks{&g_new_runner_stack}, [&b](ctx::fiber&& scheduler) {
    Runner self;
    asan_finish_switch(nullptr, &self.scheduler_stack);
    self.own_stack = g_new_runner_stack;
    self.scheduler = std::move(scheduler);
    while (!self.passed_loop && b.next_unstarted < b.threads && b.failure.empty()) {
      const int i = b.next_unstarted++;
      b.runner = &self;
      b.t[i].runner = &self;
      enter_thread(b, i);
      b.t[i].state = ThreadState::Runnable;
      try {
        b.launch->run_thread(b.launch->closure);
      } catch (const AbandonedThread&) {
        b.t[b.current].state = ThreadState::Done;
        break;
      }
      b.t[b.current].state = ThreadState::Done;
    }
    asan_start_switch(nullptr, self.scheduler_stack);  // this fibre ends
    return std::move(self.scheduler);
  });
}

// Resumes a fiber (a new runner or a waiting thread's, whose stack is `stack`) and files it
// under the thread it holds when it next waits.
void step(Block& b, ctx::fiber f, const StackBounds& stack) {
  void* fake_stack = nullptr;
  asan_start_switch(&fake_stack, stack);
  f = std::move(f).resume();
  asan_finish_switch(fake_stack, nullptr);
  if (f) b.t[b.current].parked = std::move(f);
}

void resume_thread(Block& b, int i) {
  ctx::fiber f = std::move(b.t[i].parked);
  b.t[i].state = ThreadState::Runnable;
  b.runner = b.t[i].runner;
  enter_thread(b, i);
  step(b, std::move(f), b.runner->own_stack);
}

// Unwinds every thread still waiting in a failed block, each on its own stack.
void abandon_waiting_threads(Block& b) {
  b.abandoning = true;
  for (int i = 0; i < static_cast<int>(b.t.size()); ++i)
    if (b.t[i].parked) resume_thread(b, i);
  b.abandoning = false;
}

// Completes every warp collective whose named lanes have all arrived. Returns whether any did.
bool complete_warp_collectives(Block& b) {
  bool any = false;
  const int warps = (b.threads + kWarpSize - 1) / kWarpSize;
  for (int w = 0; w < warps; ++w) {
    const int first = w * kWarpSize, lanes = std::min(kWarpSize, b.threads - first);
    int waiting = -1;
    for (int l = 0; l < lanes; ++l)
      if (b.t[first + l].state == ThreadState::AtWarp) waiting = l;
    if (waiting < 0) continue;
    const WarpRequest& req = b.t[first + waiting].warp;
    const unsigned mask = req.mask;
    bool ready = true;
    for (int l = 0; l < kWarpSize && ready; ++l) {
      if (!(mask & (1u << l))) continue;
      if (l >= lanes) {
        b.failure = std::string(req.what) + ": mask names lane " + std::to_string(l) + " of warp " + std::to_string(w) +
                    ", which does not exist in a block of " + std::to_string(b.threads) + " threads";
        return false;
      }
      const Thread& th = b.t[first + l];
      if (th.state != ThreadState::AtWarp) ready = false;
      else if (th.warp.mask != mask) {
        b.failure = std::string(req.what) + ": lanes of warp " + std::to_string(w) + " disagree on the mask";
        return false;
      }
    }
    if (!ready) continue;
    for (int l = 0; l < lanes; ++l) {
      Thread& th = b.t[first + l];
      if (!(mask & (1u << l))) continue;
      const int src = th.warp.source;
      if (src >= 0) {
        if (src >= lanes || !(mask & (1u << src))) {
          b.failure = std::string(th.warp.what) + ": lane " + std::to_string(l) + " reads lane " +
                      std::to_string(src) + ", which is not in the mask";
          return false;
        }
        th.warp.result = b.t[first + src].warp.value;
      }
      th.state = ThreadState::Runnable;
      any = true;
    }
  }
  return any;
}

// Runs one block to completion. Returns false (with b.failure set) if it cannot complete.
bool run_block(Block& b) {
  for (;;) {
    bool progressed = false;
    for (int i = 0; i < b.threads && b.failure.empty(); ++i) {
      if (b.t[i].state == ThreadState::Runnable && b.t[i].parked) {
        resume_thread(b, i);
        progressed = true;
      }
    }
    if (!b.failure.empty()) return false;
    if (b.next_unstarted < b.threads) {
      ctx::fiber runner = make_runner(b);  // (allocates its stack, which sets g_new_runner_stack)
      step(b, std::move(runner), g_new_runner_stack);
      continue;
    }
    if (progressed) continue;
    if (complete_warp_collectives(b)) continue;
    if (!b.failure.empty()) return false;
    int done = 0, barrier = 0, warp = 0;
    for (const Thread& th : b.t) {
      done += th.state == ThreadState::Done;
      barrier += th.state == ThreadState::AtBarrier;
      warp += th.state == ThreadState::AtWarp;
    }
    if (done == b.threads) return true;
    if (warp > 0) {
      for (const Thread& th : b.t)
        if (th.state == ThreadState::AtWarp) {
          b.failure = std::string(th.warp.what) + " waits for lanes of its mask that never arrive";
          break;
        }
      return false;
    }
    if (done > 0) {
      b.failure = "__syncthreads reached by " + std::to_string(barrier) + " threads while " + std::to_string(done) +
                  " threads of the block had already returned (barrier divergence)";
      return false;
    }
    for (Thread& th : b.t)
      if (th.state == ThreadState::AtBarrier) th.state = ThreadState::Runnable;
  }
}

std::string where(const GridLaunch& l) {
  return std::string(l.kernel) + " (" + l.file + ":" + std::to_string(l.line) + ")";
}

cudaError_t refuse(const GridLaunch& l, cudaError_t err, const std::string& why) {
  report_misuse("launch of " + where(l) + ": " + why);
  return set_last_error(err);
}

std::string dims(const dim3& d) {
  return std::to_string(d.x) + "x" + std::to_string(d.y) + "x" + std::to_string(d.z);
}

cudaError_t check_shape(const GridLaunch& l) {
  const cudaDeviceProp& p = device_properties();
  const dim3 &g = l.grid, &b = l.block;
  if (g.x == 0 || g.y == 0 || g.z == 0 || b.x == 0 || b.y == 0 || b.z == 0)
    return refuse(l, cudaErrorInvalidConfiguration, "empty grid " + dims(g) + " or block " + dims(b));
  const unsigned long long threads = 1ull * b.x * b.y * b.z;
  if (threads > static_cast<unsigned long long>(p.maxThreadsPerBlock) || b.x > unsigned(p.maxThreadsDim[0]) ||
      b.y > unsigned(p.maxThreadsDim[1]) || b.z > unsigned(p.maxThreadsDim[2]))
    return refuse(l, cudaErrorInvalidConfiguration, "block " + dims(b) + " exceeds the limits (1024 threads, 1024x1024x64)");
  if (g.x > unsigned(p.maxGridSize[0]) || g.y > unsigned(p.maxGridSize[1]) || g.z > unsigned(p.maxGridSize[2]))
    return refuse(l, cudaErrorInvalidConfiguration, "grid " + dims(g) + " exceeds the limits (2^31-1 x 65535 x 65535)");
  size_t allowed = p.sharedMemPerBlock;
  auto it = opt_in_shared().find(l.function);
  if (it != opt_in_shared().end()) allowed = static_cast<size_t>(it->second);
  if (l.dynamic_shared_bytes > allowed)
    return refuse(l, cudaErrorInvalidValue,
                  std::to_string(l.dynamic_shared_bytes) + " bytes of dynamic shared memory, more than the " +
                      std::to_string(allowed) + " allowed" +
                      (it == opt_in_shared().end() ? " without cudaFuncAttributeMaxDynamicSharedMemorySize" : ""));
  if (!stream_alive(l.stream)) return refuse(l, cudaErrorInvalidResourceHandle, "the stream was destroyed");
  return cudaSuccess;
}

}  // namespace

cudaError_t run_grid(const GridLaunch& l) {
  std::lock_guard<std::recursive_mutex> lock(device_lock());
  g_launches.fetch_add(1, std::memory_order_relaxed);
  if (g_block) return refuse(l, cudaErrorNotSupported, "a kernel launched from device code");
  if (const cudaError_t e = sticky_error(); e != cudaSuccess) return set_last_error(e);
  if (cudaError_t e = check_shape(l); e != cudaSuccess) return e;
  Block b;
  b.launch = &l;
  b.threads = static_cast<int>(l.block.x * l.block.y * l.block.z);
  b.dynamic_shared.resize(l.dynamic_shared_bytes);
  blockDim = l.block;
  gridDim = l.grid;
  g_block = &b;
  cudaError_t result = cudaSuccess;
  for (unsigned z = 0; z < l.grid.z && result == cudaSuccess; ++z)
    for (unsigned y = 0; y < l.grid.y && result == cudaSuccess; ++y)
      for (unsigned x = 0; x < l.grid.x; ++x) {
        blockIdx = uint3{x, y, z};
        b.t.clear();
        b.t.resize(b.threads);
        b.next_unstarted = 0;
        // Shared memory starts undefined on the hardware: all-ones bytes read back as NaN.
        if (!b.dynamic_shared.empty()) std::memset(b.dynamic_shared.data(), 0xff, b.dynamic_shared.size());
        if (!run_block(b)) {
          const std::string why = "block (" + std::to_string(x) + "," + std::to_string(y) + "," + std::to_string(z) +
                                  "): " + b.failure;
          abandon_waiting_threads(b);
          b.t.clear();
          g_block = nullptr;
          report_misuse("kernel " + where(l) + ", " + why);
          return set_sticky_error(cudaErrorLaunchFailure);
        }
      }
  g_block = nullptr;
  return result;
}

bool check_kernel_pointer(const GridLaunch& l, int index, const void* p) {
  if (p == nullptr || device_accessible(p, 0)) return true;
  report_misuse("launch of " + where(l) + ": argument " + std::to_string(index) +
                " points to memory the device cannot access (ordinary host memory)");
  set_sticky_error(cudaErrorIllegalAddress);
  return false;
}

void sync_block() { wait_here(*g_block, ThreadState::AtBarrier); }

int lane_id() { return g_block->current % kWarpSize; }

uint64_t warp_shuffle(unsigned mask, uint64_t value, int source_lane, int width, const char* what) {
  Block& b = *g_block;
  Thread& me = b.t[b.current];
  me.warp = WarpRequest{mask, value, source_lane, width, what, 0};
  if (!(mask & (1u << lane_id()))) {
    b.failure = std::string(what) + ": the calling lane " + std::to_string(lane_id()) + " is not in its mask";
    me.warp.mask |= 1u << lane_id();
  }
  wait_here(b, ThreadState::AtWarp);
  return b.t[b.current].warp.result;
}

void sync_warp(unsigned mask) { warp_shuffle(mask, 0, -1, kWarpSize, "__syncwarp"); }

void* dynamic_shared_memory() { return g_block->dynamic_shared.empty() ? nullptr : g_block->dynamic_shared.data(); }

cudaError_t set_max_dynamic_shared(const void* function, int bytes) {
  std::lock_guard<std::recursive_mutex> lock(device_lock());
  if (bytes < 0 || static_cast<size_t>(bytes) > device_properties().sharedMemPerBlockOptin) {
    report_misuse("cudaFuncSetAttribute: " + std::to_string(bytes) + " bytes of dynamic shared memory exceed the " +
                  std::to_string(device_properties().sharedMemPerBlockOptin) + " the device allows");
    return set_last_error(cudaErrorInvalidValue);
  }
  opt_in_shared()[function] = bytes;
  return cudaSuccess;
}

uint64_t launches() { return g_launches.load(std::memory_order_relaxed); }

}  // namespace facet::emu
