// Embeds the engine from another project: builds a tiny graph, backpropagates, prints a gradient.
#include <cstdio>

#include "engine/autograd/tape.h"
#include "engine/core/context.h"
#include "engine/ops/elementwise.h"

int main() {
  facet::Context ctx(facet::Device::cpu());
  facet::Tensor x = facet::Tensor::from_vector(ctx, {3}, std::vector<float>{1, 2, 3});
  x.set_requires_grad(true);
  facet::Tensor loss = facet::sum(ctx, facet::square(ctx, x));
  facet::backward(ctx, loss);
  std::vector<float> g = x.grad().to_float(ctx);
  std::printf("loss %.1f grad %.1f %.1f %.1f\n", loss.to_float(ctx)[0], g[0], g[1], g[2]);
  return (g[2] == 6.0f) ? 0 : 1;
}
