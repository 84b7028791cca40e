// SAEHD's reconstruction loss for one side (src or dst), as DFL computes it
// (DeepFaceLab models/Model_SAEHD/Model.py L437-492, on_initialize). Per sample:
//
//   mb = clip(gaussian_blur(target_mask, max(1, R//32)), 0, 0.5) * 2         (soft, slightly dilated)
//   t', p' = target*mb, pred*mb  with masked_training, else target, pred     (DSSIM sees these too)
//   loss = 10 * DSSIM(t', p', int(R/11.6))                                    R < 256
//          5 * DSSIM(t', p', int(R/11.6)) + 5 * DSSIM(t', p', int(R/23.2))   R >= 256
//        + 10 * mean((t' - p')^2)                      (over H, W, C; not normalised by mask area)
//        + 300 * mean(|target*em - pred*em|)           with eyes_mouth_prio, on UNmasked images
//        + 10 * mean((target_mask - pred_mask)^2)      the learned-mask branch
//
// Reduction (the choice this engine makes, following DFL): each term and the total are per-sample
// vectors [N]. The training objective is the SUM over the batch (DFL's tf.gradients of the loss
// vector differentiates its sum; G loss = src + dst), so gradients scale with the batch size as
// in DFL, which matters against AdaBelief's epsilon and clipgrad's fixed norm of 1. The number to
// log is the MEAN over the batch (DFL's printed src_loss / dst_loss).
// The style terms (face_style_power, bg_style_power) are separate functions below, added to the
// src side's vector; GAN and true-face terms are not implemented.
#pragma once
#include "engine/core/context.h"
#include "engine/models/saehd_options.h"
#include "engine/tensor/tensor.h"

namespace facet::models {

struct SaehdLossConfig {
  int resolution = 128;
  bool masked_training = true;
  bool eyes_mouth_prio = false;
  // Derived from the resolution by from_options / for_resolution; tests may set them directly
  // to fit tiny images. dssim_filter2 == 0 means a single DSSIM window weighted 10.
  int dssim_filter = 11;
  int dssim_filter2 = 0;
  double mask_blur_sigma = 4;

  static SaehdLossConfig for_resolution(int resolution, bool masked_training = true, bool eyes_mouth_prio = false);
  static SaehdLossConfig from_options(const SaehdOptions& opt);
};

// DFL's window sizes: int(R/11.6), and int(R/23.2) from R >= 256 (else 0).
int saehd_dssim_filter(int resolution);
int saehd_dssim_filter2(int resolution);
// DFL's soft-mask blur sigma: max(1, R//32).
int saehd_mask_blur_sigma(int resolution);

// mb = clip(gaussian_blur(mask, sigma), 0, 0.5) * 2 for mask [N,H,W,1]. Not differentiated
// (the target mask is data).
Tensor saehd_soft_mask(Context& ctx, const Tensor& mask, double sigma);

struct SaehdSideLoss {
  Tensor total;       // [N] per-sample loss (the sum of the terms below)
  Tensor dssim;       // [N] the weighted DSSIM term(s)
  Tensor mse;         // [N] 10 * MSE
  Tensor eyes_mouth;  // [N] 300 * L1 over the eyes/mouth mask; undefined without eyes_mouth_prio
  Tensor mask;        // [N] 10 * MSE of the predicted mask
};

// target, pred [N,H,W,3]; pred_mask, target_mask [N,H,W,1]; target_em [N,H,W,1] (needed only
// with eyes_mouth_prio). H and W must be at least the DSSIM window. Gradients flow into pred and
// pred_mask (and into target if it requires grad); the masks are constants.
SaehdSideLoss saehd_side_loss(Context& ctx, const SaehdLossConfig& cfg, const Tensor& target, const Tensor& pred,
                              const Tensor& pred_mask, const Tensor& target_mask, const Tensor& target_em = Tensor());

// DFL's face_style_power term (Model.py L470-472), per sample [N]:
//   style_loss(swap_ncg * sg(swap_ncg_mask), sg(dst_dst * dst_dst_mask), blur R//8, 10000 * power/100)
// where swap_ncg is the swap decoded from the dst code cut from the graph
// (SaehdPredictions::src_dst_no_code_grad): it moves the src decoder toward the dst faces' colour
// statistics without touching the shared encoder. power in [0, 100].
Tensor saehd_face_style_loss(Context& ctx, int resolution, double power, const Tensor& swap_ncg,
                             const Tensor& swap_ncg_mask, const Tensor& dst_dst, const Tensor& dst_dst_mask);

// DFL's bg_style_power term (Model.py L474-480), per sample [N], w = 10 * power/100:
//   w * DSSIM(swap*(1-sm), target_dst*(1-sm), int(R/11.6)) + w * mean((swap*(1-sm) - target_dst*(1-sm))^2)
// sm is the SRC batch's soft target mask, as in DFL (its L445 overwrites the product of predicted
// masks computed just before; facet keeps DFL's behaviour). swap: SaehdPredictions::src_dst.
Tensor saehd_bg_style_loss(Context& ctx, const SaehdLossConfig& cfg, double power, const Tensor& swap,
                           const Tensor& target_dst, const Tensor& src_target_mask);

// The objective to backpropagate: sum over the batch of src_total + dst_total (a scalar tensor).
// Either vector may be undefined (one-sided training, tests).
Tensor saehd_objective(Context& ctx, const Tensor& src_total, const Tensor& dst_total = Tensor());

// The value to log: the batch mean of a per-sample loss (reads the device; not for the hot path).
double saehd_logged_loss(Context& ctx, const Tensor& per_sample);

}  // namespace facet::models
