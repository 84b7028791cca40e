// Op table cases for engine/ops/elementwise.h. Inputs of kinked ops stay away from the kink.
#include "engine/ops/elementwise.h"
#include "support/op_case.h"

namespace facet::test {
namespace {
using V = const std::vector<Tensor>&;
}

FACET_OP_CASES({
    {"elementwise/relu", {in_away0({2, 5, 3})}, [](Context& c, V x) { return relu(c, x[0]); }},
    {"elementwise/leaky_relu_0_1", {in_away0({2, 4, 4, 3})}, [](Context& c, V x) { return leaky_relu(c, x[0], 0.1); }},
    {"elementwise/leaky_relu_0_2", {in_away0({7})}, [](Context& c, V x) { return leaky_relu(c, x[0], 0.2); }},
    {"elementwise/sigmoid", {in({3, 5}, -4, 4)}, [](Context& c, V x) { return sigmoid(c, x[0]); }},
    {"elementwise/tanh", {in({3, 5}, -3, 3)}, [](Context& c, V x) { return tanh(c, x[0]); }},
    {"elementwise/square", {in({11})}, [](Context& c, V x) { return square(c, x[0]); }},
    {"elementwise/sqrt", {in({11}, 0.2, 2)}, [](Context& c, V x) { return sqrt(c, x[0]); }},
    {"elementwise/rsqrt", {in({11}, 0.2, 2)}, [](Context& c, V x) { return rsqrt(c, x[0]); }},
    {"elementwise/exp", {in({11})}, [](Context& c, V x) { return exp(c, x[0]); }},
    {"elementwise/log", {in({11}, 0.2, 3)}, [](Context& c, V x) { return log(c, x[0]); }},
    {"elementwise/abs", {in_away0({13})}, [](Context& c, V x) { return abs(c, x[0]); }},
    {"elementwise/neg", {in({13})}, [](Context& c, V x) { return neg(c, x[0]); }},
    {"elementwise/add_scalar", {in({2, 3})}, [](Context& c, V x) { return add_scalar(c, x[0], 0.7); }},
    {"elementwise/mul_scalar", {in({2, 3})}, [](Context& c, V x) { return mul_scalar(c, x[0], -1.5); }},
    {"elementwise/rsub_scalar", {in({2, 3})}, [](Context& c, V x) { return rsub_scalar(c, x[0], 1.0); }},
    {"elementwise/rdiv_scalar", {in({2, 3}, 0.5, 2)}, [](Context& c, V x) { return rdiv_scalar(c, x[0], 2.0); }},
    {"elementwise/pow_scalar", {in({2, 3}, 0.5, 2)}, [](Context& c, V x) { return pow_scalar(c, x[0], 1.7); }},
    {"elementwise/clamp", {in_distinct({4, 5}, -2, 2)}, [](Context& c, V x) { return clamp(c, x[0], -0.93, 0.91); }},
    {"elementwise/add_same", {in({2, 3, 4}), in({2, 3, 4})}, [](Context& c, V x) { return add(c, x[0], x[1]); }},
    {"elementwise/add_bcast_channels", {in({2, 3, 4, 5}), in({5})}, [](Context& c, V x) { return add(c, x[0], x[1]); }},
    {"elementwise/sub_bcast_both", {in({2, 1, 4}), in({3, 1})}, [](Context& c, V x) { return sub(c, x[0], x[1]); }},
    {"elementwise/mul_bcast_mask", {in({2, 4, 4, 3}), in({2, 4, 4, 1})}, [](Context& c, V x) { return mul(c, x[0], x[1]); }},
    {"elementwise/div", {in({3, 4}), in({3, 4}, 0.5, 2)}, [](Context& c, V x) { return div(c, x[0], x[1]); }},
    {"elementwise/div_bcast_scalar", {in({3, 4}), in({1}, 0.5, 2)}, [](Context& c, V x) { return div(c, x[0], x[1]); }},
    {"elementwise/maximum", {in_distinct({3, 4}), in_distinct({3, 4}, -0.95, 0.97)}, [](Context& c, V x) { return maximum(c, x[0], x[1]); }},
    {"elementwise/minimum_bcast", {in_distinct({3, 4}), in_distinct({4}, -0.95, 0.97)}, [](Context& c, V x) { return minimum(c, x[0], x[1]); }},
    {"reduce/sum_all", {in({3, 4, 5})}, [](Context& c, V x) { return sum(c, x[0]); }},
    {"reduce/sum_axis1", {in({3, 4, 5})}, [](Context& c, V x) { return sum(c, x[0], {1}); }},
    {"reduce/sum_axes_keep", {in({2, 3, 4, 5})}, [](Context& c, V x) { return sum(c, x[0], {1, 2}, true); }},
    {"reduce/mean_last", {in({3, 4, 5})}, [](Context& c, V x) { return mean(c, x[0], {-1}); }},
    {"reduce/mean_all", {in({6, 7})}, [](Context& c, V x) { return mean(c, x[0]); }},
    {"reduce/mean_hw_keep", {in({2, 5, 6, 3})}, [](Context& c, V x) { return mean(c, x[0], {1, 2}, true); }},
    {"compose/reuse_input", {in({4, 3})}, [](Context& c, V x) { return mul(c, x[0], sigmoid(c, x[0])); }},
});

}  // namespace facet::test
