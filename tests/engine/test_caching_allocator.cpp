// The caching allocator behind every context's host and device memory: blocks are reused
// best-fit within 2x, a failed system allocation gives the cache back and retries once, an
// impossible one is a clear error, and a steady-state CPU training step allocates nothing from
// the system (the same property tests/gpu asserts for cudaMalloc).
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <unordered_map>

#include "engine/autograd/tape.h"
#include "engine/core/error.h"
#include "engine/memory/caching_allocator.h"
#include "engine/ops/losses.h"
#include "engine/optim/optimizer.h"
#include "support/tiny_autoencoder.h"

using namespace facet;

namespace {

// System memory with a byte budget, counting what it hands out.
struct BudgetMemory {
  size_t budget = 0, used = 0;
  int refusals = 0;
  std::unordered_map<void*, size_t> sizes;
  SystemMemory system() {
    SystemMemory m;
    m.allocate = [this](size_t bytes) -> void* {
      if (used + bytes > budget) {
        ++refusals;
        return nullptr;
      }
      used += bytes;
      void* p = std::malloc(bytes);
      sizes[p] = bytes;
      return p;
    };
    m.free = [this](void* p) {
      used -= sizes.at(p);
      sizes.erase(p);
      std::free(p);
    };
    m.what = "test memory";
    m.hint = " (budget test)";
    return m;
  }
};

constexpr size_t MiB = 1u << 20;

}  // namespace

TEST(CachingAllocator, RoundsSizesAndReusesBestFitWithinTwice) {
  EXPECT_EQ(CachingAllocator::round_size(0), 512u);
  EXPECT_EQ(CachingAllocator::round_size(513), 1024u);
  EXPECT_EQ(CachingAllocator::round_size(MiB), 2 * MiB);
  EXPECT_EQ(CachingAllocator::round_size(3 * MiB), 4 * MiB);

  BudgetMemory mem;
  mem.budget = 64 * MiB;
  CachingAllocator a(mem.system());
  void* big = a.allocate(3 * MiB);  // a 4 MiB block
  a.deallocate(big, 3 * MiB);
  EXPECT_EQ(a.stats().current_bytes, 0u);
  EXPECT_EQ(a.stats().reserved_bytes, 4 * MiB);

  void* again = a.allocate(2 * MiB + 1);  // rounds to 4 MiB: the cached block
  EXPECT_EQ(again, big);
  EXPECT_EQ(a.stats().system_allocs, 1u);
  a.deallocate(again, 2 * MiB + 1);

  void* small = a.allocate(100 * 1024);  // the 4 MiB block would waste more than half: a new one
  EXPECT_NE(small, big);
  EXPECT_EQ(a.stats().system_allocs, 2u);
  EXPECT_EQ(a.stats().current_bytes, 100u * 1024);
  EXPECT_EQ(a.stats().peak_bytes, 4 * MiB);
  a.deallocate(small, 100 * 1024);

  a.release_cached();
  EXPECT_EQ(a.stats().reserved_bytes, 0u);
  EXPECT_EQ(a.stats().system_frees, 2u);
}

TEST(CachingAllocator, OutOfMemoryGivesTheCacheBackThenReportsClearly) {
  BudgetMemory mem;
  mem.budget = 10 * MiB;
  CachingAllocator a(mem.system());
  void* p = a.allocate(6 * MiB);
  a.deallocate(p, 6 * MiB);
  // 8 MiB does not fit beside the cached 6 MiB block, and that block is too small for it:
  // the allocator frees the cache and retries.
  void* q = a.allocate(8 * MiB);
  EXPECT_NE(q, nullptr);
  EXPECT_EQ(mem.refusals, 1);
  EXPECT_EQ(a.stats().system_frees, 1u);
  EXPECT_EQ(a.stats().reserved_bytes, 8 * MiB);
  try {
    (void)a.allocate(64 * MiB);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("out of test memory allocating 67108864 bytes (8388608 in use) (budget test)"),
              std::string::npos)
        << msg;
  }
  a.deallocate(q, 8 * MiB);
}

TEST(CachingAllocator, HostBlocksAre64ByteAligned) {
  auto a = make_cpu_allocator();
  for (size_t bytes : {1u, 100u, 4096u, 3u << 20}) {
    void* p = a->allocate(bytes);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % 64, 0u) << bytes;
    a->deallocate(p, bytes);
  }
}

TEST(CachingAllocator, SteadyStateCpuTrainingStepAllocatesNothing) {
  Context ctx(Device::cpu(), 3);
  test::TinyAE model(ctx);
  ParameterBuffer params(ctx, model.parameters());
  AdamOptions o;
  Adam adam(ctx, params, o);
  const Tensor batch = test::make_batch(ctx);
  uint64_t after_warmup = 0;
  for (int i = 0; i < 6; ++i) {
    if (i == 2) after_warmup = ctx.memory_stats(Device::cpu()).system_allocs;
    params.zero_grad(ctx);
    Tensor loss = mean(ctx, mse_loss(ctx, model.forward(ctx, batch), batch));
    backward(ctx, loss);
    adam.step(ctx);
  }
  EXPECT_GT(after_warmup, 0u);
  EXPECT_EQ(ctx.memory_stats(Device::cpu()).system_allocs, after_warmup) << "malloc inside steady-state steps";
}
