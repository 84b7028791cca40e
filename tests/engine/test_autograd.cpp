// Tape semantics: no_grad, accumulation, graph release, parameters, errors.
#include <gtest/gtest.h>

#include "engine/autograd/tape.h"
#include "engine/core/context.h"
#include "engine/core/error.h"
#include "engine/ops/elementwise.h"

using namespace facet;

namespace {
Tensor vec(Context& ctx, std::vector<double> v) {
  return Tensor::from_vector(ctx, {static_cast<int64_t>(v.size())}, v, DType::F64).set_requires_grad(true);
}
}  // namespace

TEST(Autograd, NoGradRecordsNothing) {
  Context ctx;
  Tensor x = vec(ctx, {1, 2, 3});
  {
    NoGradGuard g(ctx);
    Tensor y = mul(ctx, x, x);
    EXPECT_FALSE(y.requires_grad());
  }
  EXPECT_EQ(ctx.tape().size(), 0u);
  Tensor y = mul(ctx, x, x);
  EXPECT_TRUE(y.requires_grad());
  EXPECT_EQ(ctx.tape().size(), 1u);
}

TEST(Autograd, BackwardReleasesGraphAndAccumulatesIntoLeaves) {
  Context ctx;
  Tensor x = vec(ctx, {1, 2, 3});
  for (int round = 1; round <= 2; ++round) {
    Tensor loss = sum(ctx, square(ctx, x));  // d/dx = 2x
    backward(ctx, loss);
    EXPECT_EQ(ctx.tape().size(), 0u);
    auto g = x.grad().to_double(ctx);
    EXPECT_DOUBLE_EQ(g[0], 2.0 * round);
    EXPECT_DOUBLE_EQ(g[2], 6.0 * round);
  }
}

TEST(Autograd, FanOutSumsGradients) {
  Context ctx;
  Tensor x = vec(ctx, {0.5, -1.5});
  Tensor y = add(ctx, mul_scalar(ctx, x, 3.0), x);  // 4x
  backward(ctx, sum(ctx, y));
  EXPECT_DOUBLE_EQ(x.grad().to_double(ctx)[1], 4.0);
}

TEST(Autograd, StopGradientCutsTheGraphButKeepsTheValues) {
  Context ctx;
  Tensor x = vec(ctx, {0.5, -1.5});
  Tensor c = stop_gradient(x);
  EXPECT_FALSE(c.requires_grad());
  EXPECT_EQ(c.data(), x.data()) << "a view, no copy";
  Tensor y = add(ctx, square(ctx, c), x);  // d/dx = 1, not 2x + 1
  backward(ctx, sum(ctx, y));
  EXPECT_DOUBLE_EQ(x.grad().to_double(ctx)[0], 1.0);
  EXPECT_DOUBLE_EQ(x.grad().to_double(ctx)[1], 1.0);
  EXPECT_DOUBLE_EQ(y.to_double(ctx)[1], 2.25 - 1.5);
}

TEST(Autograd, ParametersAccumulateInPlace) {
  Context ctx;
  Tensor w = vec(ctx, {1, 2});
  w.impl()->is_param = true;
  Tensor g0 = Tensor::zeros(ctx, {2}, DType::F64, Device::cpu());
  w.set_grad(g0);
  backward(ctx, sum(ctx, mul_scalar(ctx, w, 2.0)));
  backward(ctx, sum(ctx, mul_scalar(ctx, w, 3.0)));
  EXPECT_DOUBLE_EQ(g0.to_double(ctx)[0], 5.0);  // same buffer, += semantics
}

TEST(Autograd, IntermediateGradientsAreFreed) {
  Context ctx;
  Tensor x = vec(ctx, {1, 2});
  Tensor h = mul(ctx, x, x);
  backward(ctx, sum(ctx, h));
  EXPECT_FALSE(h.grad().defined());
  EXPECT_TRUE(x.grad().defined());
}

TEST(Autograd, ErrorsAreClear) {
  Context ctx;
  Tensor x = Tensor::from_vector(ctx, {2}, std::vector<double>{1, 2}, DType::F64);
  EXPECT_THROW(backward(ctx, x), Error);  // nothing recorded
  Tensor y = mul(ctx, vec(ctx, {1, 2}), vec(ctx, {3, 4}));
  EXPECT_THROW(backward(ctx, y), Error);  // non-scalar needs a seed
  EXPECT_THROW(add(ctx, vec(ctx, {1, 2}), vec(ctx, {1, 2, 3})), Error);
}
