// conv2d_leaky_relu against leaky_relu(conv2d(...)): the fused op must give the same output and
// the same input, weight and bias gradients, bit for bit, on every CPU convolution path (oneDNN's
// post-op at f32 and bf16, the reference kernels' second pass). Its own double gradient check and
// GPU parity are in the op table (tests/engine/cases_conv.cpp).
#include <gtest/gtest.h>

#include <vector>

#include "engine/autograd/tape.h"
#include "engine/core/error.h"
#include "engine/ops/conv.h"
#include "engine/ops/elementwise.h"

using namespace facet;

namespace {

struct Result {
  std::vector<double> y, gx, gw, gb;
};

Result run(CpuConv path, bool fused, double slope, const Conv2dOptions& opt) {
  Context ctx(Device::cpu(), 7);
  ctx.cpu_conv = path;
  Tensor x = Tensor::uniform(ctx, {3, 9, 10, 5}, -1, 1, DType::F32, Device::cpu()).set_requires_grad(true);
  Tensor w = Tensor::uniform(ctx, {6, 5, 5, 5}, -0.3, 0.3, DType::F32, Device::cpu()).set_requires_grad(true);
  Tensor b = Tensor::uniform(ctx, {6}, -0.5, 0.5, DType::F32, Device::cpu()).set_requires_grad(true);
  Tensor y = fused ? conv2d_leaky_relu(ctx, x, w, b, opt, slope) : leaky_relu(ctx, conv2d(ctx, x, w, b, opt), slope);
  Tensor r = Tensor::uniform(ctx, y.shape(), -1, 1, DType::F32, Device::cpu());
  backward(ctx, y, r);
  return {y.to_double(ctx), x.grad().to_double(ctx), w.grad().to_double(ctx), b.grad().to_double(ctx)};
}

void expect_fused_equals_separate(CpuConv path) {
  for (const auto& [slope, opt] : {std::pair{0.1, Conv2dOptions::same(2)}, std::pair{0.2, Conv2dOptions::symmetric(5)}}) {
    const Result a = run(path, true, slope, opt), b = run(path, false, slope, opt);
    size_t negative = 0;
    for (double v : a.y) negative += v < 0;
    ASSERT_GT(negative, a.y.size() / 5) << "the case must exercise the activation's negative side";
    EXPECT_EQ(a.y, b.y) << cpu_conv_name(path) << " slope " << slope;
    EXPECT_EQ(a.gx, b.gx) << cpu_conv_name(path) << " slope " << slope;
    EXPECT_EQ(a.gw, b.gw) << cpu_conv_name(path) << " slope " << slope;
    EXPECT_EQ(a.gb, b.gb) << cpu_conv_name(path) << " slope " << slope;
  }
}

}  // namespace

TEST(ConvLeakyRelu, FusedEqualsSeparateOnTheReferenceKernels) { expect_fused_equals_separate(CpuConv::Reference); }

TEST(ConvLeakyRelu, FusedEqualsSeparateOnOneDnnF32) {
  if (!cpu_has_onednn()) GTEST_SKIP() << "built without oneDNN (Debian: libdnnl-dev)";
  expect_fused_equals_separate(CpuConv::OneDnnF32);
}

TEST(ConvLeakyRelu, FusedEqualsSeparateOnOneDnnBf16) {
  if (!cpu_has_onednn()) GTEST_SKIP() << "built without oneDNN (Debian: libdnnl-dev)";
  if (!cpu_has_native_bf16()) GTEST_SKIP() << "this CPU has neither AVX512_BF16 nor AMX";
  expect_fused_equals_separate(CpuConv::OneDnnBf16);
}

TEST(ConvLeakyRelu, RefusesASlopeThatIsNotPositive) {
  Context ctx;
  Tensor x = Tensor::zeros(ctx, {1, 4, 4, 2}, DType::F32, Device::cpu());
  Tensor w = Tensor::zeros(ctx, {3, 3, 3, 2}, DType::F32, Device::cpu());
  EXPECT_THROW(conv2d_leaky_relu(ctx, x, w, Tensor(), Conv2dOptions::same(1), 0.0), Error);
  EXPECT_THROW(conv2d_leaky_relu(ctx, x, w, Tensor(), Conv2dOptions::same(1), -0.1), Error);
}
