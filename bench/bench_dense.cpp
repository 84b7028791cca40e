// Dense layer throughput at the shape that dominates a DFL model: the first Inter Dense of a
// 128px SAEHD (flattened encoder output 32768 -> ae_dims 256) at batch 64.
//   CPU: f32 forward (OpenBLAS sgemm + bias), and the backward's two GEMMs (dx, dW).
//   CUDA: bf16 and f32 forward (cuBLAS), bf16 backward; skipped without a GPU.
// Each benchmark first checks its output against a double-precision dot product on a sample of
// columns (all rows), then times. Counter: GFLOP/s (2*M*N*K per GEMM).
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdio>
#include <vector>

#include "engine/autograd/tape.h"
#include "engine/core/context.h"
#include "engine/ops/linear.h"
#include "engine/tensor/tensor.h"
#include "facet_config.h"
#include "kernels/cpu/matmul.h"

using namespace facet;

namespace {

constexpr int64_t kM = 64, kK = 32768, kN = 256;

struct DenseData {
  Tensor x, w, b;  // f32 on the host
  DenseData(Context& ctx) {
    x = Tensor::uniform(ctx, {kM, kK}, -1.0, 1.0, DType::F32, Device::cpu());
    w = Tensor::uniform(ctx, {kK, kN}, -0.01, 0.01, DType::F32, Device::cpu());
    b = Tensor::uniform(ctx, {kN}, -0.1, 0.1, DType::F32, Device::cpu());
  }
};

// y [M, N] against sum_k x[m, k] w[k, n] + b[n] in double, for every 7th column (inputs given
// as the values the device actually multiplied, e.g. bf16-rounded). Returns max relative error.
double check_dense(const std::vector<float>& x, const std::vector<float>& w, const std::vector<float>& b,
                   const std::vector<float>& y) {
  double err = 0, scale = 1e-30;
  for (int64_t n = 0; n < kN; n += 7)
    for (int64_t m = 0; m < kM; ++m) {
      double s = b[n];
      for (int64_t k = 0; k < kK; ++k) s += double(x[m * kK + k]) * double(w[k * kN + n]);
      err = std::max(err, std::fabs(double(y[m * kN + n]) - s));
      scale = std::max(scale, std::fabs(s));
    }
  return err / scale;
}

std::vector<float> rounded(Context& ctx, const Tensor& t, DType dt) { return t.cast(ctx, dt).to_float(ctx); }

void set_flops(benchmark::State& state, double flops_per_iter) {
  state.counters["GFLOP/s"] =
      benchmark::Counter(flops_per_iter * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

void BM_DenseForwardCpuF32(benchmark::State& state) {
  Context ctx(Device::cpu(), 1);
  NoGradGuard ng(ctx);
  DenseData d(ctx);
  Tensor y = dense(ctx, d.x, d.w, d.b);
  const double err = check_dense(d.x.to_float(ctx), d.w.to_float(ctx), d.b.to_float(ctx), y.to_float(ctx));
  if (err > 1e-5) {
    state.SkipWithError("dense f32 CPU result is wrong");
    return;
  }
  for (auto _ : state) {
    Tensor out = dense(ctx, d.x, d.w, d.b);
    benchmark::DoNotOptimize(out.data());
  }
  set_flops(state, 2.0 * kM * kN * kK);
  state.counters["max_rel_err"] = err;
}
BENCHMARK(BM_DenseForwardCpuF32)->Unit(benchmark::kMillisecond)->UseRealTime();

// The backward of the same layer: dx = dy w^T [64, 32768] and dW = x^T dy [32768, 256].
void BM_DenseBackwardCpuF32(benchmark::State& state) {
  Context ctx(Device::cpu(), 2);
  DenseData d(ctx);
  Tensor dy = Tensor::uniform(ctx, {kM, kN}, -1.0, 1.0, DType::F32, Device::cpu());
  Tensor dx = Tensor::empty(ctx, {kM, kK}, DType::F32, Device::cpu());
  Tensor dw = Tensor::empty(ctx, {kK, kN}, DType::F32, Device::cpu());
  auto run = [&] {
    cpu::matmul<float>(dy.data_as<float>(), d.w.data_as<float>(), dx.data_as<float>(), kM, kK, kN, false, true);
    cpu::matmul<float>(d.x.data_as<float>(), dy.data_as<float>(), dw.data_as<float>(), kK, kN, kM, true, false);
  };
  run();
  {  // spot check: dx[3, 1000] and dW[1000, 5]
    double sx = 0, sw = 0;
    for (int64_t n = 0; n < kN; ++n) sx += double(dy.data_as<float>()[3 * kN + n]) * d.w.data_as<float>()[1000 * kN + n];
    for (int64_t m = 0; m < kM; ++m) sw += double(d.x.data_as<float>()[m * kK + 1000]) * dy.data_as<float>()[m * kN + 5];
    if (std::fabs(dx.data_as<float>()[3 * kK + 1000] - sx) > 1e-4 * (1 + std::fabs(sx)) ||
        std::fabs(dw.data_as<float>()[1000 * kN + 5] - sw) > 1e-4 * (1 + std::fabs(sw))) {
      state.SkipWithError("dense backward CPU result is wrong");
      return;
    }
  }
  for (auto _ : state) run();
  set_flops(state, 2 * 2.0 * kM * kN * kK);
}
BENCHMARK(BM_DenseBackwardCpuF32)->Unit(benchmark::kMillisecond)->UseRealTime();

// GPU: kInner launches per timed iteration, then one synchronize (a single 1-GFLOP GEMM takes
// a few microseconds, comparable to a host round trip).
constexpr int kInner = 20;

void dense_cuda(benchmark::State& state, DType dt, bool with_backward) {
  if (!cuda_available()) {
    state.SkipWithError("no CUDA device");
    return;
  }
  Context host(Device::cpu(), 3);
  DenseData d(host);
  Context ctx(Device::cuda(0), 3);
  Tensor x = d.x.to(ctx, Device::cuda(0)).cast(ctx, dt), w = d.w.to(ctx, Device::cuda(0)).cast(ctx, dt),
         b = d.b.to(ctx, Device::cuda(0)).cast(ctx, dt);
  {
    NoGradGuard ng(ctx);
    Tensor y = dense(ctx, x, w, b);
    const double err = check_dense(rounded(host, d.x, dt), rounded(host, d.w, dt), rounded(host, d.b, dt),
                                   y.to_float(ctx));
    state.counters["max_rel_err"] = err;
    if (err > (dt == DType::BF16 ? 1e-2 : 1e-5)) {
      state.SkipWithError("dense CUDA result is wrong");
      return;
    }
  }
  if (with_backward) {
    x.set_requires_grad(true);
    w.set_requires_grad(true);
    b.set_requires_grad(true);
  }
  Tensor seed = Tensor::full(ctx, {kM, kN}, 1.0, dt, Device::cuda(0));
  for (auto _ : state) {
    for (int i = 0; i < kInner; ++i) {
      if (with_backward) {
        Tensor y = dense(ctx, x, w, b);
        backward(ctx, y, seed);
        x.impl()->grad.reset();  // fresh gradients each time (no accumulation pass)
        w.impl()->grad.reset();
        b.impl()->grad.reset();
      } else {
        NoGradGuard ng(ctx);
        Tensor y = dense(ctx, x, w, b);
        benchmark::DoNotOptimize(y.data());
      }
    }
    ctx.synchronize();
  }
  set_flops(state, kInner * (with_backward ? 3 : 1) * 2.0 * kM * kN * kK);
}

void BM_DenseForwardCudaBf16(benchmark::State& state) { dense_cuda(state, DType::BF16, false); }
void BM_DenseForwardCudaF32(benchmark::State& state) { dense_cuda(state, DType::F32, false); }
void BM_DenseFwdBwdCudaBf16(benchmark::State& state) { dense_cuda(state, DType::BF16, true); }
BENCHMARK(BM_DenseForwardCudaBf16)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_DenseForwardCudaF32)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_DenseFwdBwdCudaBf16)->Unit(benchmark::kMicrosecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
