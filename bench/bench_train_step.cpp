// Whole SAEHD training iterations with the engine alone (no OpenCV, no FFmpeg), so a GPU machine
// that only builds the engine (scripts/gpu-check.sh, FACET_PIPELINE=OFF) measures the training
// target in one command: df-ud 128 (ae 256, e 64, d 64, m 22) at batch 8 per side, <= 10 ms per
// iteration on one H100 and >= 2x bench/reference/df_pytorch.py. One iteration is the trainer's
// own (engine/models/saehd_train_step.h): both batches built with the on-device DFL augmentation
// from uint8 face banks (engine/augment/synthetic_bank.h), the DF forward of src and dst, SAEHD's
// loss per side, backward, AdaBelief. Variants f32 and bf16 compute (f32 masters and state either
// way); the CPU runs the `tiny` preset in f32 only (df128 takes seconds per iteration there).
//
// Validation before timing: the model's parameter count equals the analytic count
// (engine/models/saehd_stats.h), the first loss is finite, and eight iterations on one fixed
// un-augmented batch lower the loss (src + dst batch means) below 90 % of its first value
// (forward, backward and the update all work in this precision). `--validate-only` runs just
// that; ctest's bench/train_step_validation does, on the CUDA rows at `--cuda-preset=tiny
// --cuda-batch=1`, so the emulated device checks the CUDA path. Counters: ms/iteration (manual
// time, device synchronised per iteration), images/s (2 x batch per iteration), TFLOP/s from the
// analytic training FLOPs, and on the CUDA rows kernel launches per iteration.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/augment/augment.h"
#include "engine/augment/synthetic_bank.h"
#include "engine/core/context.h"
#include "engine/models/saehd_model.h"
#include "engine/models/saehd_options.h"
#include "engine/models/saehd_stats.h"
#include "engine/models/saehd_train_step.h"
#include "engine/optim/optimizer.h"
#include "engine/optim/parameter_buffer.h"

namespace {

using namespace facet;

constexpr int kFaces = 32;  // per side

// The model, its optimizer and both face banks; the iteration is models::SaehdTrainStep, the one
// the trainer runs.
struct TrainBench {
  static constexpr int64_t kLossWindow = 64;
  Context ctx;
  models::SaehdOptions opt;
  std::unique_ptr<models::SaehdModel> model;
  std::unique_ptr<ParameterBuffer> params;
  std::unique_ptr<Optimizer> optim;
  FaceBank src_bank, dst_bank;
  std::unique_ptr<models::SaehdTrainStep> train;
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
      : ctx(dev, 1234), opt(models::saehd_preset(preset)), batch(batch_) {
    model = models::SaehdModel::create(ctx, opt, nn::LayerInit{dev, DType::F32});
    params = std::make_unique<ParameterBuffer>(ctx, model->parameters());
    AdaBeliefOptions ao;
    ao.lr = lr;
    optim = std::make_unique<AdaBelief>(ctx, *params, ao);
    const int s = opt.resolution * 2;  // banks at twice the training size, as extracted faces are
    src_bank = synthetic_face_bank(ctx, dev, kFaces, s, 1);
    dst_bank = synthetic_face_bank(ctx, dev, kFaces, s, 5);
    models::SaehdTrainStepOptions so;
    so.loss = models::SaehdLossConfig::from_options(opt);
    so.src_augment = augment(opt.resolution, false, augment_on);
    so.dst_augment = augment(opt.resolution, true, augment_on);
    so.loss_window = kLossWindow;  // NaN check: the trainer's default for the device
    train = std::make_unique<models::SaehdTrainStep>(ctx, *model, *params, *optim,
                                                     models::SaehdTrainBanks{&src_bank, &dst_bank}, so);
    src_idx.resize(batch), dst_idx.resize(batch);
  }

  // One training iteration (no host sync on a GPU).
  void step(int64_t it, bool fixed_batch) {
    for (int b = 0; b < batch; ++b) {
      src_idx[b] = fixed_batch ? b : static_cast<int32_t>((it * batch + b) % kFaces);
      dst_idx[b] = fixed_batch ? b : static_cast<int32_t>((it * batch + 3 * b + 1) % kFaces);
    }
    train->step(src_idx, dst_idx);
  }

  // The last iteration's loss, src + dst batch means (reads the loss window: a sync).
  double last_loss() {
    const models::SaehdTrainStep::Losses l = train->read_losses();
    return l.src.empty() ? NAN : static_cast<double>(l.src.back()) + l.dst.back();
  }
};

// "" when the setup trains; else what is wrong.
std::string validate(Device dev, const std::string& preset, int batch, std::optional<DType> compute, double& first,
                     double& last) {
  // A larger step than DFL's 5e-5 so that eight iterations show the update working on every
  // preset (at 5e-5 tiny's loss barely moves in eight steps); 2e-4 overshoots on df128, on the
  // CPU as on the GPU (9.96 -> 14.1 after eight steps), so 1e-4.
  TrainBench t(dev, preset, batch, /*augment_on=*/false, /*lr=*/1e-4);
  ComputeDtypeGuard g(t.ctx, compute);
  const int64_t expected = models::saehd_param_counts(t.opt).total;
  if (t.model->num_parameters() != expected)
    return "parameter count " + std::to_string(t.model->num_parameters()) + " != analytic " + std::to_string(expected);
  t.step(0, true);
  first = t.last_loss();
  if (!std::isfinite(first)) return "first loss is not finite";
  last = first;
  for (int i = 1; i <= 8; ++i) {
    t.step(i, true);
    last = t.last_loss();
  }
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
  uint64_t launches = 0;
  for (auto _ : state) {
    if (t.train->pending() == TrainBench::kLossWindow) {  // untimed: the trainer's status-line read
      (void)t.train->read_losses();
      t.ctx.synchronize();
    }
    const uint64_t l0 = cuda_work_counts().launches;
    const auto t0 = std::chrono::steady_clock::now();
    t.step(it++, false);
    t.ctx.synchronize();
    state.SetIterationTime(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    launches += cuda_work_counts().launches - l0;
  }
  if (dev.is_cuda())  // kernels per iteration, cuDNN / cuBLAS calls as one each
    state.counters["launches/iter"] = static_cast<double>(launches) / static_cast<double>(state.iterations());
  const double flops = 2.0 * batch * models::saehd_flops(t.opt).training_per_image;
  state.counters["images/s"] = benchmark::Counter(2.0 * batch, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["TFLOP/s"] = benchmark::Counter(flops / 1e12, benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel(preset + " batch " + std::to_string(batch) + " per side, " +
                 (compute ? std::string("bf16") : std::string("f32")) + " compute, " + dev.str() +
                 ", validated: fixed-batch loss " + std::to_string(first) + " -> " + std::to_string(last));
}

// One row: a device, a preset, the batch per side, the compute precision.
struct Row {
  std::string name;
  bool cuda;
  std::string preset;
  int batch;
  std::optional<DType> compute;
};

std::vector<Row> rows(const std::string& cuda_preset, int cuda_batch, const std::string& cpu_preset, int cpu_batch) {
  const std::string batch = cuda_batch == 8 ? "" : "_b" + std::to_string(cuda_batch);
  const std::string cuda = "BM_train_step_cuda/" + cuda_preset + batch;
  const std::string cpu = "BM_train_step_cpu_" + cpu_preset + (cpu_batch == 4 ? "" : "_b" + std::to_string(cpu_batch));
  return {{cpu, false, cpu_preset, cpu_batch, std::nullopt},
          {cuda + "_f32", true, cuda_preset, cuda_batch, std::nullopt},
          {cuda + "_bf16", true, cuda_preset, cuda_batch, DType::BF16}};
}

Device row_device(const Row& r) { return r.cuda ? Device::cuda(0) : Device::cpu(); }

// --validate-only[=SUBSTRING]: each row (whose name contains SUBSTRING) validated, none timed.
// 0 when all train, 1 when one fails, 77 (ctest's skip) when every row picked needs a missing GPU.
int validate_rows(const std::vector<Row>& all, const std::string& pick) {
  int failed = 0, ran = 0, skipped = 0;
  for (const Row& r : all) {
    if (r.name.find(pick) == std::string::npos) continue;
    if (r.cuda && !cuda_available()) {
      std::printf("%-36s skipped: no CUDA device\n", r.name.c_str());
      ++skipped;
      continue;
    }
    double first = 0, last = 0;
    const auto t0 = std::chrono::steady_clock::now();
    const std::string err = validate(row_device(r), r.preset, r.batch, r.compute, first, last);
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    ++ran;
    if (err.empty()) {
      std::printf("%-36s validated in %.1f s: fixed-batch loss %.6g -> %.6g\n", r.name.c_str(), secs, first, last);
    } else {
      std::printf("%-36s FAILED: %s\n", r.name.c_str(), err.c_str());
      ++failed;
    }
  }
  if (failed) return 1;
  if (ran == 0 && skipped > 0) return 77;
  if (ran == 0) {
    std::printf("no row matches \"%s\"\n", pick.c_str());
    return 1;
  }
  return 0;
}

// The value of `--flag=value` (or "" for a bare `--flag`) when argv[i] is that flag.
bool take_flag(const char* arg, const std::string& flag, std::string& value) {
  const std::string a = arg;
  if (a == flag) return value.clear(), true;
  if (a.rfind(flag + "=", 0) != 0) return false;
  value = a.substr(flag.size() + 1);
  return true;
}

}  // namespace

// This binary's flags, taken before Google Benchmark's own:
//   --cuda-preset=NAME       the SAEHD preset of the CUDA rows (default df128, the target; `tiny`
//                            keeps the emulated device's run short)
//   --cuda-batch=N           their batch per side (default 8, the target)
//   --cpu-preset=NAME        the preset of the CPU row (default tiny)
//   --cpu-batch=N            its batch per side (default 4)
//   --validate-only[=PICK]   validate the rows whose name contains PICK (all by default), time none
int main(int argc, char** argv) {
  std::string cuda_preset = "df128", cpu_preset = "tiny", pick;
  int cuda_batch = 8, cpu_batch = 4;
  bool validate_only = false;
  std::vector<char*> rest;
  for (int i = 0; i < argc; ++i) {
    std::string v;
    if (i > 0 && take_flag(argv[i], "--cuda-preset", v)) {
      cuda_preset = v;
    } else if (i > 0 && take_flag(argv[i], "--cuda-batch", v)) {
      cuda_batch = std::atoi(v.c_str());
    } else if (i > 0 && take_flag(argv[i], "--cpu-preset", v)) {
      cpu_preset = v;
    } else if (i > 0 && take_flag(argv[i], "--cpu-batch", v)) {
      cpu_batch = std::atoi(v.c_str());
    } else if (i > 0 && take_flag(argv[i], "--validate-only", v)) {
      validate_only = true;
      pick = v;
    } else {
      rest.push_back(argv[i]);
    }
  }
  for (const auto& [flag, name] : {std::pair{"--cuda-preset", cuda_preset}, std::pair{"--cpu-preset", cpu_preset}}) {
    try {
      (void)models::saehd_preset(name);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "bench_train_step: %s: %s\n", flag, e.what());
      return 2;
    }
  }
  if (cuda_batch < 1 || cpu_batch < 1) {
    std::fprintf(stderr, "bench_train_step: --cuda-batch and --cpu-batch take a positive number of faces per side\n");
    return 2;
  }
  const std::vector<Row> all = rows(cuda_preset, cuda_batch, cpu_preset, cpu_batch);
  if (validate_only) return validate_rows(all, pick);
  for (const Row& r : all) {
    auto* b = benchmark::RegisterBenchmark(r.name.c_str(), [r](benchmark::State& state) {
      if (r.cuda && !cuda_available()) {
        state.SkipWithError("no CUDA device");
        return;
      }
      run_bench(state, row_device(r), r.preset, r.batch, r.compute);
    });
    b->UseManualTime()->Unit(benchmark::kMillisecond);
    if (r.cuda)
      b->MinTime(2.0);
    else
      b->Iterations(5);
  }
  int n = static_cast<int>(rest.size());
  benchmark::Initialize(&n, rest.data());
  if (benchmark::ReportUnrecognizedArguments(n, rest.data())) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
