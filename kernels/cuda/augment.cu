// CUDA augmentation kernels (see augment.h). The per-pixel math is kernels/cpu/augment.h's
// FACET_HD code, so these kernels only decide who computes what:
//   gen_params: one thread per sample writes its aug::SampleParams (a few hundred doubles).
//   rct_stats:  one block per (sample, src|reference) face, fixed-order tree reduction in double.
//   images:     one thread per output pixel computes the warped input and the target (3 channels
//               each); the threads of a block share a sample, so the parameter loads broadcast.
//   masks:      one block per sample: the full-face mask, then the eyes-mouth mask with its
//               per-sample max (a block max reduction, exact), then a second pass divides. The
//               second pass recomputes the taps rather than re-reading the stored (maybe bf16)
//               values, so the division sees the same float the CPU reference divides.
// The face bank is read through the read-only cache; all images of a batch are NHWC.
#include "kernels/cuda/augment.h"
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/runtime.h"

namespace facet::cuda {

namespace {

constexpr int kPixBlock = 256;
constexpr int kStatThreads = 256;
constexpr int kMaskThreads = 512;

// Sample indices of one launch, passed by value (kernel parameters), so no upload is needed.
struct BatchIdx {
  int32_t v[kAugmentMaxBatchPerLaunch];
};

BatchIdx make_idx(const int32_t* idx, int64_t n) {
  BatchIdx r{};
  for (int64_t i = 0; i < n; ++i) r.v[i] = idx[i];
  return r;
}

__global__ void gen_params_kernel(uint64_t seed, uint64_t offset, int64_t B, aug::GenConfig cfg,
                                  aug::SampleParams* out) {
  const int64_t b = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (b < B) aug::gen_sample(seed, offset + static_cast<uint64_t>(b) * aug::kWordsPerSample, cfg, &out[b]);
}

template <typename In>
__device__ void block_lab_stats(const In* img, int64_t S, int64_t R, bool cubic, double (*red)[kStatThreads],
                                double* mean, double* stdv) {
  double acc[6] = {0, 0, 0, 0, 0, 0};
  for (int64_t k = threadIdx.x; k < R * R; k += blockDim.x) {
    double lab[3];
    aug::resized_lab(img, S, R, k, cubic, lab);
    for (int c = 0; c < 3; ++c) acc[c] += lab[c], acc[3 + c] += lab[c] * lab[c];
  }
  for (int c = 0; c < 6; ++c) red[c][threadIdx.x] = acc[c];
  __syncthreads();
  for (int s = kStatThreads / 2; s > 0; s >>= 1) {
    if (threadIdx.x < s)
      for (int c = 0; c < 6; ++c) red[c][threadIdx.x] += red[c][threadIdx.x + s];
    __syncthreads();
  }
  if (threadIdx.x == 0) {
    const double n = static_cast<double>(R * R);
    for (int c = 0; c < 3; ++c) {
      mean[c] = red[c][0] / n;
      const double var = red[3 + c][0] / n - mean[c] * mean[c];
      stdv[c] = sqrt(var > 0 ? var : 0.0);
    }
  }
}

// blockIdx.x = sample, blockIdx.y = 0 (src face, bicubic) or 1 (reference face, bilinear).
template <typename InS, typename InR>
__global__ void __launch_bounds__(kStatThreads)
    rct_stats_kernel(const InS* bank, int64_t S, BatchIdx idx, const InR* ct_bank, int64_t S_ct, BatchIdx ct_idx,
                     int64_t R, aug::RctStats* out) {
  __shared__ double red[6][kStatThreads];
  const int b = blockIdx.x;
  aug::RctStats& st = out[b];
  if (blockIdx.y == 0)
    block_lab_stats(bank + static_cast<int64_t>(idx.v[b]) * S * S * 3, S, R, true, red, st.src_mean, st.src_std);
  else
    block_lab_stats(ct_bank + static_cast<int64_t>(ct_idx.v[b]) * S_ct * S_ct * 3, S_ct, R, false, red,
                    st.ref_mean, st.ref_std);
}

template <typename In, typename Out>
__global__ void images_kernel(const In* __restrict__ bank, int64_t S, BatchIdx idx,
                              const aug::SampleParams* __restrict__ params, const aug::RctStats* __restrict__ stats,
                              int64_t w, Out* warped, Out* target) {
  const int b = blockIdx.y;
  const int64_t pix = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (pix >= w * w) return;
  const int64_t x = pix % w, y = pix / w;
  const In* img = bank + static_cast<int64_t>(idx.v[b]) * S * S * 3;
  const aug::SampleParams& p = params[b];
  const aug::RctStats* st = stats ? &stats[b] : nullptr;
  const int64_t o = (b * w * w + pix) * 3;
  float px[3];
  if (warped) {
    aug::image_pixel(img, S, p, st, w, x, y, true, px);
    for (int c = 0; c < 3; ++c) warped[o + c] = from_f<Out>(px[c]);
  }
  if (target) {
    aug::image_pixel(img, S, p, st, w, x, y, false, px);
    for (int c = 0; c < 3; ++c) target[o + c] = from_f<Out>(px[c]);
  }
}

template <typename Out>
__global__ void __launch_bounds__(kMaskThreads)
    masks_kernel(const float* __restrict__ mask, const float* __restrict__ em, int64_t S, BatchIdx idx,
                 const aug::SampleParams* __restrict__ params, int64_t w, Out* mask_out, Out* em_out) {
  __shared__ float red[kMaskThreads];
  const int b = blockIdx.x;
  const int64_t off = static_cast<int64_t>(idx.v[b]) * S * S, n = w * w;
  const aug::SampleParams& p = params[b];
  if (mask_out)
    for (int64_t k = threadIdx.x; k < n; k += blockDim.x)
      mask_out[b * n + k] = from_f<Out>(aug::mask_pixel<float>(mask + off, nullptr, S, p, w, k % w, k / w));
  if (!em_out) return;
  float mx = 0.f;
  for (int64_t k = threadIdx.x; k < n; k += blockDim.x) {
    const float v = aug::mask_pixel<float>(mask + off, em + off, S, p, w, k % w, k / w);
    mx = v > mx ? v : mx;
  }
  red[threadIdx.x] = mx;
  __syncthreads();
  for (int s = kMaskThreads / 2; s > 0; s >>= 1) {
    if (threadIdx.x < s) red[threadIdx.x] = fmaxf(red[threadIdx.x], red[threadIdx.x + s]);
    __syncthreads();
  }
  const float m = red[0];
  for (int64_t k = threadIdx.x; k < n; k += blockDim.x) {
    const float v = aug::mask_pixel<float>(mask + off, em + off, S, p, w, k % w, k / w);
    em_out[b * n + k] = from_f<Out>(m != 0.f ? v / m : v);
  }
}

}  // namespace

void augment_gen_params(uint64_t seed, uint64_t offset, int64_t B, const aug::GenConfig& cfg, void* params_dev,
                        void* stream) {
  if (B <= 0) return;
  const int block = 64;
  FACET_LAUNCH(gen_params_kernel, static_cast<unsigned>((B + block - 1) / block), block, 0, as_stream(stream), seed, offset, B, cfg, static_cast<aug::SampleParams*>(params_dev));
  check_last_error("augment_gen_params");
}

void augment_rct_stats(const void* bank, bool bank_u8, int64_t S, const int32_t* idx, const void* ct_bank,
                       bool ct_u8, int64_t S_ct, const int32_t* ct_idx, int64_t B, int64_t R, void* stats_dev,
                       void* stream) {
  auto* out = static_cast<aug::RctStats*>(stats_dev);
  for (int64_t b0 = 0; b0 < B; b0 += kAugmentMaxBatchPerLaunch) {
    const int64_t nb = B - b0 < kAugmentMaxBatchPerLaunch ? B - b0 : kAugmentMaxBatchPerLaunch;
    const BatchIdx bi = make_idx(idx + b0, nb), ci = make_idx(ct_idx + b0, nb);
    const dim3 grid(static_cast<unsigned>(nb), 2);
    auto launch = [&](auto src, auto ref) {
      using InS = std::remove_const_t<std::remove_pointer_t<decltype(src)>>;
      using InR = std::remove_const_t<std::remove_pointer_t<decltype(ref)>>;
      FACET_LAUNCH((rct_stats_kernel<InS, InR>), grid, kStatThreads, 0, as_stream(stream), src, S, bi, ref, S_ct, ci, R, out + b0);
    };
    const auto* s8 = static_cast<const uint8_t*>(bank);
    const auto* sf = static_cast<const float*>(bank);
    const auto* r8 = static_cast<const uint8_t*>(ct_bank);
    const auto* rf = static_cast<const float*>(ct_bank);
    if (bank_u8) ct_u8 ? launch(s8, r8) : launch(s8, rf);
    else ct_u8 ? launch(sf, r8) : launch(sf, rf);
  }
  check_last_error("augment_rct_stats");
}

void augment_images(DType out_dt, const void* bank, bool bank_u8, int64_t S, const int32_t* idx,
                    const void* params_dev, const void* stats_dev, int64_t B, int64_t w, void* warped, void* target,
                    void* stream) {
  if (B <= 0 || w <= 0 || (!warped && !target)) return;
  const auto* params = static_cast<const aug::SampleParams*>(params_dev);
  const auto* stats = static_cast<const aug::RctStats*>(stats_dev);
  dispatch_float(out_dt, "augment_images", [&](auto tag) {
    using Out = decltype(tag);
    for (int64_t b0 = 0; b0 < B; b0 += kAugmentMaxBatchPerLaunch) {
      const int64_t nb = B - b0 < kAugmentMaxBatchPerLaunch ? B - b0 : kAugmentMaxBatchPerLaunch;
      const BatchIdx bi = make_idx(idx + b0, nb);
      const dim3 grid(static_cast<unsigned>((w * w + kPixBlock - 1) / kPixBlock), static_cast<unsigned>(nb));
      Out* wo = warped ? static_cast<Out*>(warped) + b0 * w * w * 3 : nullptr;
      Out* to = target ? static_cast<Out*>(target) + b0 * w * w * 3 : nullptr;
      const aug::RctStats* st = stats ? stats + b0 : nullptr;
      if (bank_u8)
        FACET_LAUNCH((images_kernel<uint8_t, Out>), grid, kPixBlock, 0, as_stream(stream), static_cast<const uint8_t*>(bank), S, bi,
                                                                 params + b0, st, w, wo, to);
      else
        FACET_LAUNCH((images_kernel<float, Out>), grid, kPixBlock, 0, as_stream(stream), static_cast<const float*>(bank), S, bi, params + b0,
                                                                 st, w, wo, to);
    }
  });
  check_last_error("augment_images");
}

void augment_masks(DType out_dt, const float* mask, const float* em, int64_t S, const int32_t* idx,
                   const void* params_dev, int64_t B, int64_t w, void* mask_out, void* em_out, void* stream) {
  if (B <= 0 || w <= 0 || (!mask_out && !em_out)) return;
  const auto* params = static_cast<const aug::SampleParams*>(params_dev);
  dispatch_float(out_dt, "augment_masks", [&](auto tag) {
    using Out = decltype(tag);
    for (int64_t b0 = 0; b0 < B; b0 += kAugmentMaxBatchPerLaunch) {
      const int64_t nb = B - b0 < kAugmentMaxBatchPerLaunch ? B - b0 : kAugmentMaxBatchPerLaunch;
      Out* mo = mask_out ? static_cast<Out*>(mask_out) + b0 * w * w : nullptr;
      Out* eo = em_out ? static_cast<Out*>(em_out) + b0 * w * w : nullptr;
      FACET_LAUNCH(masks_kernel<Out>, static_cast<unsigned>(nb), kMaskThreads, 0, as_stream(stream), mask, em, S, make_idx(idx + b0, nb), params + b0, w, mo, eo);
    }
  });
  check_last_error("augment_masks");
}

}  // namespace facet::cuda
