// Op table cases for engine/ops/layout.h and engine/ops/pool_resize.h. Sizes are odd on purpose
// (asymmetric SAME padding, r=3 blocks, slices that start inside inner axes); max-pool inputs are
// distinct values so no window has a tie and central differences never cross an argmax switch.
#include "engine/ops/layout.h"
#include "engine/ops/pool_resize.h"
#include "support/op_case.h"

namespace facet::test {
namespace {
using V = const std::vector<Tensor>&;
}

FACET_OP_CASES({
    // DCR pixel shuffle and its inverse.
    {"layout/pixel_shuffle_r2", {in({2, 3, 5, 8})}, [](Context& c, V x) { return pixel_shuffle(c, x[0], 2); }},
    {"layout/pixel_shuffle_r3", {in({1, 3, 2, 18})}, [](Context& c, V x) { return pixel_shuffle(c, x[0], 3); }},
    {"layout/pixel_shuffle_r2_c3", {in({1, 2, 3, 12})}, [](Context& c, V x) { return pixel_shuffle(c, x[0], 2); }},
    {"layout/space_to_depth_r2", {in({2, 6, 4, 3})}, [](Context& c, V x) { return space_to_depth(c, x[0], 2); }},
    {"layout/space_to_depth_r3", {in({1, 3, 6, 2})}, [](Context& c, V x) { return space_to_depth(c, x[0], 3); }},

    // pixel_norm over everything but the batch axis.
    {"layout/pixel_norm_flat", {in({3, 40})}, [](Context& c, V x) { return pixel_norm(c, x[0]); }},
    {"layout/pixel_norm_nhwc", {in({2, 3, 5, 4}, -2, 2)}, [](Context& c, V x) { return pixel_norm(c, x[0]); }},

    // pad: every axis, asymmetric, constant value; low and high rank.
    {"layout/pad_nhwc", {in({2, 3, 4, 5})},
     [](Context& c, V x) { return pad(c, x[0], {0, 1, 2, 0}, {1, 0, 1, 2}, 0.5); }},
    {"layout/pad_rank1", {in({7})}, [](Context& c, V x) { return pad(c, x[0], {3}, {2}); }},
    {"layout/pad_rank5", {in({2, 1, 3, 2, 3})},
     [](Context& c, V x) { return pad(c, x[0], {1, 0, 0, 2, 1}, {0, 2, 1, 0, 1}, -1.0); }},

    // slice with non-zero begins on inner axes.
    {"layout/slice_all_axes", {in({3, 5, 6, 4})},
     [](Context& c, V x) { return slice(c, x[0], {1, 1, 2, 1}, {3, 4, 5, 3}); }},
    {"layout/slice_channels", {in({2, 3, 3, 7})}, [](Context& c, V x) { return slice_axis(c, x[0], -1, 2, 5); }},
    {"layout/slice_width", {in({2, 4, 5, 3})}, [](Context& c, V x) { return slice_axis(c, x[0], 2, 1, 4); }},

    // split_rows: views of leading-axis runs; pieces used in another order, one twice (its
    // gradients add), one not at all (zeros), one empty.
    {"layout/split_rows", {in({5, 3, 2})},
     [](Context& c, V x) {
       const std::vector<Tensor> p = split_rows(c, x[0], {2, 1, 0, 2});
       return concat(c, {p[3], p[0], p[2], p[0]}, 0);
     }},

    // concat of three inputs along the batch axis, the channel axis, and a middle axis with a
    // constant input (its gradient part is skipped).
    {"layout/concat_axis0", {in({1, 3, 2, 2}), in({2, 3, 2, 2}), in({3, 3, 2, 2})},
     [](Context& c, V x) { return concat(c, {x[0], x[1], x[2]}, 0); }},
    {"layout/concat_channels", {in({2, 3, 4, 1}), in({2, 3, 4, 3}), in({2, 3, 4, 2})},
     [](Context& c, V x) { return concat(c, {x[0], x[1], x[2]}, -1); }},
    {"layout/concat_axis1_const", {in({2, 2, 3}), in_const({2, 1, 3}), in({2, 4, 3})},
     [](Context& c, V x) { return concat(c, {x[0], x[1], x[2]}, 1); }},

    // reshape (a view) and permutes up to rank 6.
    {"layout/reshape_infer", {in({2, 3, 4})}, [](Context& c, V x) { return reshape(c, x[0], {4, -1}); }},
    {"layout/reshape_in_chain", {in({2, 3, 4})},
     [](Context& c, V x) { return transpose(c, reshape(c, pad(c, x[0], {0, 1, 0}, {0, 0, 0}), {2, -1}), 0, 1); }},
    {"layout/permute_nhwc_to_nchw", {in({2, 3, 4, 5})},
     [](Context& c, V x) { return permute(c, x[0], {0, 3, 1, 2}); }},
    {"layout/permute_nchw_to_nhwc", {in({2, 5, 3, 4})},
     [](Context& c, V x) { return permute(c, x[0], {0, 2, 3, 1}); }},
    {"layout/permute_rank6", {in({2, 1, 3, 2, 2, 3})},
     [](Context& c, V x) { return permute(c, x[0], {5, 2, 0, 4, 1, 3}); }},
    {"layout/transpose_2d", {in({5, 7})}, [](Context& c, V x) { return transpose(c, x[0], 0, 1); }},

    // max pooling, TF SAME (asymmetric pads on odd sizes) and VALID.
    {"pool/max_same_k2s2", {in_distinct({2, 5, 7, 3})},
     [](Context& c, V x) { return max_pool2d(c, x[0], 2, 2, PoolPadding::Same); }},
    {"pool/max_same_k3s2", {in_distinct({1, 6, 5, 2})},
     [](Context& c, V x) { return max_pool2d(c, x[0], 3, 2, PoolPadding::Same); }},
    {"pool/max_same_k3s1", {in_distinct({1, 4, 4, 3})},
     [](Context& c, V x) { return max_pool2d(c, x[0], 3, 1, PoolPadding::Same); }},
    {"pool/max_valid_k3s1", {in_distinct({2, 5, 6, 2})},
     [](Context& c, V x) { return max_pool2d(c, x[0], 3, 1, PoolPadding::Valid); }},
    {"pool/max_valid_k2x3s2x1", {in_distinct({1, 7, 5, 2})},
     [](Context& c, V x) { return max_pool2d(c, x[0], 2, 3, 2, 1, PoolPadding::Valid); }},

    // half-pixel bilinear resize: integer upsample, mixed up/down, downsample, identity.
    {"resize/bilinear_up2", {in({2, 3, 4, 3})}, [](Context& c, V x) { return resize_bilinear(c, x[0], 6, 8); }},
    {"resize/bilinear_mixed", {in({1, 5, 7, 2})}, [](Context& c, V x) { return resize_bilinear(c, x[0], 8, 4); }},
    {"resize/bilinear_down", {in({1, 6, 6, 2})}, [](Context& c, V x) { return resize_bilinear(c, x[0], 4, 3); }},
    {"resize/bilinear_same", {in({1, 3, 4, 2})}, [](Context& c, V x) { return resize_bilinear(c, x[0], 3, 4); }},
});

}  // namespace facet::test
