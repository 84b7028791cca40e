// CUDA twins of kernels/cpu/augment.h: the same per-pixel formulas (shared FACET_HD code), one
// thread per output pixel, outputs F32 or BF16. Parameters are generated ON the device from the
// Philox stream (no per-batch upload, no host sync); sample indices are HOST arrays passed to
// the kernels by value (at most kMaxBatchPerLaunch per launch, larger batches loop), so a batch
// needs no host-to-device copy at all. rct statistics use one block per face and a fixed-order
// tree reduction in double: deterministic, no atomics.
#pragma once
#include <cstdint>

#include "kernels/common/dtype.h"
#include "kernels/cpu/augment.h"  // aug::GenConfig, aug::SampleParams, aug::RctStats (no CUDA types)

namespace facet::cuda {

constexpr int64_t kAugmentMaxBatchPerLaunch = 256;

// params_dev: B aug::SampleParams in device memory.
void augment_gen_params(uint64_t seed, uint64_t offset, int64_t B, const aug::GenConfig& cfg, void* params_dev,
                        void* stream);

// stats_dev: B aug::RctStats in device memory; idx / ct_idx: host arrays of B indices.
void augment_rct_stats(const void* bank, bool bank_u8, int64_t S, const int32_t* idx, const void* ct_bank,
                       bool ct_u8, int64_t S_ct, const int32_t* ct_idx, int64_t B, int64_t R, void* stats_dev,
                       void* stream);

// out_dt F32 or BF16; warped / target [B,w,w,3] device pointers (either may be null);
// stats_dev null = no rct.
void augment_images(DType out_dt, const void* bank, bool bank_u8, int64_t S, const int32_t* idx,
                    const void* params_dev, const void* stats_dev, int64_t B, int64_t w, void* warped, void* target,
                    void* stream);

// mask_out / em_out [B,w,w,1] (either may be null); em needed for em_out.
void augment_masks(DType out_dt, const float* mask, const float* em, int64_t S, const int32_t* idx,
                   const void* params_dev, int64_t B, int64_t w, void* mask_out, void* em_out, void* stream);

}  // namespace facet::cuda
