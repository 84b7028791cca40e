// The training-batch augmentation op: DeepFaceLab's per-sample pipeline (samplelib/
// SampleProcessor.py, core/imagelib/warp.py: gen_warp_params, warp_by_params) run where the model
// trains, from faces kept decoded in memory.
// For each sample index it produces, at the training resolution w:
//   warped      [B,w,w,3]  remap(random-warp grid) -> affine -> flip, then rct, HSV, clip
//   target      [B,w,w,3]  affine -> flip, then rct, clip
//   mask        [B,w,w,1]  full-face mask, affine -> flip (bilinear, zero border)
//   eyes_mouth  [B,w,w,1]  DFL's EYES_MOUTH mask, same geometry, normalised to max 1
// One sampling pass per output pixel (details and the differences from DFL: docs/augmentation.md).
// The outputs are data: no autograd. An Augmenter keeps its scratch and reuses the output
// tensors passed back in, so a steady-state batch allocates nothing; on CUDA it also copies
// nothing from the host (parameters are generated on the device, indices go as kernel arguments).
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "engine/augment/warp_params.h"
#include "engine/core/context.h"
#include "engine/tensor/tensor.h"

namespace facet {

// A face set in memory on one device: BGR images [N,S,S,3] (uint8, or f32 in [0,1]) and the
// landmark-derived masks [N,S,S,1] f32 (either may be absent). uint8 takes a quarter of the
// memory; facet::DType has no u8 yet, so those bytes live in a raw Storage rather than a Tensor.
class FaceBank {
 public:
  FaceBank() = default;
  // Copies N host faces (BGR uint8, row-major S x S x 3) and optional host masks to `device`.
  static FaceBank from_u8(Context& ctx, Device device, const uint8_t* bgr, int64_t count, int64_t resolution,
                          const float* mask = nullptr, const float* eyes_mouth = nullptr);
  // The same in page-locked host memory mapped for ctx's CUDA device: for face sets larger than
  // the device's memory. The augmentation kernels read these faces in place over the bus (a
  // batch touches a few MB of them), so batches are still built on the device with no host work
  // and no copy per step. Throws facet::Error when ctx is not on CUDA or pinning fails.
  static FaceBank from_u8_mapped(Context& ctx, const uint8_t* bgr, int64_t count, int64_t resolution,
                                 const float* mask = nullptr, const float* eyes_mouth = nullptr);
  // Wraps tensors already in place: images f32 [N,S,S,3]; masks f32 [N,S,S,1] or undefined.
  static FaceBank from_tensors(Tensor images, Tensor mask = {}, Tensor eyes_mouth = {});

  int64_t size() const { return count_; }
  int64_t resolution() const { return res_; }
  Device device() const { return device_; }
  bool is_u8() const { return u8_ != nullptr; }
  bool in_mapped_host_memory() const { return mapped_; }
  const void* image_data() const;
  const float* mask_data() const { return mask_.defined() ? mask_.data_as<float>() : nullptr; }
  const float* eyes_mouth_data() const { return eyes_mouth_.defined() ? eyes_mouth_.data_as<float>() : nullptr; }

 private:
  int64_t count_ = 0, res_ = 0;
  Device device_;
  bool mapped_ = false;
  std::shared_ptr<Storage> u8_;
  Tensor images_, mask_, eyes_mouth_;
};

struct AugmentedBatch {
  Tensor warped, target, mask, eyes_mouth;  // mask / eyes_mouth stay undefined without bank masks
};

class Augmenter {
 public:
  explicit Augmenter(AugmentOptions opts);
  const AugmentOptions& options() const { return opts_; }

  // Builds the batch of faces `indices` of `bank` into `out`, drawing its parameters from
  // ctx.reserve_rng(augment_rng_words(B)) (ctx's seed). Output tensors that are defined with the
  // right shape, dtype and device are overwritten in place; others are (re)allocated. With rct,
  // each sample takes its colours from face ct_indices[b] of ct_bank (or a Philox-drawn one
  // when ct_indices is empty). The bank must be on ctx.device().
  void run(Context& ctx, const FaceBank& bank, const std::vector<int32_t>& indices, AugmentedBatch& out,
           const FaceBank* ct_bank = nullptr, const std::vector<int32_t>& ct_indices = {});
  AugmentedBatch run(Context& ctx, const FaceBank& bank, const std::vector<int32_t>& indices,
                     const FaceBank* ct_bank = nullptr, const std::vector<int32_t>& ct_indices = {});

  // The same with explicit parameters (tests, tools); ct_indices must be given when rct is on.
  void run_with_params(Context& ctx, const FaceBank& bank, const std::vector<int32_t>& indices,
                       const std::vector<aug::SampleParams>& params, AugmentedBatch& out,
                       const FaceBank* ct_bank = nullptr, const std::vector<int32_t>& ct_indices = {});

  // The parameters of the last batch, on the host (waits for the device; for tests and logs).
  std::vector<aug::SampleParams> last_params(Context& ctx) const;
  const std::vector<int32_t>& last_rct_partners() const { return ct_idx_; }

 private:
  void check_inputs(Context& ctx, const FaceBank& bank, const std::vector<int32_t>& indices, const FaceBank* ct_bank);
  void prepare(Context& ctx, const FaceBank& bank, int64_t B, AugmentedBatch& out);
  void execute(Context& ctx, const FaceBank& bank, const std::vector<int32_t>& indices, const FaceBank* ct_bank,
               AugmentedBatch& out);

  AugmentOptions opts_;
  int64_t last_batch_ = 0;
  std::vector<aug::SampleParams> params_host_;  // CPU path
  std::vector<aug::RctStats> stats_host_;
  std::vector<int32_t> ct_idx_;
  Tensor params_dev_, stats_dev_;  // CUDA scratch (raw bytes in f32 tensors), grown on demand
};

// One-shot convenience (allocates its outputs and scratch each call).
AugmentedBatch augment_batch(Context& ctx, const FaceBank& bank, const std::vector<int32_t>& indices,
                             const AugmentOptions& opts, const FaceBank* ct_bank = nullptr);

}  // namespace facet
