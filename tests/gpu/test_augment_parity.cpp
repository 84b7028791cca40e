// GPU-vs-CPU parity of the training augmentation: the same context seed and offset give the same
// parameters (generated on the device by the shared code) and the same pixels, for uint8 and f32
// face banks, f32 and bf16 outputs, the w < 64 path, rct and HSV, and batches larger than one
// launch; and a bank in mapped pinned host memory gives the same bits as one in device memory.
// Without a CUDA device every test is SKIPPED.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "engine/augment/augment.h"

using namespace facet;

namespace {

struct Faces {
  int64_t n, s;
  std::vector<uint8_t> u8;
  std::vector<float> f32, mask, em;
};

// Smooth random faces (so bicubic differences stay small) with masks.
Faces make_faces(int64_t n, int64_t s, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(0, 1);
  Faces f{n, s, std::vector<uint8_t>(n * s * s * 3), std::vector<float>(n * s * s * 3), std::vector<float>(n * s * s),
          std::vector<float>(n * s * s)};
  for (int64_t k = 0; k < n; ++k) {
    const double fx = 0.02 + 0.1 * u(rng), fy = 0.02 + 0.1 * u(rng), ph = 6 * u(rng);
    for (int64_t y = 0; y < s; ++y)
      for (int64_t x = 0; x < s; ++x) {
        const int64_t i = (k * s + y) * s + x;
        for (int c = 0; c < 3; ++c) {
          const double v = 0.5 + 0.4 * std::sin(fx * x * (c + 1) + fy * y + ph + c);
          f.u8[i * 3 + c] = static_cast<uint8_t>(std::lround(255 * v));
          f.f32[i * 3 + c] = static_cast<float>(v);
        }
        const double r = std::hypot(x - s / 2.0, y - s / 2.0) / s;
        f.mask[i] = r < 0.35 ? 1.f : 0.f;
        f.em[i] = static_cast<float>(0.5 + 0.5 * std::cos(0.2 * x) * std::sin(0.15 * y));
      }
  }
  return f;
}

FaceBank bank_on(Context& ctx, const Faces& f, bool u8) {
  if (u8) return FaceBank::from_u8(ctx, ctx.device(), f.u8.data(), f.n, f.s, f.mask.data(), f.em.data());
  Tensor img = Tensor::from_vector(ctx, {f.n, f.s, f.s, 3}, f.f32, DType::F32, ctx.device());
  Tensor m = Tensor::from_vector(ctx, {f.n, f.s, f.s, 1}, f.mask, DType::F32, ctx.device());
  Tensor e = Tensor::from_vector(ctx, {f.n, f.s, f.s, 1}, f.em, DType::F32, ctx.device());
  return FaceBank::from_tensors(img, m, e);
}

double max_abs_diff(const std::vector<double>& a, const std::vector<double>& b) {
  double m = 0;
  for (size_t i = 0; i < a.size(); ++i) m = std::max(m, std::abs(a[i] - b[i]));
  return m;
}

void expect_params_equal(const std::vector<aug::SampleParams>& g, const std::vector<aug::SampleParams>& c) {
  ASSERT_EQ(g.size(), c.size());
  for (size_t b = 0; b < g.size(); ++b) {
    EXPECT_EQ(g[b].flip, c[b].flip) << b;
    EXPECT_EQ(g[b].cell_size, c[b].cell_size) << b;
    EXPECT_EQ(g[b].grid_points, c[b].grid_points) << b;
    EXPECT_EQ(g[b].hue_shift, c[b].hue_shift) << b;
    EXPECT_NEAR(g[b].rotation_deg, c[b].rotation_deg, 1e-12) << b;
    EXPECT_NEAR(g[b].scale, c[b].scale, 1e-14) << b;
    EXPECT_NEAR(g[b].sat_shift, c[b].sat_shift, 1e-14) << b;
    for (int k = 0; k < 6; ++k) EXPECT_NEAR(g[b].minv[k], c[b].minv[k], 1e-9) << b;
    for (int k = 0; k < aug::kMaxGridPoints * aug::kMaxGridPoints; ++k) {
      EXPECT_NEAR(g[b].grid_x[k], c[b].grid_x[k], 1e-9) << b;
      EXPECT_NEAR(g[b].grid_y[k], c[b].grid_y[k], 1e-9) << b;
    }
  }
}

struct Case {
  const char* name;
  int64_t S, w, B;
  bool u8, rct;
  double hsv;
  DType out;
  double tol;
  bool dfl_quirks;  // dfl_grid_aliasing + dfl_remap_zero_border
};

void run_case(const Case& k) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  const Faces f = make_faces(5, k.S, 17), d = make_faces(3, k.S + 16, 29);
  Context cpu(Device::cpu(), 99), gpu(Device::cuda(0), 99);
  cpu.set_rng_state(99, 4096), gpu.set_rng_state(99, 4096);
  AugmentOptions o;
  o.resolution = static_cast<int>(k.w);
  o.random_flip = true, o.hsv_power = k.hsv, o.rct = k.rct;
  o.dfl_grid_aliasing = o.dfl_remap_zero_border = k.dfl_quirks;
  AugmentOptions og = o;
  og.output_dtype = k.out;
  FaceBank bc = bank_on(cpu, f, k.u8), bg = bank_on(gpu, f, k.u8);
  FaceBank dc = bank_on(cpu, d, !k.u8), dg = bank_on(gpu, d, !k.u8);
  std::vector<int32_t> idx(k.B);
  for (int64_t b = 0; b < k.B; ++b) idx[b] = static_cast<int32_t>((b * 3 + 1) % f.n);
  Augmenter ac(o), ag(og);
  AugmentedBatch oc = ac.run(cpu, bc, idx, k.rct ? &dc : nullptr);
  AugmentedBatch og_ = ag.run(gpu, bg, idx, k.rct ? &dg : nullptr);
  EXPECT_EQ(cpu.rng_offset(), gpu.rng_offset());
  expect_params_equal(ag.last_params(gpu), ac.last_params(cpu));
  EXPECT_EQ(ag.last_rct_partners(), ac.last_rct_partners());
  ASSERT_EQ(og_.warped.dtype(), k.out);
  EXPECT_LE(max_abs_diff(og_.warped.to_double(gpu), oc.warped.to_double(cpu)), k.tol) << k.name << " warped";
  EXPECT_LE(max_abs_diff(og_.target.to_double(gpu), oc.target.to_double(cpu)), k.tol) << k.name << " target";
  EXPECT_LE(max_abs_diff(og_.mask.to_double(gpu), oc.mask.to_double(cpu)), k.tol) << k.name << " mask";
  EXPECT_LE(max_abs_diff(og_.eyes_mouth.to_double(gpu), oc.eyes_mouth.to_double(cpu)), k.tol) << k.name << " em";

  // a second batch reuses the GPU outputs in place and stays in step with the CPU
  const void* p = og_.warped.data();
  ac.run(cpu, bc, idx, oc, k.rct ? &dc : nullptr);
  ag.run(gpu, bg, idx, og_, k.rct ? &dg : nullptr);
  EXPECT_EQ(og_.warped.data(), p);
  EXPECT_LE(max_abs_diff(og_.warped.to_double(gpu), oc.warped.to_double(cpu)), k.tol) << k.name << " warped #2";
}

}  // namespace

// Tolerances: f32 differs only by FMA contraction and libm ulps (the pointwise colour maps
// amplify them a little); bf16 adds its rounding (8 mantissa bits: 2^-9 relative below 1).
TEST(GpuAugment, Uint8BankF32Out) { run_case({"u8/f32", 96, 64, 6, true, false, 0.0, DType::F32, 2e-4, false}); }
TEST(GpuAugment, F32BankBf16Out) { run_case({"f32/bf16", 96, 64, 6, false, false, 0.0, DType::BF16, 5e-3, false}); }
TEST(GpuAugment, SmallResolutionPath) { run_case({"w<64", 64, 40, 4, true, false, 0.0, DType::F32, 2e-4, false}); }
TEST(GpuAugment, RctAndHsv) { run_case({"rct+hsv", 80, 64, 5, true, true, 0.1, DType::F32, 2e-3, false}); }
TEST(GpuAugment, DflQuirks) { run_case({"dfl quirks", 96, 64, 6, true, false, 0.0, DType::F32, 2e-4, true}); }
TEST(GpuAugment, BatchLargerThanOneLaunch) { run_case({"B=300", 24, 16, 300, false, false, 0.05, DType::F32, 2e-3, false}); }

// Faces too many for device memory live in mapped pinned host memory, read by the same kernels
// over the bus: the batches must be bit-identical to a device-memory bank's, with rct partners
// read from a mapped dst bank too, and the bank's bytes must not come from the device allocator.
TEST(GpuAugment, MappedHostBankMatchesDeviceBank) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  const Faces f = make_faces(7, 96, 5), d = make_faces(4, 96, 6);
  Context gpu(Device::cuda(0), 7);
  const size_t device_before = gpu.memory_stats(gpu.device()).current_bytes;
  FaceBank mapped = FaceBank::from_u8_mapped(gpu, f.u8.data(), f.n, f.s, f.mask.data(), f.em.data());
  FaceBank mapped_dst = FaceBank::from_u8_mapped(gpu, d.u8.data(), d.n, d.s);
  EXPECT_EQ(gpu.memory_stats(gpu.device()).current_bytes, device_before) << "a mapped bank took device memory";
  EXPECT_TRUE(mapped.in_mapped_host_memory());
  EXPECT_EQ(mapped.device(), gpu.device());
  FaceBank device = FaceBank::from_u8(gpu, gpu.device(), f.u8.data(), f.n, f.s, f.mask.data(), f.em.data());
  FaceBank device_dst = FaceBank::from_u8(gpu, gpu.device(), d.u8.data(), d.n, d.s);
  EXPECT_FALSE(device.in_mapped_host_memory());

  AugmentOptions o;
  o.resolution = 64;
  o.random_flip = true, o.hsv_power = 0.1, o.rct = true;
  const std::vector<int32_t> idx = {6, 0, 3, 3, 1, 5};
  Augmenter am(o), ad(o);
  for (int batch = 0; batch < 2; ++batch) {
    gpu.set_rng_state(7, 1000 + 4096 * batch);
    AugmentedBatch om = am.run(gpu, mapped, idx, &mapped_dst);
    gpu.set_rng_state(7, 1000 + 4096 * batch);
    AugmentedBatch od = ad.run(gpu, device, idx, &device_dst);
    EXPECT_EQ(am.last_rct_partners(), ad.last_rct_partners());
    EXPECT_EQ(om.warped.to_double(gpu), od.warped.to_double(gpu)) << "batch " << batch;
    EXPECT_EQ(om.target.to_double(gpu), od.target.to_double(gpu)) << "batch " << batch;
    EXPECT_EQ(om.mask.to_double(gpu), od.mask.to_double(gpu)) << "batch " << batch;
    EXPECT_EQ(om.eyes_mouth.to_double(gpu), od.eyes_mouth.to_double(gpu)) << "batch " << batch;
  }
}
