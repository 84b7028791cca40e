#include "engine/nn/init.h"

#include <cmath>

namespace facet::nn {

void glorot_uniform_(Context& ctx, Tensor& t, int64_t fan_in, int64_t fan_out) {
  double limit = std::sqrt(6.0 / static_cast<double>(fan_in + fan_out));
  Tensor u = Tensor::uniform(ctx, t.shape(), -limit, limit, t.dtype(), t.device());
  t.copy_from(ctx, u);
}

void zeros_(Context& ctx, Tensor& t) { t.fill_zero(ctx); }

}  // namespace facet::nn
