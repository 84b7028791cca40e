// FRN and TLU as compositions of differentiable elementwise ops (see norm.h).
#include "engine/ops/norm.h"

#include "engine/core/error.h"
#include "engine/ops/elementwise.h"

namespace facet {

namespace {
void check_channel_param(const char* op, const char* name, const Tensor& x, const Tensor& p) {
  FACET_CHECK(p.defined() && p.rank() == 1 && p.dim(0) == x.dim(3), op, ": ", name, " must be [", x.dim(3),
              "] (one per channel of ", shape_str(x.shape()), "), got ",
              p.defined() ? shape_str(p.shape()) : std::string("undefined"));
}
}  // namespace

Tensor filter_response_norm(Context& ctx, const Tensor& x, const Tensor& gamma, const Tensor& beta, const Tensor& eps) {
  FACET_CHECK(x.defined() && x.rank() == 4, "filter_response_norm: expected NHWC [N,H,W,C], got ",
              x.defined() ? shape_str(x.shape()) : std::string("undefined"));
  check_channel_param("filter_response_norm", "gamma", x, gamma);
  check_channel_param("filter_response_norm", "beta", x, beta);
  FACET_CHECK(eps.defined() && eps.numel() == 1, "filter_response_norm: eps must hold one value");
  const Tensor nu2 = mean(ctx, square(ctx, x), {1, 2}, true);  // [N,1,1,C]
  const Tensor inv = rsqrt(ctx, add(ctx, nu2, abs(ctx, eps)));
  return add(ctx, mul(ctx, mul(ctx, x, inv), gamma), beta);
}

Tensor tlu(Context& ctx, const Tensor& x, const Tensor& tau) {
  FACET_CHECK(x.defined() && x.rank() >= 1, "tlu: undefined input");
  FACET_CHECK(tau.defined() && tau.rank() == 1 && tau.dim(0) == x.dim(x.rank() - 1), "tlu: tau must be [",
              x.dim(x.rank() - 1), "], got ", tau.defined() ? shape_str(tau.shape()) : std::string("undefined"));
  return maximum(ctx, x, tau);
}

}  // namespace facet
