// Whole-iteration training benchmark (see train_bench.h).
#include "pipeline/train/train_bench.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>

#include "engine/core/context.h"
#include "engine/core/error.h"
#include "engine/models/saehd_stats.h"
#include "engine/ops/linear.h"
#include "pipeline/train/precision.h"
#include "pipeline/train/synthetic_faces.h"
#include "pipeline/train/train_step.h"

namespace facet::train {

using Clock = std::chrono::steady_clock;

double device_peak_tflops(const std::string& name, std::string* source) {
  struct Peak { const char* key; double tflops; const char* what; };
  // Dense (no sparsity) bf16 tensor-core peaks from the vendor data sheets.
  static const Peak table[] = {
      {"H200", 989.4, "H200 bf16 dense (same SXM5 compute as H100)"},
      {"H100", 989.4, "H100 SXM bf16 dense"},
      {"A100", 312.0, "A100 bf16 dense"},
  };
  for (const Peak& p : table)
    if (name.find(p.key) != std::string::npos) {
      if (source) *source = p.what;
      return p.tflops;
    }
  return 0.0;
}

double measure_cpu_sgemm_tflops() {
  Context ctx(Device::cpu(), 7);
  NoGradGuard ng(ctx);
  const int64_t n = 1024;
  Tensor a = Tensor::uniform(ctx, {n, n}, -1, 1, DType::F32, Device::cpu());
  Tensor b = Tensor::uniform(ctx, {n, n}, -1, 1, DType::F32, Device::cpu());
  (void)matmul(ctx, a, b);  // warm-up (threads, caches)
  double best = 1e30;
  for (int r = 0; r < 3; ++r) {
    const auto t0 = Clock::now();
    Tensor c = matmul(ctx, a, b);
    best = std::min(best, std::chrono::duration<double>(Clock::now() - t0).count());
  }
  return 2.0 * n * n * n / best / 1e12;
}

TrainBenchResult run_train_bench(const TrainBenchOptions& o, const std::function<void(const std::string&)>& log) {
  auto say = [&](const std::string& s) {
    if (log) log(s);
  };
  const Device device = (!o.cpu && cuda_available()) ? Device::cuda(0) : Device::cpu();
  ComputePlan plan = compute_plan_for(parse_precision(o.precision), device);
  FACET_CHECK(o.cpu_conv == "onednn" || o.cpu_conv == "reference", "bench train: --cpu-conv must be onednn or ",
              "reference, got \"", o.cpu_conv, "\"");
  if (o.cpu_conv == "reference") {
    FACET_CHECK(plan.cpu_conv != CpuConv::OneDnnBf16, "bench train: --cpu-conv reference computes in f32 only");
    plan.cpu_conv = CpuConv::Reference;
  }
  TrainRequest req;
  req.preset = o.preset;
  if (!o.archi.empty()) req.archi = o.archi;
  if (o.resolution) req.resolution = o.resolution;
  req.batch = o.batch;
  req.optimizer = o.optimizer;
  req.seed = 1;
  req.augment = o.augment;
  const int iters = o.iters > 0 ? o.iters : (device.is_cpu() ? 5 : 30);
  const int warmup = o.warmup > 0 ? o.warmup : (device.is_cpu() ? 1 : 5);
  req.status_every = std::max(iters, warmup);
  ModelRecord rec = new_model_record(req, device);
  const models::SaehdOptions& n = rec.spec.net;

  TrainBenchResult r;
  r.device = device.str();
  r.device_name = device_name(device);
  r.cpu_pool = cpu_pool_description();
  char cfg[200];
  std::snprintf(cfg, sizeof cfg, "%s %s %dpx ae %d e %d d %d m %d, %s", rec.spec.preset.c_str(), n.archi.c_str(),
                n.resolution, n.ae_dims, n.e_dims, n.d_dims, n.d_mask_dims, rec.spec.optimizer.c_str());
  r.config = cfg;
  r.precision = plan.label();
  r.cpu_conv = device.is_cpu() ? cpu_conv_name(cpu_has_onednn() ? plan.cpu_conv : CpuConv::Reference) : "";
  r.batch = o.batch;
  r.iters = iters;
  r.params = models::saehd_param_counts(n).total;
  r.gflop_per_iter = 2.0 * o.batch * models::saehd_flops(n).training_per_image / 1e9;

  say("bench train: " + r.config + ", batch " + std::to_string(o.batch) + " per side on " + r.device + " (" +
      r.device_name + ", " + r.precision + " compute): making " + std::to_string(o.faces) + " synthetic faces per side");
  const faces::FaceType ft = faces::parse_face_type(n.face_type);
  const HostFaces src = synthetic_host_faces(SyntheticIdentity::A, o.faces, n.resolution, 1, ft);
  const HostFaces dst = synthetic_host_faces(SyntheticIdentity::B, o.faces, n.resolution, 1, ft);

  Context ctx(device, rec.spec.seed);
  ctx.deterministic = o.deterministic;
  plan.apply(ctx);
  TrainStepOptions so;
  so.loss_window = req.status_every.value();
  so.nan_check = NanCheck::AtRead;  // no per-step read, on any device: what the GPU trainer does
  TrainStep ts(ctx, rec, src, dst, so);
  say("warming up (" + std::to_string(warmup) + " iterations)");
  for (int i = 0; i < warmup; ++i) ts.step(i + 1);
  (void)ts.read_losses();
  ctx.synchronize();
  ctx.allocator(device)->reset_peak();
  say("timing " + std::to_string(iters) + " iterations");
  const CudaWorkCounts work0 = cuda_work_counts();
  const auto t0 = Clock::now();
  for (int i = 0; i < iters; ++i) ts.step(warmup + i + 1);
  ctx.synchronize();
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  if (device.is_cuda()) {
    const CudaWorkCounts work1 = cuda_work_counts();
    r.launches_per_iter = static_cast<double>(work1.launches - work0.launches) / iters;
    r.copies_per_iter = static_cast<double>(work1.copies - work0.copies) / iters;
  }
  TrainStep::Losses l = ts.read_losses();
  r.last_src_loss = l.src.empty() ? NAN : l.src.back();
  r.last_dst_loss = l.dst.empty() ? NAN : l.dst.back();
  r.ms_per_iter = secs * 1000.0 / iters;
  r.images_per_s = 2.0 * o.batch * iters / secs;
  r.achieved_tflops = r.gflop_per_iter * iters / secs / 1000.0;
  r.peak_bytes = ctx.memory_stats(device).peak_bytes;
  if (device.is_cpu()) {
    say("measuring the CPU's sgemm peak");
    r.peak_tflops = measure_cpu_sgemm_tflops();
    r.peak_source = "measured sgemm 1024^3 (f32)";
  } else {
    r.peak_tflops = device_peak_tflops(r.device_name, &r.peak_source);
    if (!plan.compute_dtype && r.peak_tflops > 0) r.peak_source += "; this run computes in f32";
  }
  r.mfu = r.peak_tflops > 0 ? r.achieved_tflops / r.peak_tflops : 0;
  return r;
}

std::string format_train_bench(const TrainBenchResult& r) {
  char buf[1200];
  char mfu[160];
  if (r.peak_tflops > 0)
    std::snprintf(mfu, sizeof mfu, "%.1f%% of %.4g TFLOP/s (%s)", 100.0 * r.mfu, r.peak_tflops, r.peak_source.c_str());
  else
    std::snprintf(mfu, sizeof mfu, "n/a (no peak known for \"%s\")", r.device_name.c_str());
  char launches[160] = "";
  if (r.launches_per_iter >= 0)
    std::snprintf(launches, sizeof launches,
                  "launches      %.1f kernels per iteration (cuDNN/cuBLAS calls as one each), %.1f copies/memsets\n",
                  r.launches_per_iter, r.copies_per_iter);
  const std::string pool = r.cpu_conv.empty() ? r.cpu_pool : r.cpu_pool + ", convolutions on " + r.cpu_conv;
  std::snprintf(buf, sizeof buf,
                "device        %s (%s)\n"
                "cpu pool      %s\n"
                "config        %s, %.2fM parameters, %s compute (f32 master weights)\n"
                "batch         %d per side (%d images per iteration), %d timed iterations\n"
                "ms/iteration  %.2f\n"
                "images/s      %.1f\n"
                "GFLOP/iter    %.2f (analytic: 2 x MAC, training = 3 x forward)\n"
                "achieved      %.4f TFLOP/s\n"
                "MFU           %s\n"
                "peak memory   %.1f MiB (allocator high-water mark while timing)\n"
                "%s"
                "last loss     src %.4f dst %.4f\n",
                r.device.c_str(), r.device_name.c_str(), pool.c_str(), r.config.c_str(), r.params / 1e6, r.precision.c_str(), r.batch,
                2 * r.batch, r.iters,
                r.ms_per_iter, r.images_per_s, r.gflop_per_iter, r.achieved_tflops, mfu, r.peak_bytes / 1048576.0,
                launches, r.last_src_loss, r.last_dst_loss);
  return buf;
}

}  // namespace facet::train
