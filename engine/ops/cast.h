// Differentiable dtype casts, the mechanism of mixed precision: a layer casts its f32 master
// weights to the compute dtype (bf16 on a GPU) inside the graph, so the weight gradient computed
// in bf16 is cast back and accumulated into the f32 master's gradient by the tape, and the
// optimizer only ever sees f32. On the CPU the same path runs f32 compute over f64 masters, which
// is how the tests check it without a GPU (context.h: Context::compute_dtype).
#pragma once
#include "engine/core/context.h"
#include "engine/tensor/tensor.h"

namespace facet {

// y = x converted to dt (Tensor::cast: round to nearest even). The backward casts the incoming
// gradient back to x's dtype. Same dtype: returns x itself (no copy, nothing recorded).
Tensor cast_to(Context& ctx, const Tensor& x, DType dt);

// x cast to ctx.compute_dtype when one is set; otherwise (or for an undefined x, e.g. a missing
// bias) x itself. What the parameterised layers call on their input and their weights. A master
// weight already cast for this step (ctx.master_casts, engine/optim/parameter_buffer.h:
// MasterCastScope) is taken from there: same values, no kernel.
Tensor autocast(Context& ctx, const Tensor& x);

}  // namespace facet
