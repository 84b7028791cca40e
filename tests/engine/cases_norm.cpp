// Op table cases for engine/ops/norm.h (FRN, TLU) and the blur pool of engine/ops/pool_resize.h:
// the XSeg segmenter's blocks. FRN's inputs stay away from zero so that no sample's channel has a
// near-zero mean square (where |eps| dominates and the central difference sees its kink).
#include "engine/ops/norm.h"
#include "engine/ops/pool_resize.h"
#include "support/op_case.h"

namespace facet::test {
namespace {
using V = const std::vector<Tensor>&;

OpCase blur_pool_case(const char* name, Shape s, int size) {
  return OpCase{name, {in(s)}, [size](Context& ctx, V x) {
                  return blur_pool2d(ctx, x[0], blur_pool_filter(ctx, size, x[0].dim(3), x[0].dtype(), x[0].device()));
                }};
}
}  // namespace

FACET_OP_CASES({
    {"norm/frn", {in_away0({2, 5, 6, 3}), in({3}, 0.5, 1.5), in({3}), in_away0({1}, 0.05, 0.2)},
     [](Context& c, V x) { return filter_response_norm(c, x[0], x[1], x[2], x[3]); }},
    {"norm/frn_1x1_spatial", {in_away0({3, 1, 1, 4}), in({4}, 0.5, 1.5), in({4}), in_away0({1}, 0.05, 0.2)},
     [](Context& c, V x) { return filter_response_norm(c, x[0], x[1], x[2], x[3]); }},
    {"norm/tlu", {in_distinct({2, 4, 5, 3}), in({3}, -0.3, 0.3)}, [](Context& c, V x) { return tlu(c, x[0], x[1]); }},
    blur_pool_case("pool/blur_pool_k4_even", {2, 8, 10, 3}, 4),
    blur_pool_case("pool/blur_pool_k3_odd", {1, 7, 9, 2}, 3),
    blur_pool_case("pool/blur_pool_k2", {2, 6, 5, 4}, 2),
    blur_pool_case("pool/blur_pool_k2_to_1x1", {2, 2, 2, 3}, 2),
});

}  // namespace facet::test
