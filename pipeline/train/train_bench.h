// `facet bench train`: the speed of whole SAEHD training iterations (augmentation, both forwards,
// the loss, backward, optimizer) on synthetic faces held in memory, as the trainer runs them.
// Reports ms per iteration, images per second (2 x batch per iteration), achieved TFLOP/s from
// the analytic FLOP count (engine/models/saehd_stats.h: 2 x MAC of convs and denses, training =
// 3 x forward), MFU against the device's peak, the peak memory the allocator handed out and, on a
// CUDA device, the kernel launches per iteration.
#pragma once
#include <cstdint>
#include <functional>
#include <string>

namespace facet::train {

struct TrainBenchOptions {
  std::string preset = "df128";
  std::string archi;       // overrides (empty / 0 = the preset's)
  int resolution = 0;
  int batch = 8;           // per side
  int iters = 0;           // timed iterations; 0 = 30 on a GPU, 5 on the CPU
  int warmup = 0;          // untimed first iterations; 0 = 5 on a GPU, 1 on the CPU
  int faces = 32;          // synthetic faces per side
  std::string optimizer = "adabelief";
  bool cpu = false;
  bool deterministic = false;
  bool augment = true;
  std::string precision = "auto";  // auto | f32 | bf16 (pipeline/train/precision.h)
  std::string cpu_conv = "onednn";  // onednn | reference: what CPU convolutions run on (A/B timing)
};

struct TrainBenchResult {
  std::string device, device_name, config;
  std::string cpu_pool;  // the CPU thread pool (cpu_pool_description), also reported on a GPU run
  std::string precision = "f32";  // the compute precision that ran: "bf16" or "f32"
  std::string cpu_conv;           // on the CPU: what its convolutions ran on ("oneDNN f32", "reference", ...)
  int batch = 0, iters = 0;
  int64_t params = 0;
  double ms_per_iter = 0, images_per_s = 0;
  double gflop_per_iter = 0, achieved_tflops = 0;
  double peak_tflops = 0;  // 0 = unknown
  std::string peak_source;  // where the peak comes from ("H100 SXM bf16 dense", "measured sgemm", ...)
  double mfu = 0;           // achieved / peak (0 when unknown)
  size_t peak_bytes = 0;
  // On a CUDA device (real or emulated: the counts are the same): kernel launches (cuDNN and
  // cuBLAS calls as one each) and stream copies / memsets per timed iteration; -1 on the CPU.
  double launches_per_iter = -1, copies_per_iter = -1;
  float last_src_loss = 0, last_dst_loss = 0;
};

// The dense bf16 (or CPU sgemm) peak for a device name: H100 / H200 989.4, A100 312 TFLOP/s;
// 0 when unknown.
double device_peak_tflops(const std::string& device_name, std::string* source = nullptr);

// Measures the CPU's sgemm rate (TFLOP/s) with the engine's matmul on 1024^3 problems.
double measure_cpu_sgemm_tflops();

TrainBenchResult run_train_bench(const TrainBenchOptions& opt, const std::function<void(const std::string&)>& log = {});

std::string format_train_bench(const TrainBenchResult& r);

}  // namespace facet::train
