// The augmentation op over kernels/{cpu,cuda}/augment: input checks, output and scratch reuse,
// and the order of the kernel calls (parameters -> rct statistics -> images -> masks).
#include "engine/augment/augment.h"

#include <algorithm>
#include <cstring>

#include "engine/core/error.h"
#include "engine/ops/dispatch.h"
#include "engine/cuda/mapped_host_allocator.h"  // defined in CUDA builds only: used in CUDA kernels of on_cuda
#include "kernels/cpu/augment.h"
#include "kernels/cuda/augment.h"
#include "kernels/cuda/runtime.h"

namespace facet {

namespace {

void ensure(Context& ctx, Tensor& t, const Shape& s, DType dt, Device d) {
  if (t.defined() && t.shape() == s && t.dtype() == dt && t.device() == d) return;
  t = Tensor::empty(ctx, s, dt, d);
}

// Raw device scratch of at least `bytes`, kept in an f32 tensor and grown on demand.
void ensure_bytes(Context& ctx, Tensor& t, size_t bytes, Device d) {
  const int64_t n = static_cast<int64_t>((bytes + 3) / 4);
  if (t.defined() && t.numel() >= n && t.device() == d) return;
  t = Tensor::empty(ctx, {n}, DType::F32, d);
}

void copy_to_device(Context& ctx, void* dst, const void* src, size_t bytes, Device d) {
  on_device(
      ctx, "FaceBank", d, [&] { std::memcpy(dst, src, bytes); },
      [&](auto stream) { cuda::memcpy_h2d(dst, src, bytes, stream); });
}

void check_mask(const char* what, const Tensor& m, int64_t N, int64_t S, Device d) {
  if (!m.defined()) return;
  FACET_CHECK(m.dtype() == DType::F32 && m.shape() == Shape({N, S, S, 1}) && m.device() == d, "FaceBank: ", what,
              " must be f32 [", N, ",", S, ",", S, ",1] on ", d.str(), ", got ", dtype_name(m.dtype()),
              shape_str(m.shape()), " on ", m.device().str());
}

}  // namespace

namespace {

void check_u8_args(const uint8_t* bgr, int64_t count, int64_t resolution, const float* mask, const float* eyes_mouth) {
  FACET_CHECK(count >= 1 && resolution >= 1, "FaceBank: need at least one face of positive size, got ", count,
              " faces of ", resolution, " px");
  FACET_CHECK(bgr != nullptr, "FaceBank: no image data");
  FACET_CHECK(!eyes_mouth || mask, "FaceBank: the eyes-mouth mask needs the full-face mask (DFL multiplies them)");
}

std::shared_ptr<Storage> make_storage(const std::shared_ptr<Allocator>& alloc, size_t bytes, Device device) {
  auto st = std::make_shared<Storage>();
  st->bytes = bytes;
  st->device = device;
  st->data = alloc->allocate(bytes);
  st->alloc = alloc;  // set after a successful allocate: a throwing one leaves nothing to free
  return st;
}

Tensor tensor_on(std::shared_ptr<Storage> st, const Shape& shape) {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = std::move(st);
  impl->shape = shape;
  impl->dtype = DType::F32;
  return Tensor(std::move(impl));
}

}  // namespace

FaceBank FaceBank::from_u8(Context& ctx, Device device, const uint8_t* bgr, int64_t count, int64_t resolution,
                           const float* mask, const float* eyes_mouth) {
  check_u8_args(bgr, count, resolution, mask, eyes_mouth);
  FaceBank fb;
  fb.count_ = count, fb.res_ = resolution, fb.device_ = device;
  fb.u8_ = make_storage(ctx.allocator(device), static_cast<size_t>(count * resolution * resolution * 3), device);
  copy_to_device(ctx, fb.u8_->data, bgr, fb.u8_->bytes, device);
  auto upload_mask = [&](const float* m) {
    if (!m) return Tensor();
    Tensor t = Tensor::empty(ctx, {count, resolution, resolution, 1}, DType::F32, device);
    copy_to_device(ctx, t.data(), m, t.nbytes(), device);
    return t;
  };
  fb.mask_ = upload_mask(mask);
  fb.eyes_mouth_ = upload_mask(eyes_mouth);
  return fb;
}

FaceBank FaceBank::from_u8_mapped(Context& ctx, const uint8_t* bgr, int64_t count, int64_t resolution,
                                  const float* mask, const float* eyes_mouth) {
  check_u8_args(bgr, count, resolution, mask, eyes_mouth);
  const Device device = ctx.device();
  FACET_CHECK(device.is_cuda(), "FaceBank: mapped host memory serves a CUDA context, not ", device.str());
  FaceBank fb;
  on_cuda(ctx, "FaceBank::from_u8_mapped", [&](auto) {
    fb.count_ = count, fb.res_ = resolution, fb.device_ = device, fb.mapped_ = true;
    // One allocator per bank: its stats are this bank's pinned bytes. The storages keep it alive.
    auto alloc = std::make_shared<MappedHostAllocator>();
    const size_t pixels = static_cast<size_t>(count * resolution * resolution);
    fb.u8_ = make_storage(alloc, pixels * 3, device);
    std::memcpy(fb.u8_->data, bgr, pixels * 3);  // the same address serves host writes and kernel reads
    auto pin_mask = [&](const float* m) {
      if (!m) return Tensor();
      auto st = make_storage(alloc, pixels * sizeof(float), device);
      std::memcpy(st->data, m, pixels * sizeof(float));
      return tensor_on(std::move(st), {count, resolution, resolution, 1});
    };
    fb.mask_ = pin_mask(mask);
    fb.eyes_mouth_ = pin_mask(eyes_mouth);
  });
  return fb;
}

FaceBank FaceBank::from_tensors(Tensor images, Tensor mask, Tensor eyes_mouth) {
  FACET_CHECK(images.defined() && images.rank() == 4 && images.dtype() == DType::F32 && images.dim(3) == 3 &&
                  images.dim(1) == images.dim(2) && images.dim(0) >= 1 && images.dim(1) >= 1,
              "FaceBank: images must be f32 [N,S,S,3] BGR in [0,1], got ",
              images.defined() ? dtype_name(images.dtype()) : "undefined",
              images.defined() ? shape_str(images.shape()) : "");
  FACET_CHECK(!eyes_mouth.defined() || mask.defined(),
              "FaceBank: the eyes-mouth mask needs the full-face mask (DFL multiplies them)");
  FaceBank fb;
  fb.count_ = images.dim(0), fb.res_ = images.dim(1), fb.device_ = images.device();
  check_mask("mask", mask, fb.count_, fb.res_, fb.device_);
  check_mask("eyes_mouth", eyes_mouth, fb.count_, fb.res_, fb.device_);
  fb.images_ = std::move(images), fb.mask_ = std::move(mask), fb.eyes_mouth_ = std::move(eyes_mouth);
  return fb;
}

const void* FaceBank::image_data() const { return u8_ ? u8_->data : (images_.defined() ? images_.data() : nullptr); }

Augmenter::Augmenter(AugmentOptions opts) : opts_(opts) { (void)gen_config(opts_); }

void Augmenter::check_inputs(Context& ctx, const FaceBank& bank, const std::vector<int32_t>& indices,
                             const FaceBank* ct_bank) {
  FACET_CHECK(bank.size() >= 1, "augment: empty face bank");
  FACET_CHECK(bank.device() == ctx.device(), "augment: the face bank is on ", bank.device().str(),
              " but the context computes on ", ctx.device().str());
  FACET_CHECK(!indices.empty(), "augment: empty batch");
  for (int32_t i : indices)
    FACET_CHECK(i >= 0 && i < bank.size(), "augment: sample index ", i, " outside the face bank of ", bank.size());
  const DType dt = opts_.output_dtype;
  if (ctx.device().is_cpu())
    FACET_CHECK(dt == DType::F32 || dt == DType::F64, "augment: the CPU writes f32 or f64, not ", dtype_name(dt));
  else
    FACET_CHECK(dt == DType::F32 || dt == DType::BF16, "augment: CUDA writes f32 or bf16, not ", dtype_name(dt));
  if (opts_.rct) {
    FACET_CHECK(ct_bank && ct_bank->size() >= 1, "augment: rct needs the dst face bank");
    FACET_CHECK(ct_bank->device() == ctx.device(), "augment: the dst face bank is on ", ct_bank->device().str(),
                " but the context computes on ", ctx.device().str());
  }
}

void Augmenter::prepare(Context& ctx, const FaceBank& bank, int64_t B, AugmentedBatch& out) {
  const int64_t w = opts_.resolution;
  const Device d = ctx.device();
  const DType dt = opts_.output_dtype;
  ensure(ctx, out.warped, {B, w, w, 3}, dt, d);
  ensure(ctx, out.target, {B, w, w, 3}, dt, d);
  if (bank.mask_data()) ensure(ctx, out.mask, {B, w, w, 1}, dt, d);
  if (bank.eyes_mouth_data()) ensure(ctx, out.eyes_mouth, {B, w, w, 1}, dt, d);
  if (d.is_cpu()) {
    params_host_.resize(static_cast<size_t>(B));
    stats_host_.resize(opts_.rct ? static_cast<size_t>(B) : 0);
  } else {
    ensure_bytes(ctx, params_dev_, static_cast<size_t>(B) * sizeof(aug::SampleParams), d);
    if (opts_.rct) ensure_bytes(ctx, stats_dev_, static_cast<size_t>(B) * sizeof(aug::RctStats), d);
  }
}

void Augmenter::run(Context& ctx, const FaceBank& bank, const std::vector<int32_t>& indices, AugmentedBatch& out,
                    const FaceBank* ct_bank, const std::vector<int32_t>& ct_indices) {
  check_inputs(ctx, bank, indices, ct_bank);
  const int64_t B = static_cast<int64_t>(indices.size());
  const uint64_t seed = ctx.seed(), offset = ctx.reserve_rng(augment_rng_words(B));
  prepare(ctx, bank, B, out);
  if (opts_.rct) {
    if (ct_indices.empty())
      draw_rct_partners(seed, offset, B, ct_bank->size(), ct_idx_);  // in place: no allocation per batch
    else
      ct_idx_ = ct_indices;
  }
  const aug::GenConfig cfg = gen_config(opts_);
  on_device(
      ctx, "augment", ctx.device(), [&] { cpu::augment_gen_params(seed, offset, B, cfg, params_host_.data()); },
      [&](auto stream) { cuda::augment_gen_params(seed, offset, B, cfg, params_dev_.data(), stream); });
  execute(ctx, bank, indices, ct_bank, out);
}

AugmentedBatch Augmenter::run(Context& ctx, const FaceBank& bank, const std::vector<int32_t>& indices,
                              const FaceBank* ct_bank, const std::vector<int32_t>& ct_indices) {
  AugmentedBatch out;
  run(ctx, bank, indices, out, ct_bank, ct_indices);
  return out;
}

void Augmenter::run_with_params(Context& ctx, const FaceBank& bank, const std::vector<int32_t>& indices,
                                const std::vector<aug::SampleParams>& params, AugmentedBatch& out,
                                const FaceBank* ct_bank, const std::vector<int32_t>& ct_indices) {
  check_inputs(ctx, bank, indices, ct_bank);
  const int64_t B = static_cast<int64_t>(indices.size());
  FACET_CHECK(params.size() == indices.size(), "augment: ", params.size(), " parameter sets for ", B, " samples");
  FACET_CHECK(!opts_.rct || ct_indices.size() == indices.size(), "augment: rct with explicit parameters needs ", B,
              " dst indices, got ", ct_indices.size());
  prepare(ctx, bank, B, out);
  if (opts_.rct) ct_idx_ = ct_indices;
  on_device(
      ctx, "augment", ctx.device(), [&] { params_host_ = params; },
      [&](auto stream) {
        cuda::memcpy_h2d(params_dev_.data(), params.data(), params.size() * sizeof(aug::SampleParams), stream);
      });
  execute(ctx, bank, indices, ct_bank, out);
}

void Augmenter::execute(Context& ctx, const FaceBank& bank, const std::vector<int32_t>& indices,
                        const FaceBank* ct_bank, AugmentedBatch& out) {
  const int64_t B = static_cast<int64_t>(indices.size()), S = bank.resolution(), w = opts_.resolution;
  const int32_t* idx = indices.data();
  if (opts_.rct) {
    FACET_CHECK(ct_idx_.size() == indices.size(), "augment: ", ct_idx_.size(), " dst indices for ", B, " samples");
    for (int32_t i : ct_idx_)
      FACET_CHECK(i >= 0 && i < ct_bank->size(), "augment: dst index ", i, " outside the dst bank of ",
                  ct_bank->size());
  }
  const float* mask = bank.mask_data();
  const float* em = bank.eyes_mouth_data();
  on_device(
      ctx, "augment", ctx.device(),
      [&] {
        if (opts_.rct)
          cpu::augment_rct_stats(bank.image_data(), bank.is_u8(), S, idx, ct_bank->image_data(), ct_bank->is_u8(),
                                 ct_bank->resolution(), ct_idx_.data(), B, w, stats_host_.data());
        cpu_dispatch("augment", opts_.output_dtype, [&](auto tag) {
          using T = decltype(tag);
          cpu::augment_images<T>(bank.image_data(), bank.is_u8(), S, idx, params_host_.data(),
                                 opts_.rct ? stats_host_.data() : nullptr, B, w, out.warped.data_as<T>(),
                                 out.target.data_as<T>());
          if (mask)
            cpu::augment_masks<T>(mask, em, S, idx, params_host_.data(), B, w, out.mask.data_as<T>(),
                                  em ? out.eyes_mouth.data_as<T>() : nullptr);
        });
      },
      [&](auto stream) {
        const DType dt = opts_.output_dtype;
        if (opts_.rct)
          cuda::augment_rct_stats(bank.image_data(), bank.is_u8(), S, idx, ct_bank->image_data(), ct_bank->is_u8(),
                                  ct_bank->resolution(), ct_idx_.data(), B, w, stats_dev_.data(), stream);
        cuda::augment_images(dt, bank.image_data(), bank.is_u8(), S, idx, params_dev_.data(),
                             opts_.rct ? stats_dev_.data() : nullptr, B, w, out.warped.data(), out.target.data(),
                             stream);
        if (mask)
          cuda::augment_masks(dt, mask, em, S, idx, params_dev_.data(), B, w, out.mask.data(),
                              em ? out.eyes_mouth.data() : nullptr, stream);
      });
  last_batch_ = B;
}

std::vector<aug::SampleParams> Augmenter::last_params(Context& ctx) const {
  if (ctx.device().is_cpu() || last_batch_ == 0)
    return std::vector<aug::SampleParams>(params_host_.begin(),
                                          params_host_.begin() + std::min<size_t>(params_host_.size(), last_batch_));
  std::vector<aug::SampleParams> p(static_cast<size_t>(last_batch_));
  on_cuda(ctx, "augment", [&](auto stream) {
    cuda::memcpy_d2h(p.data(), params_dev_.data(), p.size() * sizeof(aug::SampleParams), stream);
  });
  return p;
}

AugmentedBatch augment_batch(Context& ctx, const FaceBank& bank, const std::vector<int32_t>& indices,
                             const AugmentOptions& opts, const FaceBank* ct_bank) {
  Augmenter a(opts);
  return a.run(ctx, bank, indices, ct_bank);
}

}  // namespace facet
