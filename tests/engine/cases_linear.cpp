// Op table cases for engine/ops/linear.h: matmul with every transpose combination, Dense with and
// without bias over flattened leading axes, bias_add and PReLU (inputs kept away from the kink at
// 0). Sizes are odd on purpose (no multiple of a SIMD width or a cuBLAS tile).
#include "engine/ops/linear.h"
#include "support/op_case.h"

namespace facet::test {
namespace {
using V = const std::vector<Tensor>&;
}

FACET_OP_CASES({
    {"linear/matmul_nn", {in({5, 7}), in({7, 3})}, [](Context& c, V x) { return matmul(c, x[0], x[1]); }},
    {"linear/matmul_tn", {in({7, 5}), in({7, 3})}, [](Context& c, V x) { return matmul(c, x[0], x[1], true, false); }},
    {"linear/matmul_nt", {in({5, 7}), in({3, 7})}, [](Context& c, V x) { return matmul(c, x[0], x[1], false, true); }},
    {"linear/matmul_tt", {in({7, 5}), in({3, 7})}, [](Context& c, V x) { return matmul(c, x[0], x[1], true, true); }},
    {"linear/matmul_vec", {in({1, 33}), in({33, 1})}, [](Context& c, V x) { return matmul(c, x[0], x[1]); }},
    {"linear/matmul_const_b", {in({6, 9}), in_const({9, 4}, -1, 1)}, [](Context& c, V x) { return matmul(c, x[0], x[1]); }},
    {"linear/dense_bias", {in({3, 13}), in({13, 6}), in({6})},
     [](Context& c, V x) { return dense(c, x[0], x[1], x[2]); }},
    {"linear/dense_nobias", {in({4, 9}), in({9, 5})}, [](Context& c, V x) { return dense(c, x[0], x[1]); }},
    {"linear/dense_rank4", {in({2, 3, 2, 5}), in({5, 7}), in({7})},
     [](Context& c, V x) { return dense(c, x[0], x[1], x[2]); }},
    {"linear/dense_const_input", {in_const({5, 11}, -1, 1), in({11, 3}), in({3})},
     [](Context& c, V x) { return dense(c, x[0], x[1], x[2]); }},
    {"linear/dense_wide", {in({3, 300}), in({300, 37}, -0.2, 0.2), in({37})},
     [](Context& c, V x) { return dense(c, x[0], x[1], x[2]); }},
    {"linear/bias_add_2d", {in({7, 5}), in({5})}, [](Context& c, V x) { return bias_add(c, x[0], x[1]); }},
    {"linear/bias_add_nhwc", {in({2, 5, 3, 7}), in({7})}, [](Context& c, V x) { return bias_add(c, x[0], x[1]); }},
    {"linear/bias_add_many_rows", {in({600, 3}), in({3})}, [](Context& c, V x) { return bias_add(c, x[0], x[1]); }},
    {"linear/prelu_2d", {in_away0({9, 4}), in({4}, 0.05, 0.4)}, [](Context& c, V x) { return prelu(c, x[0], x[1]); }},
    {"linear/prelu_nhwc", {in_away0({2, 3, 5, 33}), in({33}, -0.3, 0.5)},
     [](Context& c, V x) { return prelu(c, x[0], x[1]); }},
    {"linear/prelu_many_rows", {in_away0({700, 2}), in({2}, 0.1, 0.3)},
     [](Context& c, V x) { return prelu(c, x[0], x[1]); }},
    {"compose/dense_prelu", {in({4, 10}), in({10, 6}), in({6}), in({6}, 0.1, 0.3)},
     [](Context& c, V x) { return prelu(c, dense(c, x[0], x[1], x[2]), x[3]); }},
});

}  // namespace facet::test
