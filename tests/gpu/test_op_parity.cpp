// GPU-vs-CPU parity for every case of the shared op table, forward and gradients, in f32.
// Without a CUDA device (or in a build without the CUDA backend) every case is SKIPPED.
#include <gtest/gtest.h>

#include <cctype>

#include "engine/autograd/tape.h"
#include "support/op_case.h"

using namespace facet;
using namespace facet::test;

namespace {
class GpuParity : public ::testing::TestWithParam<size_t> {};
}  // namespace

TEST_P(GpuParity, ForwardAndBackward) {
  const OpCase& c = op_cases()[GetParam()];
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  if (!c.has_gpu) GTEST_SKIP() << c.name << " has no CUDA path";
  Context cpu(Device::cpu());
  Context gpu(Device::cuda(0));
  auto in_c = make_inputs(cpu, c, DType::F32, Device::cpu());
  auto in_g = make_inputs(gpu, c, DType::F32, Device::cuda(0));
  Tensor yc = c.fn(cpu, in_c), yg = c.fn(gpu, in_g);  // separate contexts, separate tapes
  ASSERT_EQ(yg.device(), Device::cuda(0));
  ASSERT_EQ(yc.shape(), yg.shape());
  EXPECT_LE(rel_max_error(yg.to_double(gpu), yc.to_double(cpu)), c.gpu_tol) << c.name << " forward";
  backward(cpu, yc, projection_for(cpu, c, yc));
  backward(gpu, yg, projection_for(gpu, c, yg));
  for (size_t i = 0; i < in_c.size(); ++i) {
    if (!c.inputs[i].requires_grad) continue;
    ASSERT_TRUE(in_g[i].grad().defined()) << c.name << " input " << i;
    EXPECT_LE(rel_max_error(in_g[i].grad().to_double(gpu), in_c[i].grad().to_double(cpu)), c.gpu_tol)
        << c.name << " gradient of input " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(Ops, GpuParity, ::testing::Range<size_t>(0, op_cases().size()),
                         [](const ::testing::TestParamInfo<size_t>& info) {
                           std::string n = op_cases()[info.param].name;
                           for (char& ch : n)
                             if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           return n;
                         });
