// SAEHD's per-side loss from the engine's loss ops (see saehd_loss.h for the formula and the
// batch reduction). Masking is applied to the images before the comparison, exactly as DFL does
// ((t*mb - p*mb)^2, so the MSE weight is mb^2), rather than through mse_loss's weight argument.
#include "engine/models/saehd_loss.h"

#include <algorithm>

#include "engine/core/error.h"
#include "engine/ops/blur.h"
#include "engine/ops/elementwise.h"
#include "engine/ops/losses.h"

namespace facet::models {

int saehd_dssim_filter(int resolution) { return static_cast<int>(resolution / 11.6); }
int saehd_dssim_filter2(int resolution) { return resolution >= 256 ? static_cast<int>(resolution / 23.2) : 0; }
int saehd_mask_blur_sigma(int resolution) { return std::max(1, resolution / 32); }

SaehdLossConfig SaehdLossConfig::for_resolution(int resolution, bool masked_training, bool eyes_mouth_prio) {
  SaehdLossConfig c;
  c.resolution = resolution;
  c.masked_training = masked_training;
  c.eyes_mouth_prio = eyes_mouth_prio;
  c.dssim_filter = saehd_dssim_filter(resolution);
  c.dssim_filter2 = saehd_dssim_filter2(resolution);
  c.mask_blur_sigma = saehd_mask_blur_sigma(resolution);
  return c;
}

SaehdLossConfig SaehdLossConfig::from_options(const SaehdOptions& opt) {
  const SaehdOptions o = validated(opt);
  return for_resolution(o.resolution, o.masked_training, o.eyes_mouth_prio);
}

Tensor saehd_soft_mask(Context& ctx, const Tensor& mask, double sigma) {
  NoGradGuard no_grad(ctx);
  return mul_scalar(ctx, clamp(ctx, gaussian_blur(ctx, mask, sigma), 0.0, 0.5), 2.0);
}

namespace {

void check_image(const char* name, const Tensor& t, const Tensor& like, int64_t channels) {
  FACET_CHECK(t.defined(), "saehd_side_loss: ", name, " is undefined");
  Shape want = like.shape();
  want.back() = channels;
  FACET_CHECK(t.shape() == want, "saehd_side_loss: ", name, " has shape ", shape_str(t.shape()), ", expected ",
              shape_str(want));
}

}  // namespace

SaehdSideLoss saehd_side_loss(Context& ctx, const SaehdLossConfig& cfg, const Tensor& target, const Tensor& pred,
                              const Tensor& pred_mask, const Tensor& target_mask, const Tensor& target_em) {
  FACET_CHECK(target.defined() && target.rank() == 4 && target.dim(3) == 3,
              "saehd_side_loss: target must be NHWC images [N,H,W,3], got ",
              target.defined() ? shape_str(target.shape()) : std::string("an undefined tensor"));
  check_image("pred", pred, target, 3);
  check_image("pred_mask", pred_mask, target, 1);
  check_image("target_mask", target_mask, target, 1);
  if (cfg.eyes_mouth_prio) check_image("target_em (eyes_mouth_prio is on)", target_em, target, 1);
  FACET_CHECK(cfg.dssim_filter >= 1 && cfg.dssim_filter2 >= 0 && cfg.mask_blur_sigma > 0,
              "saehd_side_loss: bad config (dssim_filter ", cfg.dssim_filter, ", dssim_filter2 ", cfg.dssim_filter2,
              ", mask_blur_sigma ", cfg.mask_blur_sigma, ")");

  Tensor t = target, p = pred;
  if (cfg.masked_training) {
    Tensor mb = saehd_soft_mask(ctx, target_mask, cfg.mask_blur_sigma);
    t = mul(ctx, target, mb);
    p = mul(ctx, pred, mb);
  }
  SaehdSideLoss out;
  if (cfg.dssim_filter2 == 0) {
    out.dssim = mul_scalar(ctx, dssim(ctx, t, p, cfg.dssim_filter), 10.0);
  } else {
    out.dssim = add(ctx, mul_scalar(ctx, dssim(ctx, t, p, cfg.dssim_filter), 5.0),
                    mul_scalar(ctx, dssim(ctx, t, p, cfg.dssim_filter2), 5.0));
  }
  out.mse = mul_scalar(ctx, mse_loss(ctx, t, p), 10.0);
  out.total = add(ctx, out.dssim, out.mse);
  if (cfg.eyes_mouth_prio) {
    // |t*em - p*em| = em*|t - p| for em >= 0: l1_loss's per-pixel weight is exactly DFL's term.
    out.eyes_mouth = mul_scalar(ctx, l1_loss(ctx, target, pred, target_em), 300.0);
    out.total = add(ctx, out.total, out.eyes_mouth);
  }
  out.mask = mul_scalar(ctx, mse_loss(ctx, target_mask, pred_mask), 10.0);
  out.total = add(ctx, out.total, out.mask);
  return out;
}

Tensor saehd_objective(Context& ctx, const Tensor& src_total, const Tensor& dst_total) {
  FACET_CHECK(src_total.defined() || dst_total.defined(), "saehd_objective: both losses are undefined");
  if (!dst_total.defined()) return sum(ctx, src_total);
  if (!src_total.defined()) return sum(ctx, dst_total);
  return add(ctx, sum(ctx, src_total), sum(ctx, dst_total));
}

double saehd_logged_loss(Context& ctx, const Tensor& per_sample) {
  FACET_CHECK(per_sample.defined() && per_sample.numel() > 0, "saehd_logged_loss: empty loss");
  std::vector<double> v = per_sample.to_double(ctx);
  double s = 0;
  for (double x : v) s += x;
  return s / static_cast<double>(v.size());
}

Tensor saehd_face_style_loss(Context& ctx, int resolution, double power, const Tensor& swap_ncg,
                             const Tensor& swap_ncg_mask, const Tensor& dst_dst, const Tensor& dst_dst_mask) {
  FACET_CHECK(swap_ncg.defined() && swap_ncg_mask.defined() && dst_dst.defined() && dst_dst_mask.defined(),
              "saehd_face_style_loss: needs the no-code-grad swap and the dst reconstruction with their masks");
  const Tensor content = mul(ctx, swap_ncg, stop_gradient(swap_ncg_mask));
  const Tensor style = stop_gradient(mul(ctx, dst_dst, dst_dst_mask));
  return style_loss(ctx, content, style, resolution / 8, 10000.0 * power / 100.0);
}

Tensor saehd_bg_style_loss(Context& ctx, const SaehdLossConfig& cfg, double power, const Tensor& swap,
                           const Tensor& target_dst, const Tensor& src_target_mask) {
  FACET_CHECK(swap.defined() && target_dst.defined() && src_target_mask.defined(),
              "saehd_bg_style_loss: needs the swap, the dst target and the src target mask");
  check_image("swap", swap, target_dst, 3);
  check_image("src_target_mask", src_target_mask, target_dst, 1);
  const double w = 10.0 * power / 100.0;
  const Tensor bg = rsub_scalar(ctx, saehd_soft_mask(ctx, src_target_mask, cfg.mask_blur_sigma), 1.0);
  const Tensor p = mul(ctx, swap, bg), t = mul(ctx, target_dst, bg);
  return add(ctx, mul_scalar(ctx, dssim(ctx, p, t, cfg.dssim_filter), w), mul_scalar(ctx, mse_loss(ctx, p, t), w));
}

}  // namespace facet::models
