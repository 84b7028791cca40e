// Training augmentation throughput: a batch of 16 samples at 128 px (warped input, target, mask
// and eyes-mouth mask each) from a bank of 64 uint8 faces at 256 px, as one training step builds
// it. Counter images/s = samples per second. Variants: geometry only (warp + affine + flip), and
// with DFL's src-side colour work (rct toward a dst bank + HSV jitter 0.1).
// Before timing, the CPU run is checked against an exact case (identity parameters reproduce the
// input) and the CUDA run against the CPU reference with the same seed and offset.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "engine/augment/augment.h"
#include "engine/augment/synthetic_bank.h"

namespace {

constexpr int kBank = 64, kS = 256, kW = 128, kB = 16;

struct Data {
  facet::SyntheticBankPixels src = facet::synthetic_bank_pixels(kBank, kS, 0);
  facet::SyntheticBankPixels dst = facet::synthetic_bank_pixels(kBank, kS, 7);
  std::vector<int32_t> idx;
  Data() {
    for (int b = 0; b < kB; ++b) idx.push_back((b * 5 + 3) % kBank);
  }
};

const Data& data() {
  static const Data d;
  return d;
}

facet::AugmentOptions options(bool colour) {
  facet::AugmentOptions o;
  o.resolution = kW;
  o.random_flip = true;
  if (colour) o.rct = true, o.hsv_power = 0.1;
  return o;
}

double max_abs_diff(const std::vector<double>& a, const std::vector<double>& b) {
  double m = a.size() == b.size() ? 0 : 1e30;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) m = std::max(m, std::abs(a[i] - b[i]));
  return m;
}

// The CPU op reproduces the input exactly under identity parameters at w = S.
std::string validate_cpu() {
  facet::Context ctx;
  const int s = 64;
  const std::vector<uint8_t> px = facet::synthetic_bank_pixels(2, s, 3).bgr;
  facet::FaceBank bank = facet::FaceBank::from_u8(ctx, facet::Device::cpu(), px.data(), 2, s);
  facet::AugmentOptions o;
  o.resolution = s;
  facet::AugmentedBatch out;
  facet::Augmenter(o).run_with_params(ctx, bank, {1}, {facet::identity_warp_params(s)}, out);
  for (int i = 0; i < s * s * 3; ++i)
    if (out.target.data_as<float>()[i] != px[s * s * 3 + i] * (1.0f / 255.0f)) return "CPU identity mismatch";
  return "";
}

void run_bench(benchmark::State& state, facet::Device device, bool colour) {
  const Data& d = data();
  facet::Context ctx(device, 1);
  facet::FaceBank src = d.src.to_bank(ctx, device);
  facet::FaceBank dst = d.dst.to_bank(ctx, device);
  facet::Augmenter aug(options(colour));
  facet::AugmentedBatch out;
  if (device.is_cuda()) {  // same (seed, offset) on the CPU: the same batch within tolerance
    facet::Context cpu(facet::Device::cpu(), 1);
    facet::FaceBank sc = d.src.to_bank(cpu, cpu.device());
    facet::FaceBank dc = d.dst.to_bank(cpu, cpu.device());
    facet::AugmentedBatch ref = facet::Augmenter(options(colour)).run(cpu, sc, d.idx, &dc);
    aug.run(ctx, src, d.idx, out, &dst);
    const double e = std::max({max_abs_diff(out.warped.to_double(ctx), ref.warped.to_double(cpu)),
                               max_abs_diff(out.target.to_double(ctx), ref.target.to_double(cpu)),
                               max_abs_diff(out.mask.to_double(ctx), ref.mask.to_double(cpu)),
                               max_abs_diff(out.eyes_mouth.to_double(ctx), ref.eyes_mouth.to_double(cpu))});
    if (e > 2e-3) {
      state.SkipWithError(("CUDA differs from the CPU reference by " + std::to_string(e)).c_str());
      return;
    }
  } else {
    const std::string err = validate_cpu();
    if (!err.empty()) {
      state.SkipWithError(err.c_str());
      return;
    }
  }
  aug.run(ctx, src, d.idx, out, &dst);  // warm-up: outputs and scratch allocated
  ctx.synchronize();
  for (auto _ : state) {
    aug.run(ctx, src, d.idx, out, &dst);
    ctx.synchronize();
  }
  state.counters["images/s"] = benchmark::Counter(kB, benchmark::Counter::kIsIterationInvariantRate);
}

void BM_AugmentCpu(benchmark::State& state) { run_bench(state, facet::Device::cpu(), state.range(0) != 0); }

void BM_AugmentCuda(benchmark::State& state) {
  if (!facet::cuda_available()) {
    state.SkipWithError("no CUDA device");
    return;
  }
  run_bench(state, facet::Device::cuda(0), state.range(0) != 0);
}

}  // namespace

BENCHMARK(BM_AugmentCpu)->ArgName("colour")->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_AugmentCuda)->ArgName("colour")->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK_MAIN();
