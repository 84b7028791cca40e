// The built-in demo while the video stages are being built: trains a small DeepFaceLab-style
// autoencoder (Downscale x2 -> Upscale x2, DSSIM + MSE, AdaBelief) on synthetic face-like images,
// on the GPU when one is present, and writes the loss history and a checkpoint.
#pragma once
#include <functional>
#include <string>

namespace facet::pipeline {

struct EngineDemoOptions {
  std::string out_dir = "demo-out";
  int steps = 400;
  int batch = 8;
  int resolution = 64;
  bool cpu = false;  // force the CPU even when a GPU is present
  uint64_t seed = 1;
};

struct EngineDemoResult {
  double first_loss = 0, last_loss = 0;
  double ms_per_step = 0;
  std::string device, checkpoint, loss_csv;
};

EngineDemoResult run_engine_demo(const EngineDemoOptions& opt, const std::function<void(int, double)>& on_step);

}  // namespace facet::pipeline
