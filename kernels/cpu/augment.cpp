// CPU reference of the augmentation kernels (see augment.h): plain loops over samples and output
// pixels around the shared per-pixel formulas. Statistics accumulate in double in row-major
// pixel order, so results are deterministic.
#include "kernels/cpu/augment.h"

#include <cmath>
#include <vector>

namespace facet::cpu {

void augment_gen_params(uint64_t seed, uint64_t offset, int64_t B, const aug::GenConfig& cfg,
                        aug::SampleParams* out) {
  for (int64_t b = 0; b < B; ++b)
    aug::gen_sample(seed, offset + static_cast<uint64_t>(b) * aug::kWordsPerSample, cfg, &out[b]);
}

namespace {

template <typename In>
void lab_stats(const In* img, int64_t S, int64_t R, bool cubic, double mean[3], double stdv[3]) {
  double sum[3] = {0, 0, 0}, sq[3] = {0, 0, 0};
  for (int64_t k = 0; k < R * R; ++k) {
    double lab[3];
    aug::resized_lab(img, S, R, k, cubic, lab);
    for (int c = 0; c < 3; ++c) sum[c] += lab[c], sq[c] += lab[c] * lab[c];
  }
  const double n = static_cast<double>(R * R);
  for (int c = 0; c < 3; ++c) {
    mean[c] = sum[c] / n;
    const double var = sq[c] / n - mean[c] * mean[c];
    stdv[c] = std::sqrt(var > 0 ? var : 0.0);
  }
}

void lab_stats_any(const void* bank, bool u8, int64_t S, int64_t index, int64_t R, bool cubic, double mean[3],
                   double stdv[3]) {
  const int64_t stride = S * S * 3;
  if (u8) lab_stats(static_cast<const uint8_t*>(bank) + index * stride, S, R, cubic, mean, stdv);
  else lab_stats(static_cast<const float*>(bank) + index * stride, S, R, cubic, mean, stdv);
}

template <typename T, typename In>
void images_typed(const In* bank, int64_t S, const int32_t* idx, const aug::SampleParams* params,
                  const aug::RctStats* rct, int64_t B, int64_t w, T* warped, T* target) {
  for (int64_t b = 0; b < B; ++b) {
    const In* img = bank + static_cast<int64_t>(idx[b]) * S * S * 3;
    const aug::RctStats* st = rct ? &rct[b] : nullptr;
    for (int64_t y = 0; y < w; ++y)
      for (int64_t x = 0; x < w; ++x) {
        const int64_t o = ((b * w + y) * w + x) * 3;
        T px[3];
        if (warped) {
          aug::image_pixel(img, S, params[b], st, w, x, y, true, px);
          for (int c = 0; c < 3; ++c) warped[o + c] = px[c];
        }
        if (target) {
          aug::image_pixel(img, S, params[b], st, w, x, y, false, px);
          for (int c = 0; c < 3; ++c) target[o + c] = px[c];
        }
      }
  }
}

}  // namespace

void augment_rct_stats(const void* bank, bool bank_u8, int64_t S, const int32_t* idx, const void* ct_bank,
                       bool ct_u8, int64_t S_ct, const int32_t* ct_idx, int64_t B, int64_t R, aug::RctStats* out) {
  for (int64_t b = 0; b < B; ++b) {
    lab_stats_any(bank, bank_u8, S, idx[b], R, true, out[b].src_mean, out[b].src_std);
    lab_stats_any(ct_bank, ct_u8, S_ct, ct_idx[b], R, false, out[b].ref_mean, out[b].ref_std);
  }
}

template <typename T>
void augment_images(const void* bank, bool bank_u8, int64_t S, const int32_t* idx, const aug::SampleParams* params,
                    const aug::RctStats* rct, int64_t B, int64_t w, T* warped, T* target) {
  if (bank_u8) images_typed(static_cast<const uint8_t*>(bank), S, idx, params, rct, B, w, warped, target);
  else images_typed(static_cast<const float*>(bank), S, idx, params, rct, B, w, warped, target);
}

template <typename T>
void augment_masks(const float* mask, const float* em, int64_t S, const int32_t* idx, const aug::SampleParams* params,
                   int64_t B, int64_t w, T* mask_out, T* em_out) {
  std::vector<T> tmp(static_cast<size_t>(w * w));
  for (int64_t b = 0; b < B; ++b) {
    const int64_t off = static_cast<int64_t>(idx[b]) * S * S;
    if (mask_out)
      for (int64_t y = 0; y < w; ++y)
        for (int64_t x = 0; x < w; ++x)
          mask_out[(b * w + y) * w + x] = aug::mask_pixel<T>(mask + off, nullptr, S, params[b], w, x, y);
    if (em_out) {
      T mx = 0;
      for (int64_t y = 0; y < w; ++y)
        for (int64_t x = 0; x < w; ++x) {
          const T v = aug::mask_pixel<T>(mask + off, em + off, S, params[b], w, x, y);
          tmp[y * w + x] = v;
          mx = v > mx ? v : mx;
        }
      // DFL: img / img.max() after warping, when the max is non-zero.
      for (int64_t k = 0; k < w * w; ++k) em_out[b * w * w + k] = mx != 0 ? tmp[k] / mx : tmp[k];
    }
  }
}

#define FACET_AUGMENT_INST(T)                                                                                  \
  template void augment_images<T>(const void*, bool, int64_t, const int32_t*, const aug::SampleParams*,       \
                                  const aug::RctStats*, int64_t, int64_t, T*, T*);                            \
  template void augment_masks<T>(const float*, const float*, int64_t, const int32_t*, const aug::SampleParams*, \
                                 int64_t, int64_t, T*, T*);
FACET_AUGMENT_INST(float)
FACET_AUGMENT_INST(double)
#undef FACET_AUGMENT_INST

}  // namespace facet::cpu
