// Op table cases for engine/ops/blur.h and engine/ops/losses.h. DSSIM gradients are small (each
// pixel's share of a spatial mean), so its cases check them at a tighter absolute tolerance.
// Images are in [0, 1] like DFL's; L1 inputs are independent draws, so a - b is never near the kink.
#include "engine/ops/blur.h"
#include "engine/ops/elementwise.h"
#include "engine/ops/losses.h"
#include "support/op_case.h"

namespace facet::test {
namespace {
using V = const std::vector<Tensor>&;

OpCase dssim_case(const char* name, Shape s, int fs) {
  OpCase c{name, {in(s, 0, 1), in(s, 0, 1)}, [fs](Context& ctx, V x) { return dssim(ctx, x[0], x[1], fs); }};
  c.grad_tol = 1e-7;
  return c;
}
}  // namespace

FACET_OP_CASES({
    {"blur/sigma1_dfl_rule", {in({2, 9, 10, 3})}, [](Context& c, V x) { return gaussian_blur(c, x[0], 1.0); }},
    {"blur/sigma4_ks17", {in({1, 20, 18, 2})}, [](Context& c, V x) { return gaussian_blur(c, x[0], 4.0); }},
    {"blur/explicit_ks7", {in({2, 8, 11, 1})}, [](Context& c, V x) { return gaussian_blur(c, x[0], 0.8, 7); }},
    {"blur/kernel_wider_than_image", {in({1, 6, 5, 4})}, [](Context& c, V x) { return gaussian_blur(c, x[0], 3.0); }},
    dssim_case("dssim/fs3", {2, 16, 18, 3}, 3),
    dssim_case("dssim/fs4_even", {2, 17, 16, 3}, 4),
    dssim_case("dssim/fs7", {2, 20, 19, 3}, 7),
    dssim_case("dssim/fs11", {2, 24, 22, 3}, 11),
    dssim_case("dssim/fs_equals_image", {2, 5, 5, 2}, 5),
    [] {
      // Near-identical images: the regime training ends in (ssim close to 1).
      OpCase c{"dssim/near_identical_fs11", {in({2, 22, 24, 3}, 0, 1), in({2, 22, 24, 3}, -1, 1)},
               [](Context& ctx, V x) { return dssim(ctx, x[0], add(ctx, x[0], mul_scalar(ctx, x[1], 0.02)), 11); }};
      c.grad_tol = 1e-7;
      // x[0]'s gradient is d/da + d/db of nearly equal images, two terms that almost cancel
      // (~50x), so f32 rounding shows up ~50x larger than in the other cases.
      c.float_tol = 2e-3;
      c.gpu_tol = 2e-3;
      return c;
    }(),
    [] {
      // Only the prediction needs a gradient (the target is data).
      OpCase c{"dssim/target_constant", {in({2, 16, 16, 3}, 0, 1), in_const({2, 16, 16, 3}, 0, 1)},
               [](Context& ctx, V x) { return dssim(ctx, x[0], x[1], 7, 1.5); }};
      c.grad_tol = 1e-7;
      return c;
    }(),
    {"loss/mse", {in({2, 5, 6, 3}), in({2, 5, 6, 3})}, [](Context& c, V x) { return mse_loss(c, x[0], x[1]); }},
    {"loss/mse_rank2", {in({4, 7}), in({4, 7})}, [](Context& c, V x) { return mse_loss(c, x[0], x[1]); }},
    {"loss/mse_mask_bcast", {in({2, 5, 6, 3}), in({2, 5, 6, 3}), in_const({2, 5, 6, 1})},
     [](Context& c, V x) { return mse_loss(c, x[0], x[1], x[2]); }},
    {"loss/mse_mask_full", {in({2, 4, 6, 3}), in({2, 4, 6, 3}), in_const({2, 4, 6, 3})},
     [](Context& c, V x) { return mse_loss(c, x[0], x[1], x[2]); }},
    {"loss/sigmoid_cross_entropy", {in_away0({2, 5, 6, 1}, 0.05, 4.0), in_const({2, 5, 6, 1}, 0, 1)},
     [](Context& c, V x) { return sigmoid_cross_entropy(c, x[0], x[1]); }},
    {"loss/sigmoid_cross_entropy_rank2_large_logits", {in_away0({3, 7}, 5.0, 30.0), in_const({3, 7}, 0, 1)},
     [](Context& c, V x) { return sigmoid_cross_entropy(c, x[0], x[1]); }},
    {"loss/l1", {in({2, 5, 6, 3}), in({2, 5, 6, 3})}, [](Context& c, V x) { return l1_loss(c, x[0], x[1]); }},
    {"loss/l1_mask_bcast", {in({3, 4, 5, 3}), in({3, 4, 5, 3}), in_const({3, 4, 5, 1})},
     [](Context& c, V x) { return l1_loss(c, x[0], x[1], x[2]); }},
    {"loss/l1_mask_full_target_const", {in({2, 4, 4, 2}), in_const({2, 4, 4, 2}), in_const({2, 4, 4, 2})},
     [](Context& c, V x) { return l1_loss(c, x[0], x[1], x[2]); }},
    {"loss/style_no_blur", {in({2, 6, 5, 3}, 0, 1), in({2, 6, 5, 3}, 0, 1)},
     [](Context& c, V x) { return style_loss(c, x[0], x[1], 0.0, 7.0); }},
    {"loss/style_blur1_style_const", {in({2, 9, 8, 3}, 0, 1), in_const({2, 9, 8, 3}, 0, 1)},
     [](Context& c, V x) { return style_loss(c, x[0], x[1], 1.0, 100.0); }},
    {"compose/masked_dssim_plus_mse",
     {in({2, 16, 16, 3}, 0, 1), in_const({2, 16, 16, 3}, 0, 1), in_const({2, 16, 16, 1}, 0, 1)},
     [](Context& c, V x) {
       // SAEHD's masked image term: blurred soft mask, then 10*DSSIM + 10*MSE on masked images.
       Tensor mb = mul_scalar(c, clamp(c, gaussian_blur(c, x[2], 1.0), 0.0, 0.5), 2.0);
       Tensor p = mul(c, x[0], mb), t = mul(c, x[1], mb);
       return add(c, mul_scalar(c, dssim(c, p, t, 5), 10.0), mul_scalar(c, mse_loss(c, p, t), 10.0));
     }},
});

}  // namespace facet::test
