#include "pipeline/demo/engine_demo.h"

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>

#include "engine/autograd/tape.h"
#include "engine/core/error.h"
#include "engine/io/safetensors.h"
#include "engine/nn/layers.h"
#include "engine/ops/elementwise.h"
#include "engine/ops/losses.h"
#include "engine/optim/optimizer.h"

namespace facet::pipeline {

namespace {

// Encoder-decoder from DFL's blocks, sized for a CPU: 3 -> 32 -> 64 (R/4) -> 64 -> 32 -> 3.
struct DemoAE : nn::Module {
  std::shared_ptr<nn::Downscale> d1, d2;
  std::shared_ptr<nn::ResidualBlock> res;
  std::shared_ptr<nn::Upscale> u1, u2;
  std::shared_ptr<nn::Conv2d> head;
  DemoAE(Context& ctx, const nn::LayerInit& init) {
    d1 = register_module("down1", std::make_shared<nn::Downscale>(ctx, 3, 32, 5, init));
    d2 = register_module("down2", std::make_shared<nn::Downscale>(ctx, 32, 64, 5, init));
    res = register_module("res", std::make_shared<nn::ResidualBlock>(ctx, 64, 3, init));
    u1 = register_module("up1", std::make_shared<nn::Upscale>(ctx, 64, 64, 3, init));
    u2 = register_module("up2", std::make_shared<nn::Upscale>(ctx, 64, 32, 3, init));
    head = register_module("out", std::make_shared<nn::Conv2d>(ctx, 32, 3, 1, 1, true, init));
  }
  Tensor forward(Context& ctx, const Tensor& x) {
    Tensor h = res->forward(ctx, d2->forward(ctx, d1->forward(ctx, x)));
    return sigmoid(ctx, head->forward(ctx, u2->forward(ctx, u1->forward(ctx, h))));
  }
};

// Face-like synthetic images: skin-toned ellipse, two eyes, a mouth, varying pose and light.
Tensor synthetic_faces(Context& ctx, int n, int r, Device device) {
  std::vector<float> v(static_cast<size_t>(n) * r * r * 3);
  for (int b = 0; b < n; ++b) {
    float dx = 0.08f * std::sin(1.7f * b), dy = 0.06f * std::cos(2.3f * b), light = 0.8f + 0.2f * std::sin(b * 0.9f);
    for (int y = 0; y < r; ++y)
      for (int x = 0; x < r; ++x) {
        float u = (x + 0.5f) / r - 0.5f - dx, w = (y + 0.5f) / r - 0.5f - dy;
        float face = (u * u) / 0.09f + (w * w) / 0.14f < 1.0f ? 1.0f : 0.0f;
        auto spot = [&](float cx, float cy, float rad) { return (u - cx) * (u - cx) + (w - cy) * (w - cy) < rad * rad; };
        bool eye = spot(-0.11f, -0.08f, 0.045f) || spot(0.11f, -0.08f, 0.045f);
        bool mouth = std::fabs(w - 0.15f) < 0.025f && std::fabs(u) < 0.12f;
        float base[3] = {0.25f, 0.3f, 0.35f + 0.3f * (y / float(r))};
        float skin[3] = {0.45f * light, 0.55f * light, 0.8f * light};  // BGR, as DFL
        for (int c = 0; c < 3; ++c) {
          float p = face > 0 ? skin[c] : base[c];
          if (face > 0 && eye) p = 0.1f;
          if (face > 0 && mouth) p = c == 2 ? 0.55f : 0.2f;
          v[((static_cast<size_t>(b) * r + y) * r + x) * 3 + c] = p;
        }
      }
  }
  return Tensor::from_vector(ctx, {n, r, r, 3}, v, DType::F32, device);
}

}  // namespace

EngineDemoResult run_engine_demo(const EngineDemoOptions& opt, const std::function<void(int, double)>& on_step) {
  FACET_CHECK(opt.resolution % 16 == 0 && opt.resolution >= 32, "demo resolution must be a multiple of 16, >= 32");
  FACET_CHECK(opt.steps > 0 && opt.batch > 0, "demo steps and batch must be positive");
  std::filesystem::create_directories(opt.out_dir);
  Device device = (!opt.cpu && cuda_available()) ? Device::cuda(0) : Device::cpu();
  Context ctx(device, opt.seed);
  DemoAE model(ctx, nn::LayerInit{device, DType::F32});
  ParameterBuffer params(ctx, model.parameters());
  AdaBeliefOptions ab;
  ab.lr = 1e-3;  // DFL's 5e-5 is tuned for 100k-iteration runs; the demo has a few hundred
  AdaBelief optim(ctx, params, ab);
  Tensor faces = synthetic_faces(ctx, opt.batch, opt.resolution, device);
  int fs = std::max(3, static_cast<int>(opt.resolution / 11.6));

  EngineDemoResult res;
  res.device = device.str();
  res.loss_csv = opt.out_dir + "/loss.csv";
  std::ofstream csv(res.loss_csv);
  FACET_CHECK(csv.good(), "cannot write ", res.loss_csv);
  csv << "step,loss\n";
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < opt.steps; ++i) {
    params.zero_grad(ctx);
    Tensor pred = model.forward(ctx, faces);
    Tensor loss = mean(ctx, add(ctx, mul_scalar(ctx, dssim(ctx, pred, faces, fs), 10.0),
                                mul_scalar(ctx, mse_loss(ctx, pred, faces), 10.0)));
    backward(ctx, loss);
    optim.step(ctx);
    if (i == 0 || (i + 1) % 10 == 0 || i + 1 == opt.steps) {
      double l = loss.to_double(ctx)[0];
      if (i == 0) res.first_loss = l;
      res.last_loss = l;
      csv << i + 1 << "," << l << "\n";
      if (on_step) on_step(i + 1, l);
    }
  }
  ctx.synchronize();
  res.ms_per_step =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count() / opt.steps;
  res.checkpoint = opt.out_dir + "/demo_model.safetensors";
  save_safetensors(ctx, res.checkpoint, model.state_dict(),
                   {{"facet.model", "engine-demo-autoencoder"}, {"facet.steps", std::to_string(opt.steps)}});
  return res;
}

}  // namespace facet::pipeline
