// Pixel shuffle (DCR depth_to_space, r=2) throughput at the shape of a DFL decoder upscale:
// [8,32,32,1024] -> [8,64,64,256], i.e. 32 MiB read + 32 MiB written in f32.
//   CPU: f32 reference kernel.
//   CUDA: f32 and bf16 forward, and the f32 backward (space_to_depth); skipped without a GPU.
// The first timed iteration's output is compared element by element with an independent
// evaluation of the DCR formula (a pure copy, so equality is exact), then timing continues.
// Counter: GB/s = (bytes read + bytes written) per second.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <vector>

#include "engine/core/context.h"
#include "engine/tensor/tensor.h"
#include "facet_config.h"
#include "kernels/cpu/layout.h"
#if FACET_HAS_CUDA
#include "kernels/cuda/layout.h"
#include "kernels/cuda/runtime.h"
#endif

using namespace facet;

namespace {

constexpr int64_t kN = 8, kH = 32, kW = 32, kC = 256, kR = 2;  // C = output channels
constexpr int64_t kElems = kN * kH * kW * kC * kR * kR;

// in[n, h, w, (i*r + j)*C + c] lands at out[n, h*r+i, w*r+j, c]: walks the INPUT (the kernels walk
// the output), so the check shares no index code with what it checks.
bool matches_dcr(const std::vector<float>& in, const std::vector<float>& out) {
  for (int64_t n = 0; n < kN; ++n)
    for (int64_t h = 0; h < kH; ++h)
      for (int64_t w = 0; w < kW; ++w)
        for (int64_t k = 0; k < kC * kR * kR; ++k) {
          const int64_t i = k / (kR * kC), j = (k / kC) % kR, c = k % kC;
          const float a = in[((n * kH + h) * kW + w) * kC * kR * kR + k];
          const float b = out[((n * kH * kR + h * kR + i) * kW * kR + w * kR + j) * kC + c];
          if (a != b) return false;
        }
  return true;
}

void set_bandwidth(benchmark::State& state, double bytes_per_iter) {
  state.counters["GB/s"] = benchmark::Counter(bytes_per_iter * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

void BM_PixelShuffleCpuF32(benchmark::State& state) {
  Context ctx(Device::cpu(), 1);
  Tensor x = Tensor::uniform(ctx, {kN, kH, kW, kC * kR * kR}, -1.0, 1.0, DType::F32, Device::cpu());
  Tensor y = Tensor::empty(ctx, {kN, kH * kR, kW * kR, kC}, DType::F32, Device::cpu());
  bool first = true;
  for (auto _ : state) {
    cpu::pixel_shuffle<float>(x.data_as<float>(), y.data_as<float>(), kN, kH, kW, kC, kR);
    benchmark::DoNotOptimize(y.data());
    if (first) {
      state.PauseTiming();
      first = false;
      if (!matches_dcr(x.to_float(ctx), y.to_float(ctx))) {
        state.SkipWithError("CPU pixel_shuffle does not follow the DCR formula");
        break;
      }
      state.ResumeTiming();
    }
  }
  set_bandwidth(state, 2.0 * kElems * 4);
}
BENCHMARK(BM_PixelShuffleCpuF32)->Unit(benchmark::kMillisecond)->UseRealTime();

#if FACET_HAS_CUDA
// kInner launches per timed iteration, then one synchronize: one launch is ~20 us on an H100,
// comparable to a host round trip.
constexpr int kInner = 20;

void shuffle_cuda(benchmark::State& state, DType dt, bool inverse) {
  if (!cuda_available()) {
    state.SkipWithError("no CUDA device");
    return;
  }
  Context host(Device::cpu(), 2);
  const Shape lo = {kN, kH, kW, kC * kR * kR}, hi = {kN, kH * kR, kW * kR, kC};
  Tensor src_h = Tensor::uniform(host, inverse ? hi : lo, -1.0, 1.0, DType::F32, Device::cpu());
  const std::vector<float> src_vals = src_h.cast(host, dt).to_float(host);  // the values the GPU sees
  Context ctx(Device::cuda(0), 2);
  Tensor src = src_h.to(ctx, Device::cuda(0)).cast(ctx, dt);
  Tensor dst = Tensor::empty(ctx, inverse ? lo : hi, dt, Device::cuda(0));
  void* stream = ctx.cuda_handles().stream;
  bool first = true;
  for (auto _ : state) {
    for (int i = 0; i < kInner; ++i) {
      if (inverse) cuda::space_to_depth(dt, src.data(), dst.data(), kN, kH, kW, kC, kR, stream);
      else cuda::pixel_shuffle(dt, src.data(), dst.data(), kN, kH, kW, kC, kR, stream);
    }
    ctx.synchronize();
    if (first) {
      state.PauseTiming();
      first = false;
      const std::vector<float> out = dst.to_float(ctx);
      if (!(inverse ? matches_dcr(out, src_vals) : matches_dcr(src_vals, out))) {
        state.SkipWithError("CUDA result differs from the DCR formula");
        break;
      }
      state.ResumeTiming();
    }
  }
  set_bandwidth(state, kInner * 2.0 * kElems * static_cast<double>(dtype_size(dt)));
}
#else
void shuffle_cuda(benchmark::State& state, DType, bool) { state.SkipWithError("built without CUDA"); }
#endif

void BM_PixelShuffleCudaF32(benchmark::State& state) { shuffle_cuda(state, DType::F32, false); }
void BM_PixelShuffleCudaBF16(benchmark::State& state) { shuffle_cuda(state, DType::BF16, false); }
void BM_SpaceToDepthCudaF32(benchmark::State& state) { shuffle_cuda(state, DType::F32, true); }
BENCHMARK(BM_PixelShuffleCudaF32)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_PixelShuffleCudaBF16)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_SpaceToDepthCudaF32)->Unit(benchmark::kMicrosecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
