// Optimizers and the flat parameter buffer.
//  - Each optimizer's CPU path against a scalar double reimplementation of its formulas
//    (DFL's core/leras/optimizers/AdaBelief.py, RMSprop.py; torch.optim.Adam), 5 steps, plain and with every option on.
//  - lr_dropout keeps ~30% of the updates and is a pure function of (seed, offset).
//  - Clipping scales the gradient to the clip norm (and leaves small gradients alone).
//  - ParameterBuffer views alias the flat buffers; backward accumulates into them.
//  - Saving and restoring state_tensors() continues a run bit-identically.
//  - Gpu*: CUDA kernels against the CPU path (SKIPPED without a device).
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <iostream>
#include <memory>
#include <random>

#include "engine/autograd/tape.h"
#include "engine/core/context.h"
#include "engine/core/error.h"
#include "engine/ops/elementwise.h"
#include "engine/ops/linear.h"
#include "engine/optim/optimizer.h"
#include "engine/optim/parameter_buffer.h"
#include "facet_config.h"
#include "kernels/common/philox.h"
#include "kernels/cpu/optimizers.h"
#if FACET_HAS_CUDA
#include "kernels/cuda/optimizers.h"
#include "kernels/cuda/runtime.h"
#endif

using namespace facet;

namespace {

enum class Kind { Adam, AdaBelief, RMSprop };
const char* kind_name(Kind k) { return k == Kind::Adam ? "Adam" : k == Kind::AdaBelief ? "AdaBelief" : "RMSprop"; }

const std::vector<Shape> kShapes = {{7, 5}, {13}, {3, 3, 2}, {1}};

std::vector<float> random_vec(size_t n, uint32_t seed, double lo, double hi) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(lo, hi);
  std::vector<float> v(n);
  for (auto& x : v) x = static_cast<float>(u(rng));
  return v;
}

// A model's worth of parameters in a ParameterBuffer on `dev`, with deterministic start values.
struct Rig {
  std::vector<Tensor> params;
  std::unique_ptr<ParameterBuffer> buf;
  Rig(Context& ctx, Device dev, const std::vector<Shape>& shapes = kShapes) {
    uint32_t s = 1;
    for (const Shape& sh : shapes) {
      auto v = random_vec(static_cast<size_t>(numel(sh)), 100 + s++, -1.0, 1.0);
      params.push_back(Tensor::from_vector(ctx, sh, v, DType::F32, dev));
    }
    buf = std::make_unique<ParameterBuffer>(ctx, params);
  }
  // Gradients for step `step` (flat layout, padding zero), written into the flat buffer.
  std::vector<float> set_grads(Context& ctx, int step, double magnitude = 1.0) {
    std::vector<float> flat(static_cast<size_t>(buf->numel()), 0.f);
    for (size_t i = 0; i < buf->size(); ++i) {
      auto v = random_vec(static_cast<size_t>(buf->tensors()[i].numel()), 1000 * step + static_cast<uint32_t>(i),
                          -magnitude, magnitude);
      std::copy(v.begin(), v.end(), flat.begin() + buf->offset(i));
    }
    Tensor host = Tensor::from_vector(ctx, {buf->numel()}, flat, DType::F32, Device::cpu());
    Tensor g = buf->grads();
    g.copy_from(ctx, host);
    return flat;
  }
};

std::unique_ptr<Optimizer> make_opt(Kind k, Context& ctx, ParameterBuffer& buf, const OptimizerOptions& base) {
  switch (k) {
    case Kind::Adam: {
      AdamOptions o;
      static_cast<OptimizerOptions&>(o) = base;
      return std::make_unique<Adam>(ctx, buf, o);
    }
    case Kind::AdaBelief: {
      AdaBeliefOptions o;
      static_cast<OptimizerOptions&>(o) = base;
      return std::make_unique<AdaBelief>(ctx, buf, o);
    }
    case Kind::RMSprop: {
      RMSpropOptions o;
      static_cast<OptimizerOptions&>(o) = base;
      return std::make_unique<RMSprop>(ctx, buf, o);
    }
  }
  return nullptr;
}

// The formulas, in double, written from DFL's and PyTorch's update rules (not from the kernels).
struct Reference {
  Kind kind;
  OptimizerOptions opt;
  std::vector<double> w, m, v;
  int64_t iters = 0;

  void step(const std::vector<float>& gf, uint64_t seed, uint64_t offset) {
    const size_t n = w.size();
    double lr = opt.lr;
    if (opt.lr_cos > 0) lr *= (std::cos(iters * (2 * 3.1415926535 / opt.lr_cos)) + 1.0) / 2.0;
    double scale = 1.0;
    if (opt.clipnorm > 0) {
      double ss = 0;
      for (float x : gf) ss += double(x) * double(x);
      const double norm = std::sqrt(ss);
      if (norm >= opt.clipnorm) scale = opt.clipnorm / norm;
    }
    const int64_t t = iters + 1;
    for (size_t i = 0; i < n; ++i) {
      const double g = double(gf[i]) * scale;
      double upd = 0;
      switch (kind) {
        case Kind::Adam: {
          m[i] = 0.9 * m[i] + 0.1 * g;
          v[i] = 0.999 * v[i] + 0.001 * g * g;
          const double mh = m[i] / (1 - std::pow(0.9, double(t))), vh = v[i] / (1 - std::pow(0.999, double(t)));
          upd = lr * mh / (std::sqrt(vh) + 1e-8);
          break;
        }
        case Kind::AdaBelief:
          m[i] = 0.9 * m[i] + 0.1 * g;
          v[i] = 0.999 * v[i] + 0.001 * (g - m[i]) * (g - m[i]);
          upd = lr * m[i] / (std::sqrt(v[i]) + 1e-6);
          break;
        case Kind::RMSprop:
          m[i] = 0.9 * m[i] + 0.1 * g * g;
          upd = lr * g / (std::sqrt(m[i]) + 1e-6);
          break;
      }
      const bool keep = !opt.lr_dropout || philox_uniform(seed, offset + i) < opt.lr_dropout_keep;
      if (keep) w[i] -= upd;
    }
    ++iters;
  }
};

double max_abs_diff(const std::vector<double>& a, const std::vector<double>& b) {
  double d = 0;
  for (size_t i = 0; i < a.size(); ++i) d = std::max(d, std::fabs(a[i] - b[i]));
  return d;
}

void check_against_reference(Kind kind, const OptimizerOptions& opt, int steps = 5) {
  Context ctx(Device::cpu(), 1234);
  ctx.set_rng_state(1234, 40);  // a non-zero start offset
  Rig rig(ctx, Device::cpu());
  auto opt_ptr = make_opt(kind, ctx, *rig.buf, opt);
  Reference ref{kind, opt, rig.buf->params().to_double(ctx), {}, {}, 0};
  ref.m.assign(ref.w.size(), 0.0);
  ref.v.assign(ref.w.size(), 0.0);
  double max_update = 0;
  for (int s = 0; s < steps; ++s) {
    auto g = rig.set_grads(ctx, s, 2.0);
    const uint64_t off = ctx.rng_offset();
    auto before = rig.buf->params().to_double(ctx);
    opt_ptr->step(ctx);
    ref.step(g, ctx.seed(), off);
    max_update = std::max(max_update, max_abs_diff(rig.buf->params().to_double(ctx), before));
  }
  EXPECT_EQ(opt_ptr->iteration(), steps);
  EXPECT_GT(max_update, 0.1 * opt.lr) << "the weights did not move";
  auto w = rig.buf->params().to_double(ctx);
  // |w| <= ~1: float rounding of w is ~6e-8 per step; the update itself is accurate to ~1e-6 lr.
  EXPECT_LE(max_abs_diff(w, ref.w), 1e-6) << kind_name(kind);
  auto st = opt_ptr->state_tensors();
  if (kind == Kind::RMSprop) {
    auto a = st.at("a").to_double(ctx);
    for (size_t i = 0; i < a.size(); ++i) ASSERT_NEAR(a[i], ref.m[i], 1e-5 * std::fabs(ref.m[i]) + 1e-12) << i;
  } else {
    auto m = st.at("m").to_double(ctx), v = st.at("v").to_double(ctx);
    for (size_t i = 0; i < m.size(); ++i) {
      ASSERT_NEAR(m[i], ref.m[i], 1e-5 * std::fabs(ref.m[i]) + 1e-9) << kind_name(kind) << " m " << i;
      ASSERT_NEAR(v[i], ref.v[i], 1e-5 * std::fabs(ref.v[i]) + 1e-12) << kind_name(kind) << " v " << i;
    }
  }
  // Padding between tensors never moves.
  for (size_t i = 0; i + 1 < rig.buf->size(); ++i)
    for (int64_t j = rig.buf->offset(i) + rig.buf->tensors()[i].numel(); j < rig.buf->offset(i + 1); ++j)
      ASSERT_EQ(w[static_cast<size_t>(j)], 0.0);
}

OptimizerOptions plain(double lr) {
  OptimizerOptions o;
  o.lr = lr;
  return o;
}
OptimizerOptions all_options(double lr) {
  OptimizerOptions o;
  o.lr = lr;
  o.lr_dropout = true;
  o.lr_cos = 7;        // a short period so 5 steps see different rates
  o.clipnorm = 0.5;    // the random gradients have norm ~ 10: always clipped
  return o;
}

}  // namespace

TEST(Optimizers, AdamMatchesDoubleReference) { check_against_reference(Kind::Adam, plain(1e-2)); }
TEST(Optimizers, AdaBeliefMatchesDoubleReference) { check_against_reference(Kind::AdaBelief, plain(1e-2)); }
TEST(Optimizers, RMSpropMatchesDoubleReference) { check_against_reference(Kind::RMSprop, plain(1e-2)); }
TEST(Optimizers, AdamAllOptionsMatchDoubleReference) { check_against_reference(Kind::Adam, all_options(1e-2)); }
TEST(Optimizers, AdaBeliefAllOptionsMatchDoubleReference) { check_against_reference(Kind::AdaBelief, all_options(1e-2)); }
TEST(Optimizers, RMSpropAllOptionsMatchDoubleReference) { check_against_reference(Kind::RMSprop, all_options(1e-2)); }

TEST(Optimizers, DoubleKernelMatchesReferenceTightly) {
  // The double instantiation with the same (float-rounded) constants is the formula itself.
  const int64_t n = 37;
  auto wf = random_vec(n, 1, -1, 1), gf = random_vec(n, 2, -1, 1);
  std::vector<double> w(wf.begin(), wf.end()), g(gf.begin(), gf.end()), m(n, 0.0), v(n, 0.0);
  OptimHyper h;
  h.lr = 0.01f;
  for (int s = 0; s < 5; ++s) cpu::adabelief_step<double>(w.data(), g.data(), m.data(), v.data(), n, h, 1.0);
  std::vector<double> rw(wf.begin(), wf.end()), rm(n, 0.0), rv(n, 0.0);
  for (int s = 0; s < 5; ++s)
    for (int64_t i = 0; i < n; ++i) {
      rm[i] = double(h.beta1) * rm[i] + double(h.one_minus_beta1) * g[i];
      const double d = g[i] - rm[i];
      rv[i] = double(h.beta2) * rv[i] + double(h.one_minus_beta2) * d * d;
      rw[i] -= double(h.lr) * rm[i] / (std::sqrt(rv[i]) + double(h.eps));
    }
  EXPECT_LE(max_abs_diff(w, rw), 1e-14);
}

TEST(Optimizers, LrCosFollowsDfl) {
  Context ctx;
  Rig rig(ctx, Device::cpu());
  AdaBelief opt(ctx, *rig.buf, [] {
    AdaBeliefOptions o;
    static_cast<OptimizerOptions&>(o) = dfl_options(5e-5, true, false);
    return o;
  }());
  EXPECT_EQ(opt.options().lr_cos, 500);
  EXPECT_DOUBLE_EQ(opt.current_lr(), 5e-5);
  opt.set_iteration(125);
  EXPECT_NEAR(opt.current_lr(), 2.5e-5, 1e-12);
  opt.set_iteration(250);
  EXPECT_NEAR(opt.current_lr(), 0.0, 1e-12);
  opt.set_iteration(500);
  EXPECT_NEAR(opt.current_lr(), 5e-5, 1e-12);
  EXPECT_EQ(dfl_options(5e-5, false, true).lr_cos, 0);
  EXPECT_EQ(dfl_options(5e-5, false, true).clipnorm, 1.0);
}

TEST(Optimizers, LrDropoutKeepsThirtyPercentAndIsReproducible) {
  const int64_t n = 200000;
  std::vector<float> mask(n), again(n), other(n);
  cpu::lr_dropout_mask<float>(mask.data(), n, 0.3f, 77, 1000);
  cpu::lr_dropout_mask<float>(again.data(), n, 0.3f, 77, 1000);
  cpu::lr_dropout_mask<float>(other.data(), n, 0.3f, 77, 1000 + static_cast<uint64_t>(n));
  double kept = 0, same_other = 0;
  for (int64_t i = 0; i < n; ++i) {
    kept += mask[i];
    same_other += mask[i] == other[i];
    ASSERT_EQ(mask[i], again[i]);
    ASSERT_EQ(mask[i] == 1.f, philox_uniform(77, 1000 + static_cast<uint64_t>(i)) < 0.3f) << i;
  }
  const double p = kept / n, sigma = std::sqrt(0.3 * 0.7 / n);
  EXPECT_NEAR(p, 0.3, 6 * sigma);
  // Independent masks agree on p^2 + (1-p)^2 = 58% of the elements.
  EXPECT_NEAR(same_other / n, 0.58, 0.01);
  // An unaligned offset gives the same numbers as the aligned stream shifted.
  std::vector<float> shifted(n - 3);
  cpu::lr_dropout_mask<float>(shifted.data(), n - 3, 0.3f, 77, 1003);
  for (int64_t i = 0; i < n - 3; ++i) ASSERT_EQ(shifted[i], mask[i + 3]) << i;
}

TEST(Optimizers, LrDropoutThroughOptimizer) {
  // One step over 50k weights: ~30% move, and a second run from the same (seed, offset) moves the
  // same ones by the same amounts.
  auto run = [](std::vector<double>& before, std::vector<double>& after) {
    Context ctx(Device::cpu(), 99);
    Rig rig(ctx, Device::cpu(), {{250, 200}});
    OptimizerOptions o;
    o.lr = 1e-3;
    o.lr_dropout = true;
    auto opt = make_opt(Kind::RMSprop, ctx, *rig.buf, o);
    rig.set_grads(ctx, 0, 1.0);
    before = rig.buf->params().to_double(ctx);
    opt->step(ctx);
    after = rig.buf->params().to_double(ctx);
  };
  std::vector<double> b1, a1, b2, a2;
  run(b1, a1);
  run(b2, a2);
  EXPECT_EQ(a1, a2);
  double moved = 0;
  for (size_t i = 0; i < a1.size(); ++i) moved += a1[i] != b1[i];
  const double n = 250.0 * 200.0;
  EXPECT_NEAR(moved / n, 0.3, 6 * std::sqrt(0.21 / n));
}

TEST(Optimizers, ClippingScalesToTheNorm) {
  for (Kind k : {Kind::Adam, Kind::AdaBelief, Kind::RMSprop}) {
    Context ca, cb;
    Rig ra(ca, Device::cpu()), rb(cb, Device::cpu());
    OptimizerOptions clip = plain(1e-2);
    clip.clipnorm = 1.0;
    auto oa = make_opt(k, ca, *ra.buf, clip);
    auto ob = make_opt(k, cb, *rb.buf, plain(1e-2));
    for (int s = 0; s < 3; ++s) {
      auto g = ra.set_grads(ca, s, 3.0);
      double ss = 0;
      for (float x : g) ss += double(x) * double(x);
      const double norm = std::sqrt(ss);
      ASSERT_GT(norm, 1.0);
      // B gets the gradient pre-scaled exactly as the kernel scales it (in float).
      const float scale = static_cast<float>(1.0 / norm);
      for (auto& x : g) x = x * scale;
      Tensor host = Tensor::from_vector(cb, {rb.buf->numel()}, g, DType::F32, Device::cpu());
      Tensor gb = rb.buf->grads();
      gb.copy_from(cb, host);
      oa->step(ca);
      ob->step(cb);
      EXPECT_NEAR(oa->last_grad_norm(ca), norm, 1e-9 * norm);
    }
    EXPECT_EQ(ra.buf->params().to_double(ca), rb.buf->params().to_double(cb)) << kind_name(k);
    auto sa = oa->state_tensors(), sb = ob->state_tensors();
    for (auto& [name, t] : sa) EXPECT_EQ(t.to_double(ca), sb.at(name).to_double(cb)) << kind_name(k) << " " << name;
  }
}

// A frozen range (LIAE's inter_AB without random warp) keeps its weights and optimizer state
// exactly, its gradients count in no clipping norm, and everything else still moves.
TEST(Optimizers, FrozenRangeKeepsWeightsStateAndStaysOutOfTheNorm) {
  for (Kind k : {Kind::Adam, Kind::AdaBelief, Kind::RMSprop}) {
    Context ctx;
    Rig r(ctx, Device::cpu());
    auto o = make_opt(k, ctx, *r.buf, all_options(1e-2));
    const auto [begin, end] = r.buf->range_of({r.buf->tensors()[1]});
    EXPECT_EQ(begin, 64);  // after {7,5}, padded to 64
    EXPECT_EQ(end, 128);   // {13}, padded
    o->freeze(begin, end);
    const auto w0 = r.buf->params().to_double(ctx);
    for (int s = 0; s < 4; ++s) {
      const auto g = r.set_grads(ctx, s, 3.0);
      double ss = 0;
      for (size_t i = 0; i < g.size(); ++i)
        if (static_cast<int64_t>(i) < begin || static_cast<int64_t>(i) >= end) ss += double(g[i]) * double(g[i]);
      o->step(ctx);
      EXPECT_NEAR(o->last_grad_norm(ctx), std::sqrt(ss), 1e-9 * std::sqrt(ss)) << kind_name(k);
    }
    const auto w1 = r.buf->params().to_double(ctx);
    int moved = 0;
    for (size_t i = 0; i < w1.size(); ++i) {
      if (static_cast<int64_t>(i) >= begin && static_cast<int64_t>(i) < end)
        ASSERT_EQ(w1[i], w0[i]) << kind_name(k) << " frozen element " << i;
      else
        moved += w1[i] != w0[i];
    }
    EXPECT_GT(moved, 40) << kind_name(k);
    for (auto& [name, t] : o->state_tensors()) {
      if (name == "iterations") continue;
      const auto v = t.to_double(ctx);
      for (int64_t i = begin; i < end; ++i) ASSERT_EQ(v[static_cast<size_t>(i)], 0.0) << name << " " << i;
    }
    EXPECT_THROW(o->freeze(1, 64), Error);
    EXPECT_THROW(o->freeze(0, r.buf->numel() + 4), Error);
    o->freeze(0, 0);  // unfreezes
    r.set_grads(ctx, 9, 3.0);
    o->step(ctx);
    const auto w2 = r.buf->params().to_double(ctx);
    int thawed = 0;  // lr_dropout keeps ~30 % of the updates: some of the 13 elements move
    for (int64_t i = begin; i < begin + 13; ++i) thawed += w2[static_cast<size_t>(i)] != w1[static_cast<size_t>(i)];
    EXPECT_GT(thawed, 0) << kind_name(k);
  }
  Context ctx;
  Rig a(ctx, Device::cpu()), b(ctx, Device::cpu());
  EXPECT_THROW(a.buf->range_of({b.buf->tensors()[0]}), Error) << "not in this buffer";
  EXPECT_THROW(a.buf->range_of({a.buf->tensors()[0], a.buf->tensors()[2]}), Error) << "not consecutive";
}

TEST(Optimizers, SmallGradientIsNotClipped) {
  Context ca, cb;
  Rig ra(ca, Device::cpu()), rb(cb, Device::cpu());
  OptimizerOptions clip = plain(1e-2);
  clip.clipnorm = 100.0;
  auto oa = make_opt(Kind::AdaBelief, ca, *ra.buf, clip);
  auto ob = make_opt(Kind::AdaBelief, cb, *rb.buf, plain(1e-2));
  ra.set_grads(ca, 0, 1.0);
  rb.set_grads(cb, 0, 1.0);
  oa->step(ca);
  ob->step(cb);
  EXPECT_EQ(ra.buf->params().to_double(ca), rb.buf->params().to_double(cb));
  EXPECT_DOUBLE_EQ(cpu::clip_scale(2.0, 1.0), 0.5);
  EXPECT_DOUBLE_EQ(cpu::clip_scale(1.0, 1.0), 1.0);  // norm == c: c / norm = 1
  EXPECT_DOUBLE_EQ(cpu::clip_scale(0.5, 1.0), 1.0);
  EXPECT_DOUBLE_EQ(cpu::clip_scale(5.0, 0.0), 1.0);  // off
}

TEST(ParameterBuffer, ViewsAliasTheFlatBuffers) {
  Context ctx;
  Tensor a = Tensor::from_vector(ctx, {3, 4}, random_vec(12, 5, -1, 1));
  Tensor b = Tensor::from_vector(ctx, {5}, random_vec(5, 6, -1, 1));
  Tensor a_alias = a;  // another handle on the same impl
  const auto a0 = a.to_double(ctx), b0 = b.to_double(ctx);
  ParameterBuffer buf(ctx, {a, b, a});  // duplicates are taken once
  ASSERT_EQ(buf.size(), 2u);
  EXPECT_EQ(buf.param_count(), 17);
  EXPECT_EQ(buf.offset(0), 0);
  EXPECT_EQ(buf.offset(1), ParameterBuffer::kAlign);
  EXPECT_EQ(buf.numel(), 2 * ParameterBuffer::kAlign);
  EXPECT_TRUE(a.same_storage(buf.params()) && b.same_storage(buf.params()) && a_alias.same_storage(buf.params()));
  EXPECT_TRUE(a.is_param() && a.requires_grad());
  EXPECT_EQ(a.to_double(ctx), a0);  // values were copied in
  EXPECT_EQ(b.to_double(ctx), b0);
  float* flat = buf.params().data_as<float>();
  // Writing through a parameter handle changes the flat buffer, and the other way round.
  a.data_as<float>()[5] = 42.f;
  EXPECT_EQ(flat[5], 42.f);
  b.data_as<float>()[2] = -7.f;
  EXPECT_EQ(flat[ParameterBuffer::kAlign + 2], -7.f);
  flat[ParameterBuffer::kAlign + 4] = 3.5f;
  EXPECT_EQ(b.to_double(ctx)[4], 3.5);
  EXPECT_EQ(a_alias.data_as<float>()[5], 42.f);
  // Gradients are views of the flat gradient buffer.
  ASSERT_TRUE(a.grad().defined());
  EXPECT_TRUE(a.grad().same_storage(buf.grads()));
  b.grad().data_as<float>()[1] = 9.f;
  EXPECT_EQ(buf.grads().data_as<float>()[ParameterBuffer::kAlign + 1], 9.f);
  EXPECT_EQ(buf.view_of(buf.grads(), 1).data_as<float>()[1], 9.f);
  buf.zero_grad(ctx);
  EXPECT_EQ(b.grad().data_as<float>()[1], 0.f);
}

TEST(ParameterBuffer, BackwardAccumulatesIntoFlatGradients) {
  Context ctx;
  Tensor w = Tensor::from_vector(ctx, {3, 2}, std::vector<float>{1, 2, 3, 4, 5, 6});
  Tensor bias = Tensor::from_vector(ctx, {2}, std::vector<float>{0.5f, -0.5f});
  ParameterBuffer buf(ctx, {w, bias});
  Tensor x = Tensor::from_vector(ctx, {2, 3}, std::vector<float>{1, 0, 2, -1, 3, 1});
  for (int round = 1; round <= 2; ++round) {
    backward(ctx, sum(ctx, dense(ctx, x, w, bias)));
    // d/dw[i][j] = sum_r x[r][i]; d/db = rows
    const float* g = buf.grads().data_as<float>();
    EXPECT_FLOAT_EQ(g[0], 0.f * round);
    EXPECT_FLOAT_EQ(g[2], 3.f * round);
    EXPECT_FLOAT_EQ(g[4], 3.f * round);
    EXPECT_FLOAT_EQ(g[ParameterBuffer::kAlign + 1], 2.f * round);
  }
  buf.zero_grad(ctx);
  EXPECT_EQ(w.grad().to_double(ctx), std::vector<double>(6, 0.0));
}

TEST(ParameterBuffer, RefusesNonF32Masters) {
  // bf16 is a compute dtype, never a master. f64 masters exist only on the CPU (mixed-precision
  // reference tests run f32 compute over them) and are never mixed with f32 ones.
  Context ctx;
  Tensor h = Tensor::zeros(ctx, {3}, DType::BF16);
  EXPECT_THROW(ParameterBuffer pb(ctx, std::vector<Tensor>{h}), Error);
  Tensor d = Tensor::zeros(ctx, {3}, DType::F64), f = Tensor::zeros(ctx, {3}, DType::F32);
  EXPECT_THROW(ParameterBuffer pb(ctx, std::vector<Tensor>{f, d}), Error);
  EXPECT_THROW(ParameterBuffer pb(ctx, std::vector<Tensor>{}), Error);
  ParameterBuffer pb64(ctx, std::vector<Tensor>{d});
  EXPECT_EQ(pb64.dtype(), DType::F64);
  EXPECT_EQ(pb64.grads().dtype(), DType::F64);
}

TEST(Optimizers, StateRestoreContinuesBitIdentically) {
  for (Kind k : {Kind::Adam, Kind::AdaBelief, Kind::RMSprop}) {
    Context ctx(Device::cpu(), 5);
    Rig rig(ctx, Device::cpu());
    auto opt = make_opt(k, ctx, *rig.buf, all_options(1e-2));
    for (int s = 0; s < 3; ++s) {
      rig.set_grads(ctx, s);
      opt->step(ctx);
    }
    // "Checkpoint": parameters, optimizer state, RNG state.
    Tensor saved_w = rig.buf->params().clone(ctx);
    std::map<std::string, Tensor> saved;
    for (auto& [name, t] : opt->state_tensors()) saved[name] = t.clone(ctx);
    const uint64_t rng = ctx.rng_offset();
    for (int s = 3; s < 5; ++s) {
      rig.set_grads(ctx, s);
      opt->step(ctx);
    }
    auto w_straight = rig.buf->params().to_double(ctx);
    // A fresh optimizer over a fresh buffer, restored.
    Context ctx2(Device::cpu(), 5);
    Rig rig2(ctx2, Device::cpu());
    auto opt2 = make_opt(k, ctx2, *rig2.buf, all_options(1e-2));
    Tensor p2 = rig2.buf->params();
    p2.copy_from(ctx2, saved_w);
    for (auto& [name, t] : opt2->state_tensors()) t.copy_from(ctx2, saved.at(name));
    EXPECT_EQ(opt2->iteration(), 3);
    ctx2.set_rng_state(5, rng);
    for (int s = 3; s < 5; ++s) {
      rig2.set_grads(ctx2, s);
      opt2->step(ctx2);
    }
    EXPECT_EQ(rig2.buf->params().to_double(ctx2), w_straight) << kind_name(k);
  }
}

// ---- GPU parity (SKIPPED without a CUDA device) ----

namespace {

void gpu_parity(Kind kind, const OptimizerOptions& opt, int frozen_tensor = -1) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  Context cc(Device::cpu(), 31), gc(Device::cuda(0), 31);
  const std::vector<Shape> shapes = {{123, 45}, {1001}, {3, 3, 7, 5}, {1}};
  Rig rc(cc, Device::cpu(), shapes), rg(gc, Device::cuda(0), shapes);
  auto oc = make_opt(kind, cc, *rc.buf, opt), og = make_opt(kind, gc, *rg.buf, opt);
  if (frozen_tensor >= 0) {
    const auto [b, e] = rc.buf->range_of({rc.buf->tensors()[static_cast<size_t>(frozen_tensor)]});
    oc->freeze(b, e);
    og->freeze(b, e);
  }
  for (int s = 0; s < 5; ++s) {
    rc.set_grads(cc, s, 2.0);
    rg.set_grads(gc, s, 2.0);
    const auto bc = rc.buf->params().to_double(cc), bg = rg.buf->params().to_double(gc);
    oc->step(cc);
    og->step(gc);
    if (opt.clipnorm > 0) EXPECT_NEAR(og->last_grad_norm(gc), oc->last_grad_norm(cc), 1e-6 * oc->last_grad_norm(cc));
    // The same weights move on both devices (the lr_dropout mask is the same Philox stream).
    const auto ac = rc.buf->params().to_double(cc), ag = rg.buf->params().to_double(gc);
    for (size_t i = 0; i < ac.size(); ++i)
      ASSERT_EQ(ac[i] != bc[i], ag[i] != bg[i]) << kind_name(kind) << " step " << s << " element " << i;
  }
  EXPECT_EQ(cc.rng_offset(), gc.rng_offset());
  auto wc = rc.buf->params().to_double(cc), wg = rg.buf->params().to_double(gc);
  size_t exact = 0;
  for (size_t i = 0; i < wc.size(); ++i) exact += wc[i] == wg[i];
  // The kernels use the same float operations in the same order as the CPU reference, so most
  // weights agree bit for bit (a host compiler that contracts to FMA or a clip scale rounded the
  // other way costs an ulp here and there): the bound is a few ulps of |w| <= ~1.
  EXPECT_LE(max_abs_diff(wg, wc), 1e-6) << kind_name(kind);
  auto sc = oc->state_tensors(), sg = og->state_tensors();
  for (auto& [name, t] : sc) {
    if (name == "iterations") continue;
    auto a = sg.at(name).to_double(gc), b = t.to_double(cc);
    for (size_t i = 0; i < a.size(); ++i) ASSERT_NEAR(a[i], b[i], 1e-5 * std::fabs(b[i]) + 1e-12) << name << " " << i;
  }
  std::cout << "[ parity ] " << kind_name(kind) << ": " << exact << "/" << wc.size()
            << " weights bit-identical, max |gpu-cpu| = " << max_abs_diff(wg, wc) << "\n";
}

}  // namespace

TEST(GpuOptimizers, AdamMatchesCpu) { gpu_parity(Kind::Adam, plain(1e-2)); }
TEST(GpuOptimizers, AdaBeliefMatchesCpu) { gpu_parity(Kind::AdaBelief, plain(1e-2)); }
TEST(GpuOptimizers, RMSpropMatchesCpu) { gpu_parity(Kind::RMSprop, plain(1e-2)); }
TEST(GpuOptimizers, AdamAllOptionsMatchCpu) { gpu_parity(Kind::Adam, all_options(1e-2)); }
TEST(GpuOptimizers, AdaBeliefAllOptionsMatchCpu) { gpu_parity(Kind::AdaBelief, all_options(1e-2)); }
TEST(GpuOptimizers, RMSpropAllOptionsMatchCpu) { gpu_parity(Kind::RMSprop, all_options(1e-2)); }
TEST(GpuOptimizers, FrozenRangeMatchesCpu) {
  for (Kind k : {Kind::Adam, Kind::AdaBelief, Kind::RMSprop}) gpu_parity(k, all_options(1e-2), 1);
}

TEST(GpuOptimizers, KernelTailUnalignedAndOddOffset) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
#if FACET_HAS_CUDA
  // Raw kernel calls: n not a multiple of 4, pointers off 16-byte alignment, odd Philox offset.
  Context gc(Device::cuda(0));
  const int64_t n = 1001;
  for (int shift : {0, 1}) {
    auto w = random_vec(n + 1, 1, -1, 1), g = random_vec(n + 1, 2, -1, 1);
    std::vector<float> m(n + 1, 0.f), v(n + 1, 0.f);
    Tensor dw = Tensor::from_vector(gc, {n + 1}, w, DType::F32, Device::cuda(0));
    Tensor dg = Tensor::from_vector(gc, {n + 1}, g, DType::F32, Device::cuda(0));
    Tensor dm = Tensor::zeros(gc, {n + 1}, DType::F32, Device::cuda(0));
    Tensor dv = Tensor::zeros(gc, {n + 1}, DType::F32, Device::cuda(0));
    OptimHyper h;
    h.lr = 0.01f;
    h.keep_prob = 0.3f;
    h.seed = 7;
    h.offset = 13;
    for (int s = 0; s < 3; ++s) {
      cpu::adabelief_step<float>(w.data() + shift, g.data() + shift, m.data() + shift, v.data() + shift, n, h, 1.f);
      cuda::adabelief_step(dw.data_as<float>() + shift, dg.data_as<float>() + shift, dm.data_as<float>() + shift,
                           dv.data_as<float>() + shift, n, h, nullptr, gc.cuda_handles().stream);
      h.offset += n;
    }
    auto gw = dw.to_float(gc), gm = dm.to_float(gc);
    size_t exact = 0;
    for (int64_t i = 0; i < n + 1; ++i) {
      ASSERT_NEAR(gw[i], w[i], 1e-6) << "shift " << shift << " element " << i;
      ASSERT_NEAR(gm[i], m[i], 1e-6 * std::fabs(m[i]) + 1e-12) << "shift " << shift << " element " << i;
      exact += gw[i] == w[i];
    }
    std::cout << "[ parity ] raw AdaBelief kernel, shift " << shift << ": " << exact << "/" << n + 1
              << " weights bit-identical\n";
  }
#endif
}
