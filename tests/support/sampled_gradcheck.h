// A whole network's double-precision gradient check on sampled elements: for each named tensor
// (parameters, inputs) the analytic gradient already in t.grad() is compared with central
// differences of `value` at a few evenly spread elements. Central differences at a step of 1e-5
// (rounding noise ~1e-9 for these toy nets); an activation kink (leaky ReLU, TLU) within a step of
// some pre-activation bends the quotient, so smaller steps (1e-6, 1e-7) are tried before calling
// it a mismatch: a wrong gradient disagrees at every step. The caller checks that retries stay rare.
#pragma once
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "engine/core/context.h"
#include "engine/tensor/tensor.h"

namespace facet::test {

struct SampledGradcheck {
  int checked = 0, retried = 0;
};

// Elements j = numel/first_div, then every numel/per_tensor. tol = abs_tol + rel_tol * |g|.
inline SampledGradcheck sampled_gradcheck(Context& ctx, const std::vector<std::pair<std::string, Tensor>>& tensors,
                                          const std::function<double()>& value, int first_div, int per_tensor,
                                          double abs_tol, double rel_tol = 1e-5) {
  SampledGradcheck r;
  for (const auto& [name, t] : tensors) {
    EXPECT_TRUE(t.grad().defined()) << name;
    if (!t.grad().defined()) continue;
    const std::vector<double> g = t.grad().to_double(ctx);
    double* p = t.data_as<double>();
    const int64_t step = std::max<int64_t>(1, t.numel() / per_tensor);
    for (int64_t j = t.numel() / first_div; j < t.numel(); j += step) {
      const double v = p[j];
      auto numeric = [&](double eps) {
        p[j] = v + eps;
        const double lp = value();
        p[j] = v - eps;
        const double lm = value();
        p[j] = v;
        return (lp - lm) / (2 * eps);
      };
      const double tol = abs_tol + rel_tol * std::fabs(g[static_cast<size_t>(j)]);
      double num = numeric(1e-5);
      for (double eps : {1e-6, 1e-7}) {
        if (std::fabs(num - g[static_cast<size_t>(j)]) <= tol) break;
        num = numeric(eps);
        ++r.retried;
      }
      EXPECT_NEAR(g[static_cast<size_t>(j)], num, tol) << name << "[" << j << "]";
      if (std::fabs(num - g[static_cast<size_t>(j)]) > tol) return r;  // one mismatch is enough to report
      ++r.checked;
    }
  }
  return r;
}

}  // namespace facet::test
