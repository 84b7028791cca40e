// Mixed precision without a GPU. The mechanism that trains in bf16 over f32 masters on a GPU
// (engine/ops/cast.h, Context::compute_dtype, the layers' autocast, the SAEHD models' boundary
// casts) is dtype-generic, so the CPU checks it one level up: f32 compute over f64 masters, where
// the fully-f64 run is the reference and f32 rounding is the expected error.
//   - cast_to: identity without a node for equal dtypes; the f64 -> f32 -> f64 round trip and an
//     f32 computation between two casts pass a central-difference gradient check in f64;
//     gradients come back in the input's dtype.
//   - Dense / Conv2d under compute F32 over f64 masters: f32 activations, f64 weight gradients.
//   - Tiny SAEHD models (DF and LIAE) with f64 parameters: with compute F32 the SAEHD loss and
//     every parameter gradient (f64) agree with the f64 run to float tolerance, and an optimizer
//     step on the f64 flat buffer updates the masters like the f64 run's step does.
//   - With no compute dtype nothing is cast: the graph holds no cast node and the outputs keep
//     the input dtype (the existing tests pin the numbers bit for bit).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <optional>
#include <string>

#include "engine/autograd/tape.h"
#include "engine/core/error.h"
#include "engine/models/saehd_loss.h"
#include "engine/models/saehd_model.h"
#include "engine/nn/layers.h"
#include "engine/ops/cast.h"
#include "engine/ops/elementwise.h"
#include "engine/optim/optimizer.h"
#include "support/op_case.h"

using namespace facet;
using namespace facet::models;
using facet::test::rel_max_error;

namespace {

Tensor rand64(Context& ctx, const Shape& s, double lo = -1, double hi = 1) {
  return Tensor::uniform(ctx, s, lo, hi, DType::F64, Device::cpu());
}

// <r, y> as a scalar in y's dtype.
Tensor project(Context& ctx, const Tensor& y, const Tensor& r) { return sum(ctx, mul(ctx, y, r)); }

size_t cast_nodes(Context& ctx) {
  size_t n = 0;
  for (const auto& node : ctx.tape().nodes()) n += std::string(node->name) == "cast";
  return n;
}

float round_f32(double v) { return static_cast<float>(v); }

}  // namespace

// ---------------------------------------------------------------- cast_to

TEST(CastTo, SameDtypeIsTheTensorItself) {
  Context ctx;
  Tensor x = rand64(ctx, {5}).set_requires_grad(true);
  Tensor y = cast_to(ctx, x, DType::F64);
  EXPECT_EQ(y.impl(), x.impl());
  EXPECT_EQ(ctx.tape().size(), 0u);
  EXPECT_EQ(autocast(ctx, x).impl(), x.impl()) << "no compute dtype: autocast is the identity";
  EXPECT_FALSE(autocast(ctx, Tensor()).defined());
  {
    ComputeDtypeGuard g(ctx, DType::F64);
    EXPECT_EQ(autocast(ctx, x).impl(), x.impl());
  }
  EXPECT_FALSE(ctx.compute_dtype.has_value()) << "the guard restores the previous setting";
}

TEST(CastTo, ForwardRoundsAndBackwardReturnsTheInputDtype) {
  Context ctx;
  Tensor x = rand64(ctx, {2, 7}).set_requires_grad(true);
  Tensor y = cast_to(ctx, x, DType::F32);
  ASSERT_EQ(y.dtype(), DType::F32);
  EXPECT_EQ(y.shape(), x.shape());
  EXPECT_EQ(ctx.tape().size(), 1u);
  const std::vector<double> xv = x.to_double(ctx);
  const std::vector<float> yv = y.to_float(ctx);
  for (size_t i = 0; i < xv.size(); ++i) EXPECT_EQ(yv[i], round_f32(xv[i])) << i;
  // f64 -> f32 -> f64: the seed comes back rounded through f32, as an f64 gradient.
  Tensor z = cast_to(ctx, y, DType::F64);
  Tensor r = rand64(ctx, x.shape());
  backward(ctx, z, r);
  ASSERT_TRUE(x.grad().defined());
  EXPECT_EQ(x.grad().dtype(), DType::F64);
  const std::vector<double> g = x.grad().to_double(ctx), rv = r.to_double(ctx);
  for (size_t i = 0; i < g.size(); ++i) EXPECT_EQ(g[i], static_cast<double>(round_f32(rv[i]))) << i;
  EXPECT_EQ(ctx.tape().size(), 0u);
}

TEST(CastTo, GradCheckThroughF32Compute) {
  // L(x) = <r, f64(g(f32(x)))> with g an f32 computation (x * x + 2x, then a sum over an axis).
  // Central differences in f64 at a step of 1e-3: f32 rounding of the forward adds at most
  // ~ulp / step ~ 1e-4 relative to the quotient, and g is quadratic, so no truncation error.
  Context ctx;
  Tensor x = rand64(ctx, {3, 8}).set_requires_grad(true);
  Tensor r = rand64(ctx, {3});
  auto f = [&](const Tensor& in) {
    Tensor h = cast_to(ctx, in, DType::F32);
    Tensor g = sum(ctx, add(ctx, mul(ctx, h, h), mul_scalar(ctx, h, 2.0)), {1});
    return project(ctx, cast_to(ctx, g, DType::F64), r);
  };
  Tensor loss = f(x);
  ASSERT_EQ(loss.dtype(), DType::F64);
  EXPECT_EQ(cast_nodes(ctx), 2u);
  backward(ctx, loss);
  ASSERT_EQ(x.grad().dtype(), DType::F64);
  const std::vector<double> g = x.grad().to_double(ctx);
  double* p = x.data_as<double>();
  for (int64_t j = 0; j < x.numel(); ++j) {
    const double v = p[j], eps = 1e-3;
    double lp, lm;
    {
      NoGradGuard ng(ctx);
      p[j] = v + eps;
      lp = f(x).to_double(ctx)[0];
      p[j] = v - eps;
      lm = f(x).to_double(ctx)[0];
      p[j] = v;
    }
    const double num = (lp - lm) / (2 * eps);
    EXPECT_NEAR(g[static_cast<size_t>(j)], num, 1e-3 * std::max(1.0, std::fabs(num))) << "element " << j;
  }
}

TEST(CastTo, CpuCastsToBf16AndBack) {
  // Storage conversion works on the CPU too (the CPU never computes in bf16: its ops refuse it).
  Context ctx;
  Tensor x = Tensor::from_vector(ctx, {4}, std::vector<float>{1.0f, 1.00390625f, -3.14159f, 1e-3f}, DType::F32)
                 .set_requires_grad(true);
  Tensor h = cast_to(ctx, x, DType::BF16);
  ASSERT_EQ(h.dtype(), DType::BF16);
  Tensor y = cast_to(ctx, h, DType::F32);
  const std::vector<float> xv = x.to_float(ctx), yv = y.to_float(ctx);
  for (size_t i = 0; i < xv.size(); ++i) EXPECT_EQ(yv[i], bf16_bits_to_f32(f32_to_bf16_bits(xv[i]))) << i;
  EXPECT_THROW(relu(ctx, h), Error);
  backward(ctx, y, Tensor::full(ctx, {4}, 0.5, DType::F32, Device::cpu()));
  EXPECT_EQ(x.grad().dtype(), DType::F32);
  EXPECT_EQ(x.grad().to_float(ctx), std::vector<float>(4, 0.5f));
}

// ---------------------------------------------------------------- layers

TEST(MixedPrecisionLayers, ComputeInF32OverF64Masters) {
  Context ctx(Device::cpu(), 11);
  const nn::LayerInit init{Device::cpu(), DType::F64};
  nn::Conv2d conv(ctx, 3, 5, 3, 2, true, init);
  nn::Dense dense(ctx, 20, 4, true, init);
  for (Tensor* b : {&conv.bias, &dense.bias}) b->copy_from(ctx, rand64(ctx, b->shape(), -0.3, 0.3));
  Tensor x = rand64(ctx, {2, 4, 5, 3});
  Tensor rc = rand64(ctx, {2, 2, 3, 5}), rd = rand64(ctx, {3, 4});
  Tensor xd = rand64(ctx, {3, 20});
  struct Run {
    double loss;
    std::vector<std::vector<double>> grads;
  };
  std::vector<Tensor> params = {conv.weight, conv.bias, dense.weight, dense.bias};
  auto run = [&](bool mixed) {
    ComputeDtypeGuard g(ctx, mixed ? std::optional<DType>(DType::F32) : std::nullopt);
    for (Tensor& p : params) p.set_grad(Tensor());
    Tensor yc = conv.forward(ctx, x), yd = dense.forward(ctx, xd);
    EXPECT_EQ(yc.dtype(), mixed ? DType::F32 : DType::F64);
    EXPECT_EQ(yd.dtype(), mixed ? DType::F32 : DType::F64);
    // The scalar objective back in f64 (what the models do with their outputs).
    Tensor loss = add(ctx, project(ctx, cast_to(ctx, yc, DType::F64), rc), project(ctx, cast_to(ctx, yd, DType::F64), rd));
    Run out{loss.to_double(ctx)[0], {}};
    backward(ctx, loss);
    for (Tensor& p : params) {
      EXPECT_EQ(p.grad().dtype(), DType::F64);
      out.grads.push_back(p.grad().to_double(ctx));
    }
    return out;
  };
  const Run ref = run(false), mix = run(true);
  EXPECT_NEAR(mix.loss, ref.loss, 1e-6 * std::max(1.0, std::fabs(ref.loss)));
  EXPECT_NE(mix.loss, ref.loss) << "the mixed run must actually compute in f32";
  for (size_t i = 0; i < params.size(); ++i) EXPECT_LE(rel_max_error(mix.grads[i], ref.grads[i]), 1e-6) << "param " << i;
  for (const Tensor& p : params) EXPECT_EQ(p.dtype(), DType::F64) << "masters keep their dtype";
}

// ---------------------------------------------------------------- SAEHD

namespace {

SaehdOptions toy(const std::string& archi) {
  SaehdOptions o;
  o.archi = archi;
  o.resolution = 64;
  o.ae_dims = 16;
  o.e_dims = 8;
  o.d_dims = 8;
  o.d_mask_dims = 4;
  o.allow_small_dims = true;
  return o;
}

struct SaehdRun {
  double loss = 0;
  std::vector<double> grads;    // the flat f64 gradient buffer
  std::vector<double> update;   // params after one AdaBelief step minus before
  size_t casts = 0;             // cast nodes on the tape after the forward
};

}  // namespace

class MixedPrecisionSaehd : public ::testing::TestWithParam<const char*> {};

TEST_P(MixedPrecisionSaehd, F32ComputeOverF64MastersMatchesF64) {
  const std::string archi = GetParam();
  Context ctx(Device::cpu(), 21);
  auto model = SaehdModel::create(ctx, toy(archi), {Device::cpu(), DType::F64});
  // Random biases keep pre-activations off the leaky-ReLU kinks, as in the f64 gradient check.
  for (auto& [name, t] : model->named_parameters())
    if (name.size() > 5 && name.compare(name.size() - 5, 5, "/bias") == 0)
      t.copy_from(ctx, rand64(ctx, t.shape(), -0.2, 0.2));
  ParameterBuffer params(ctx, model->parameters());
  ASSERT_EQ(params.dtype(), DType::F64);
  const Tensor start = params.params().clone(ctx);
  const Tensor src = rand64(ctx, {2, 64, 64, 3}, 0, 1), dst = rand64(ctx, {2, 64, 64, 3}, 0, 1);
  const Tensor msk = rand64(ctx, {2, 64, 64, 1}, 0, 1);
  const SaehdLossConfig lc = SaehdLossConfig::for_resolution(64);

  auto run = [&](std::optional<DType> compute, bool cast_once = false) {
    ComputeDtypeGuard g(ctx, compute);
    Tensor flat = params.params();
    flat.copy_from(ctx, start);
    params.zero_grad(ctx);
    AdaBeliefOptions ao;
    ao.lr = 1e-3;
    AdaBelief opt(ctx, params, ao);
    std::optional<MasterCastScope> scope;
    if (cast_once) scope.emplace(ctx, params);
    SaehdPredictions p = model->train_forward(ctx, src, dst);
    for (const Tensor& t : {p.src_src.image, p.src_src.mask, p.dst_dst.image, p.dst_dst.mask})
      EXPECT_EQ(t.dtype(), DType::F64) << "outputs come back in the batch's dtype";
    SaehdRun r;
    r.casts = cast_nodes(ctx);
    Tensor ls = saehd_side_loss(ctx, lc, src, p.src_src.image, p.src_src.mask, msk).total;
    Tensor ld = saehd_side_loss(ctx, lc, dst, p.dst_dst.image, p.dst_dst.mask, msk).total;
    Tensor obj = saehd_objective(ctx, ls, ld);
    EXPECT_EQ(obj.dtype(), DType::F64) << "the loss and its reduction stay in the masters' dtype";
    r.loss = obj.to_double(ctx)[0];
    backward(ctx, obj);
    scope.reset();
    EXPECT_TRUE(ctx.master_casts.empty()) << "the scope clears the casts it made";
    EXPECT_EQ(params.grads().dtype(), DType::F64);
    r.grads = params.grads().to_double(ctx);
    opt.step(ctx);
    const std::vector<double> before = start.to_double(ctx), after = params.params().to_double(ctx);
    for (size_t i = 0; i < after.size(); ++i) r.update.push_back(after[i] - before[i]);
    return r;
  };

  const SaehdRun ref = run(std::nullopt), mix = run(DType::F32), once = run(DType::F32, true);
  EXPECT_EQ(ref.casts, 0u) << "no compute dtype: nothing is cast";
  EXPECT_GT(mix.casts, 0u);
  // (a) the loss, to float tolerance (and not bit-equal: the f32 path really ran)
  EXPECT_NEAR(mix.loss, ref.loss, 1e-6 * std::fabs(ref.loss)) << archi;
  EXPECT_NE(mix.loss, ref.loss);
  // (b) every parameter's f64 gradient, to float tolerance relative to that parameter's largest
  for (size_t i = 0; i < params.size(); ++i) {
    const int64_t off = params.offset(i), n = params.tensors()[i].numel();
    const std::vector<double> a(mix.grads.begin() + off, mix.grads.begin() + off + n),
        b(ref.grads.begin() + off, ref.grads.begin() + off + n);
    EXPECT_LE(rel_max_error(a, b), 1e-5) << archi << " " << params.tensors()[i].name();
  }
  // (c) the optimizer step moved the f64 masters, as the f64 run's step did
  double moved = 0, diff = 0, norm = 0;
  for (size_t i = 0; i < ref.update.size(); ++i) {
    moved = std::max(moved, std::fabs(mix.update[i]));
    diff += (mix.update[i] - ref.update[i]) * (mix.update[i] - ref.update[i]);
    norm += ref.update[i] * ref.update[i];
  }
  EXPECT_GT(moved, 1e-4);
  EXPECT_LT(std::sqrt(diff / norm), 1e-4) << archi;
  // (d) casting the masters once per step (MasterCastScope) changes no bit of any of it
  EXPECT_EQ(once.casts, mix.casts) << "every use of a master is still a cast node";
  EXPECT_EQ(once.loss, mix.loss);
  EXPECT_EQ(once.grads, mix.grads);
  EXPECT_EQ(once.update, mix.update);
}

INSTANTIATE_TEST_SUITE_P(Archis, MixedPrecisionSaehd, ::testing::Values("df-ud", "liae-udt"),
                         [](const ::testing::TestParamInfo<const char*>& info) {
                           std::string n = info.param;
                           for (char& ch : n)
                             if (ch == '-') ch = '_';
                           return n;
                         });
