// Tensor storage, views, casts, the Philox RNG and the CPU allocator's statistics.
#include <gtest/gtest.h>

#include <cmath>

#include "engine/core/context.h"
#include "engine/core/error.h"
#include "engine/tensor/tensor.h"

using namespace facet;

TEST(Tensor, ViewsShareStorage) {
  Context ctx;
  Tensor t = Tensor::from_vector(ctx, {3, 2}, std::vector<float>{0, 1, 2, 3, 4, 5});
  Tensor v = t.view({2, 3});
  EXPECT_TRUE(v.same_storage(t));
  Tensor rows = t.slice0(1, 3);
  EXPECT_EQ(rows.shape(), (Shape{2, 2}));
  EXPECT_EQ(rows.to_float(ctx), (std::vector<float>{2, 3, 4, 5}));
  rows.data_as<float>()[0] = 42;
  EXPECT_EQ(t.data_as<float>()[2], 42);
  EXPECT_THROW(t.view({4, 2}), Error);
  EXPECT_THROW(t.slice0(2, 4), Error);
}

TEST(Tensor, CastRoundTripsThroughBf16AndF16) {
  Context ctx;
  Tensor t = Tensor::from_vector(ctx, {4}, std::vector<float>{1.0f, -2.5f, 0.15625f, 65504.0f});
  EXPECT_EQ(t.cast(ctx, DType::BF16).cast(ctx, DType::F32).to_float(ctx)[1], -2.5f);
  auto h = t.cast(ctx, DType::F16).to_float(ctx);
  EXPECT_EQ(h[2], 0.15625f);
  EXPECT_EQ(h[3], 65504.0f);
  EXPECT_NEAR(bf16_bits_to_f32(f32_to_bf16_bits(3.14159f)), 3.14159f, 0.02f);
}

TEST(Tensor, PhiloxFillsAreReproducibleFromSeedAndOffset) {
  Context a(Device::cpu(), 7), b(Device::cpu(), 7), c(Device::cpu(), 8);
  auto ua = Tensor::uniform(a, {1000}, -1, 1, DType::F32, Device::cpu()).to_double(a);
  auto ub = Tensor::uniform(b, {1000}, -1, 1, DType::F32, Device::cpu()).to_double(b);
  auto uc = Tensor::uniform(c, {1000}, -1, 1, DType::F32, Device::cpu()).to_double(c);
  EXPECT_EQ(ua, ub);
  EXPECT_NE(ua, uc);
  // a second draw continues the stream; restoring (seed, offset) replays it
  uint64_t off = a.rng_offset();
  auto n1 = Tensor::normal(a, {4096}, 0, 1, DType::F64, Device::cpu()).to_double(a);
  a.set_rng_state(7, off);
  auto n2 = Tensor::normal(a, {4096}, 0, 1, DType::F64, Device::cpu()).to_double(a);
  EXPECT_EQ(n1, n2);
  double m = 0, v = 0;
  for (double x : n1) m += x;
  m /= n1.size();
  for (double x : n1) v += (x - m) * (x - m);
  v /= n1.size();
  EXPECT_NEAR(m, 0.0, 0.05);
  EXPECT_NEAR(v, 1.0, 0.08);
  double lo = 1, hi = -1;
  for (double x : ua) lo = std::min(lo, x), hi = std::max(hi, x);
  EXPECT_GE(lo, -1.0);
  EXPECT_LT(hi, 1.0);
}

TEST(Memory, CpuAllocatorTracksCurrentAndPeak) {
  Context ctx;
  auto s0 = ctx.memory_stats(Device::cpu());
  {
    Tensor a = Tensor::empty(ctx, {1024}, DType::F32);
    Tensor b = Tensor::empty(ctx, {2048}, DType::F32);
    auto s1 = ctx.memory_stats(Device::cpu());
    EXPECT_EQ(s1.current_bytes - s0.current_bytes, 3 * 4096u);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(a.data()) % 64, 0u);
  }
  auto s2 = ctx.memory_stats(Device::cpu());
  EXPECT_EQ(s2.current_bytes, s0.current_bytes);
  EXPECT_GE(s2.peak_bytes, s0.current_bytes + 3 * 4096u);
}

TEST(Context, CudaContextWithoutDeviceIsAClearError) {
  if (cuda_available()) GTEST_SKIP() << "a CUDA device is present";
  try {
    Context ctx(Device::cuda(0));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("CUDA"), std::string::npos) << e.what();
  }
}
