// Whole SAEHD training iterations with the engine alone (no OpenCV, no FFmpeg), so a GPU machine
// that only builds the engine (scripts/gpu-check.sh, FACET_PIPELINE=OFF) measures the training
// target in one command: df-ud 128 (ae 256, e 64, d 64, m 22) at batch 8 per side, <= 10 ms per
// iteration on one H100 and >= 2x bench/reference/df_pytorch.py. One iteration = what the
// trainer does (pipeline/train/train_step.cpp): build both batches with the on-device DFL
// augmentation from uint8 face banks, the DF forward of src and dst, SAEHD's loss per side,
// backward, AdaBelief. Variants f32 and bf16 compute (f32 masters and state either way); the
// CPU runs the `tiny` preset in f32 only (df128 takes seconds per iteration there).
//
// Validation before timing: the model's parameter count equals the analytic count
// (engine/models/saehd_stats.h), the first loss is finite, and eight iterations on one fixed
// un-augmented batch lower the loss below 90 % of its first value (forward, backward and the
// update all work in this precision). Counters: ms/iteration (manual time, device synchronised
// per iteration), images/s (2 x batch per iteration), TFLOP/s from the analytic training FLOPs.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cmath>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/augment/augment.h"
#include "engine/autograd/tape.h"
#include "engine/core/context.h"
#include "engine/models/saehd_loss.h"
#include "engine/models/saehd_model.h"
#include "engine/models/saehd_options.h"
#include "engine/models/saehd_stats.h"
#include "engine/ops/elementwise.h"
#include "engine/optim/optimizer.h"
#include "engine/optim/parameter_buffer.h"

namespace {

using namespace facet;

constexpr int kFaces = 32;  // per side

// A face-like bank: smooth colour fields per face and an elliptical mask (uint8 BGR, f32 mask).
void make_bank(int n, int s, int seed, std::vector<uint8_t>& px, std::vector<float>& mask) {
  px.assign(static_cast<size_t>(n) * s * s * 3, 0);
  mask.assign(static_cast<size_t>(n) * s * s, 0.f);
  for (int k = 0; k < n; ++k)
    for (int y = 0; y < s; ++y)
      for (int x = 0; x < s; ++x) {
        const double u = (x - 0.5 * s) / (0.32 * s), v = (y - 0.55 * s) / (0.42 * s);
        const bool face = u * u + v * v < 1.0;
        mask[(static_cast<size_t>(k) * s + y) * s + x] = face ? 1.f : 0.f;
        for (int c = 0; c < 3; ++c) {
          const double f = face ? 0.55 + 0.25 * std::sin(0.11 * x + 0.07 * y * (c + 1) + k + seed)
                                : 0.3 + 0.2 * std::cos(0.05 * x * (c + 1) + seed);
          px[((static_cast<size_t>(k) * s + y) * s + x) * 3 + c] = static_cast<uint8_t>(std::lround(255 * f));
        }
      }
}

struct TrainBench {
  Context ctx;
  models::SaehdOptions opt;
  std::unique_ptr<models::SaehdModel> model;
  std::unique_ptr<ParameterBuffer> params;
  std::unique_ptr<Optimizer> optim;
  models::SaehdLossConfig loss_cfg;
  FaceBank src_bank, dst_bank;
  Augmenter src_aug, dst_aug;
  AugmentedBatch src_batch, dst_batch;
  std::vector<int32_t> src_idx, dst_idx;
  int batch;

  static AugmentOptions augment(int res, bool flip, bool on) {
    AugmentOptions a;
    a.resolution = res;
    a.random_flip = flip && on;
    if (!on) a.random_warp = false, a.rotation_deg = 0, a.scale = 0, a.translation = 0;
    return a;
  }

  TrainBench(Device dev, const std::string& preset, int batch_, bool augment_on, double lr = 5e-5)
      : ctx(dev, 1234),
        opt(models::saehd_preset(preset)),
        src_aug(augment(opt.resolution, false, augment_on)),
        dst_aug(augment(opt.resolution, true, augment_on)),
        batch(batch_) {
    model = models::SaehdModel::create(ctx, opt, nn::LayerInit{dev, DType::F32});
    params = std::make_unique<ParameterBuffer>(ctx, model->parameters());
    AdaBeliefOptions ao;
    ao.lr = lr;
    optim = std::make_unique<AdaBelief>(ctx, *params, ao);
    loss_cfg = models::SaehdLossConfig::from_options(opt);
    const int s = opt.resolution * 2;  // banks at twice the training size, as extracted faces are
    std::vector<uint8_t> px;
    std::vector<float> mask;
    make_bank(kFaces, s, 1, px, mask);
    src_bank = FaceBank::from_u8(ctx, dev, px.data(), kFaces, s, mask.data(), mask.data());
    make_bank(kFaces, s, 5, px, mask);
    dst_bank = FaceBank::from_u8(ctx, dev, px.data(), kFaces, s, mask.data(), mask.data());
    src_idx.resize(batch), dst_idx.resize(batch);
  }

  // One training iteration; returns the objective tensor (not read: no host sync).
  Tensor step(int64_t it, bool fixed_batch) {
    for (int b = 0; b < batch; ++b) {
      src_idx[b] = fixed_batch ? b : static_cast<int32_t>((it * batch + b) % kFaces);
      dst_idx[b] = fixed_batch ? b : static_cast<int32_t>((it * batch + 3 * b + 1) % kFaces);
    }
    src_aug.run(ctx, src_bank, src_idx, src_batch);
    dst_aug.run(ctx, dst_bank, dst_idx, dst_batch);
    params->zero_grad(ctx);
    MasterCastScope casts(ctx, *params);  // bf16: the masters cast once per step (as TrainStep does)
    models::SaehdPredictions p = model->train_forward(ctx, src_batch.warped, dst_batch.warped);
    models::SaehdSideLoss ls = models::saehd_side_loss(ctx, loss_cfg, src_batch.target, p.src_src.image,
                                                       p.src_src.mask, src_batch.mask, src_batch.eyes_mouth);
    models::SaehdSideLoss ld = models::saehd_side_loss(ctx, loss_cfg, dst_batch.target, p.dst_dst.image,
                                                       p.dst_dst.mask, dst_batch.mask, dst_batch.eyes_mouth);
    Tensor objective = models::saehd_objective(ctx, ls.total, ld.total);
    backward(ctx, objective);
    optim->step(ctx);
    return objective;
  }
};

// "" when the setup trains; else what is wrong.
std::string validate(Device dev, const std::string& preset, int batch, std::optional<DType> compute, double& first,
                     double& last) {
  // A larger step than DFL's 5e-5 so that eight iterations show the update working.
  TrainBench t(dev, preset, batch, /*augment_on=*/false, /*lr=*/2e-4);
  ComputeDtypeGuard g(t.ctx, compute);
  const int64_t expected = models::saehd_param_counts(t.opt).total;
  if (t.model->num_parameters() != expected)
    return "parameter count " + std::to_string(t.model->num_parameters()) + " != analytic " + std::to_string(expected);
  first = t.step(0, true).to_double(t.ctx)[0];
  if (!std::isfinite(first)) return "first loss is not finite";
  last = first;
  for (int i = 1; i <= 8; ++i) last = t.step(i, true).to_double(t.ctx)[0];
  if (!(last < 0.9 * first))
    return "loss did not fall on a fixed batch: " + std::to_string(first) + " -> " + std::to_string(last);
  return "";
}

void run_bench(benchmark::State& state, Device dev, const std::string& preset, int batch, std::optional<DType> compute) {
  double first = 0, last = 0;
  const std::string err = validate(dev, preset, batch, compute, first, last);
  if (!err.empty()) {
    state.SkipWithError(err.c_str());
    return;
  }
  TrainBench t(dev, preset, batch, /*augment_on=*/true);
  ComputeDtypeGuard g(t.ctx, compute);
  int64_t it = 0;
  for (int w = 0; w < 3; ++w) t.step(it++, false);  // warm-up: algorithm choice, allocator caching
  t.ctx.synchronize();
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    t.step(it++, false);
    t.ctx.synchronize();
    state.SetIterationTime(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  const double flops = 2.0 * batch * models::saehd_flops(t.opt).training_per_image;
  state.counters["images/s"] = benchmark::Counter(2.0 * batch, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["TFLOP/s"] = benchmark::Counter(flops / 1e12, benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel(preset + " batch " + std::to_string(batch) + " per side, " +
                 (compute ? std::string("bf16") : std::string("f32")) + " compute, " + dev.str() +
                 ", validated: fixed-batch loss " + std::to_string(first) + " -> " + std::to_string(last));
}

void BM_train_step_cpu_tiny(benchmark::State& state) { run_bench(state, Device::cpu(), "tiny", 4, std::nullopt); }

void BM_train_step_cuda(benchmark::State& state, const std::string& preset, bool bf16) {
  if (!cuda_available()) {
    state.SkipWithError("no CUDA device");
    return;
  }
  run_bench(state, Device::cuda(0), preset, 8, bf16 ? std::optional<DType>(DType::BF16) : std::nullopt);
}

}  // namespace

BENCHMARK(BM_train_step_cpu_tiny)->UseManualTime()->Unit(benchmark::kMillisecond)->Iterations(5);
BENCHMARK_CAPTURE(BM_train_step_cuda, df128_f32, std::string("df128"), false)
    ->UseManualTime()->Unit(benchmark::kMillisecond)->MinTime(2.0);
BENCHMARK_CAPTURE(BM_train_step_cuda, df128_bf16, std::string("df128"), true)
    ->UseManualTime()->Unit(benchmark::kMillisecond)->MinTime(2.0);
BENCHMARK_MAIN();
