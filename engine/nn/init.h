// Initialisers. DeepFaceLab (TF1 defaults) uses glorot-uniform for every conv and dense kernel
// and zeros for biases; draws come from the context's Philox stream, so a seed fixes a model.
#pragma once
#include "engine/core/context.h"
#include "engine/tensor/tensor.h"

namespace facet::nn {

// U(-l, l) with l = sqrt(6 / (fan_in + fan_out)), written into t (any device).
void glorot_uniform_(Context& ctx, Tensor& t, int64_t fan_in, int64_t fan_out);
void zeros_(Context& ctx, Tensor& t);

}  // namespace facet::nn
