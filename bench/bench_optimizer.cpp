// AdaBelief (DFL form) step over 50M fp32 parameters — the size of a 128px DF/LIAE SAEHD model —
// on the CPU and on CUDA, plain and with DFL's lr_dropout + clipgrad. The update is pure
// bandwidth: 16 B read and 12 B written per parameter (+4 B read for the clip norm), so the
// counter is GB/s of that traffic, to be compared with the memory's copy bandwidth.
// Before timing, one step is checked against the double-precision formula on a sample of
// elements (every 997th), including the Philox lr_dropout mask.
#include <benchmark/benchmark.h>

#include <cmath>
#include <memory>
#include <vector>

#include "engine/core/context.h"
#include "engine/optim/optimizer.h"
#include "engine/optim/parameter_buffer.h"
#include "kernels/common/philox.h"

using namespace facet;

namespace {

constexpr int64_t kTensors = 10, kPerTensor = 5'000'000;  // 50M parameters

struct Setup {
  std::unique_ptr<Context> ctx;
  std::vector<Tensor> params;
  std::unique_ptr<ParameterBuffer> buf;
  std::unique_ptr<AdaBelief> opt;
  AdaBeliefOptions o;
};

std::unique_ptr<Setup> make_setup(Device dev, bool dfl_full) {
  auto s = std::make_unique<Setup>();
  s->ctx = std::make_unique<Context>(dev, 11);
  Context& ctx = *s->ctx;
  for (int64_t i = 0; i < kTensors; ++i) s->params.push_back(Tensor::uniform(ctx, {kPerTensor}, -1, 1, DType::F32, dev));
  s->buf = std::make_unique<ParameterBuffer>(ctx, s->params);
  Tensor g = Tensor::uniform(ctx, {s->buf->numel()}, -1e-3, 1e-3, DType::F32, dev);
  Tensor grads = s->buf->grads();
  grads.copy_from(ctx, g);
  static_cast<OptimizerOptions&>(s->o) = dfl_options(5e-5, dfl_full, dfl_full);
  s->opt = std::make_unique<AdaBelief>(ctx, *s->buf, s->o);
  // Non-zero moments so the check exercises every term.
  for (auto& [name, t] : s->opt->state_tensors()) {
    if (name == "iterations") continue;
    Tensor r = Tensor::uniform(ctx, {s->buf->numel()}, name == "m" ? -1e-3 : 1e-8, name == "m" ? 1e-3 : 1e-6,
                               DType::F32, dev);
    t.copy_from(ctx, r);
  }
  return s;
}

// One optimizer step checked against the formula in double. Returns the max abs error on w.
double validate(Setup& s) {
  Context& ctx = *s.ctx;
  auto st = s.opt->state_tensors();
  const auto w0 = s.buf->params().to_float(ctx), g = s.buf->grads().to_float(ctx);
  const auto m0 = st.at("m").to_float(ctx), v0 = st.at("v").to_float(ctx);
  const uint64_t seed = ctx.seed(), offset = ctx.rng_offset();
  const double lr = s.opt->current_lr();
  double ss = 0;
  for (float x : g) ss += double(x) * double(x);
  const double norm = std::sqrt(ss);
  const double scale = (s.o.clipnorm > 0 && norm >= s.o.clipnorm) ? s.o.clipnorm / norm : 1.0;
  s.opt->step(ctx);
  const auto w1 = s.buf->params().to_float(ctx);
  double err = 0;
  for (size_t i = 0; i < w0.size(); i += 997) {
    const double gi = g[i] * scale;
    const double m = 0.9 * m0[i] + 0.1 * gi;
    const double v = 0.999 * v0[i] + 0.001 * (gi - m) * (gi - m);
    double w = w0[i];
    if (!s.o.lr_dropout || philox_uniform(seed, offset + i) < 0.3) w -= lr * m / (std::sqrt(v) + 1e-6);
    err = std::max(err, std::fabs(w - double(w1[i])));
  }
  return err;
}

void BM_AdaBelief50M(benchmark::State& state, Device dev) {
  const bool dfl_full = state.range(0) != 0;
  if (dev.is_cuda() && !cuda_available()) {
    state.SkipWithError("no CUDA device");
    return;
  }
  auto s = make_setup(dev, dfl_full);
  const double err = validate(*s);
  state.counters["max_abs_err"] = err;
  if (err > 1e-6) {  // |w| <= 1: a few float roundings
    state.SkipWithError("AdaBelief step does not match the reference");
    return;
  }
  for (auto _ : state) {
    s->opt->step(*s->ctx);
    s->ctx->synchronize();
  }
  const double bytes = double(s->buf->numel()) * (28.0 + (dfl_full ? 4.0 : 0.0));
  state.counters["GB/s"] = benchmark::Counter(bytes * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["params_M"] = double(s->buf->numel()) * 1e-6;
  state.SetLabel(dfl_full ? "lr_dropout+clipnorm" : "plain");
}

BENCHMARK_CAPTURE(BM_AdaBelief50M, cpu, Device::cpu())->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_AdaBelief50M, cuda, Device::cuda(0))->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
