// Op table cases for engine/ops/cast.h. The table runs every case in one dtype at a time (f64 for
// the gradient check, f32 for the float and GPU checks), so it cannot hold a narrowing round trip:
// f64 -> f32 -> f64 is a step function at the gradient check's step size. Those live in
// tests/engine/test_mixed_precision.cpp (f32 compute over f64) and tests/gpu/
// test_mixed_precision_parity.cpp (bf16). Here: a widening round trip inside a product, so the f32
// and GPU runs cast f32 -> f64 -> f32 forward and backward (the cast kernel in both directions)
// and the f64 run checks that equal dtypes are a transparent identity.
#include "engine/ops/cast.h"
#include "engine/ops/elementwise.h"
#include "support/op_case.h"

namespace facet::test {
namespace {
using V = const std::vector<Tensor>&;
}

FACET_OP_CASES({
    {"cast/widen_round_trip_mul", {in({3, 7})},
     [](Context& c, V x) { return mul(c, cast_to(c, cast_to(c, x[0], DType::F64), x[0].dtype()), x[0]); }},
});

}  // namespace facet::test
