// Runs every case of the shared op table on the CPU:
//  - GradCheck: analytic gradients (backward with a random projection as the seed) against
//    central differences of L(x) = <r, f(x)> in double, eps = 1e-6 * max(1, |x|).
//  - FloatVsDouble: the f32 CPU path agrees with the f64 reference on outputs and gradients.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cmath>

#include "engine/autograd/tape.h"
#include "support/op_case.h"

using namespace facet;
using namespace facet::test;

namespace {

class OpTable : public ::testing::TestWithParam<size_t> {
 protected:
  const OpCase& tc() const { return op_cases()[GetParam()]; }
};

double projected(Context& ctx, const OpCase& c, const std::vector<Tensor>& ins, const std::vector<double>& r) {
  NoGradGuard ng(ctx);
  std::vector<double> y = c.fn(ctx, ins).to_double(ctx);
  double s = 0;
  for (size_t i = 0; i < y.size(); ++i) s += r[i] * y[i];
  return s;
}

}  // namespace

TEST_P(OpTable, GradCheck) {
  const OpCase& c = tc();
  Context ctx(Device::cpu());
  auto ins = make_inputs(ctx, c, DType::F64, Device::cpu());
  Tensor y = c.fn(ctx, ins);
  Tensor r = projection_for(ctx, c, y);
  std::vector<double> rv = r.to_double(ctx);
  backward(ctx, y, r);
  EXPECT_EQ(ctx.tape().size(), 0u) << "backward must release the graph";
  for (size_t i = 0; i < ins.size(); ++i) {
    if (!c.inputs[i].requires_grad) continue;
    ASSERT_TRUE(ins[i].grad().defined()) << c.name << ": no gradient for input " << i;
    std::vector<double> g = ins[i].grad().to_double(ctx);
    double* x = ins[i].data_as<double>();
    int64_t n = ins[i].numel();
    int64_t step = std::max<int64_t>(1, n / c.max_grad_checks);
    for (int64_t j = 0; j < n; j += step) {
      double x0 = x[j], eps = 1e-6 * std::max(1.0, std::fabs(x0));
      x[j] = x0 + eps;
      double lp = projected(ctx, c, ins, rv);
      x[j] = x0 - eps;
      double lm = projected(ctx, c, ins, rv);
      x[j] = x0;
      double num = (lp - lm) / (2 * eps);
      double tol = c.grad_tol * std::max({1.0, std::fabs(num), std::fabs(g[j])});
      ASSERT_NEAR(g[j], num, tol) << c.name << ": input " << i << " element " << j;
    }
  }
}

TEST_P(OpTable, FloatVsDouble) {
  const OpCase& c = tc();
  Context ctx(Device::cpu());
  auto in64 = make_inputs(ctx, c, DType::F64, Device::cpu());
  auto in32 = make_inputs(ctx, c, DType::F32, Device::cpu());
  // backward releases the whole tape, so each graph is built and differentiated in turn
  Tensor y64 = c.fn(ctx, in64);
  backward(ctx, y64, projection_for(ctx, c, y64));
  Tensor y32 = c.fn(ctx, in32);
  backward(ctx, y32, projection_for(ctx, c, y32));
  ASSERT_EQ(y32.dtype(), DType::F32);
  ASSERT_EQ(y64.shape(), y32.shape());
  EXPECT_LE(rel_max_error(y32.to_double(ctx), y64.to_double(ctx)), c.float_tol) << c.name << " forward";
  for (size_t i = 0; i < in64.size(); ++i) {
    if (!c.inputs[i].requires_grad) continue;
    EXPECT_LE(rel_max_error(in32[i].grad().to_double(ctx), in64[i].grad().to_double(ctx)), c.float_tol)
        << c.name << " gradient of input " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(Ops, OpTable, ::testing::Range<size_t>(0, op_cases().size()),
                         [](const ::testing::TestParamInfo<size_t>& info) {
                           std::string n = op_cases()[info.param].name;
                           for (char& ch : n)
                             if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           return n;
                         });
