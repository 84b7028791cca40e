// Where a training run keeps its faces (pipeline/train/training_faces.h: BankPlacement). On a
// GPU, faces that do not fit in device memory go to mapped pinned host memory and the device
// augmentation still builds every batch: a run with its faces there (--faces-on-host) must build
// the same batches and reach the same losses, bit for bit in deterministic mode, as one with its
// faces in device memory. That test needs a GPU and is SKIPPED without one; on the CPU, faces are
// in the CPU's own memory whatever is asked.
#include <gtest/gtest.h>

#include "pipeline/train/train_step.h"
#include "test_trainer_support.h"

namespace facet::train {
namespace {

using facet::testing::micro_request;

TEST(TrainingBanks, OnTheCpuFacesStayInItsMemory) {
  const HostFaces f = synthetic_host_faces(SyntheticIdentity::A, 3, 32, 1);
  Context ctx(Device::cpu(), 1);
  for (bool force_host : {false, true}) {
    const TrainingBank tb = make_training_bank(ctx, f, true, force_host);
    EXPECT_EQ(tb.placement, BankPlacement::Device);
    EXPECT_EQ(tb.bank.device(), Device::cpu());
    EXPECT_EQ(tb.bank.size(), 3);
    EXPECT_EQ(tb.bytes, 3 * 32 * 32 * 11);
  }
  EXPECT_TRUE(device_readable(BankPlacement::PinnedHost));
  EXPECT_FALSE(device_readable(BankPlacement::Host));
}

struct BankRun {
  BankPlacement src = BankPlacement::Host, dst = BankPlacement::Host;
  std::vector<float> batches, src_loss, dst_loss;
};

BankRun train_on_gpu(const HostFaces& src, const HostFaces& dst, bool faces_on_host, int iters) {
  TrainRequest req = micro_request(0);
  req.batch = 4;
  req.ct_mode = "rct";  // rct partners are read from the dst bank: pinned too
  const ModelRecord rec = new_model_record(req, Device::cuda(0));
  Context ctx(Device::cuda(0), rec.spec.seed);
  ctx.deterministic = true;
  TrainStepOptions so;
  so.faces_on_host = faces_on_host;
  so.loss_window = iters;
  TrainStep ts(ctx, rec, src, dst, so);
  BankRun r;
  r.src = ts.src_bank().placement, r.dst = ts.dst_bank().placement;
  ts.on_batch = [&](int64_t, AugmentedBatch& s, AugmentedBatch& d) {
    for (const Tensor* t : {&s.warped, &s.target, &s.mask, &d.warped, &d.target, &d.eyes_mouth}) {
      const std::vector<float> v = t->to_float(ctx);
      r.batches.insert(r.batches.end(), v.begin(), v.end());
    }
  };
  for (int i = 1; i <= iters; ++i) ts.step(i);
  const TrainStep::Losses l = ts.read_losses();
  r.src_loss = l.src, r.dst_loss = l.dst;
  return r;
}

TEST(GpuTrainingBanks, PinnedHostFacesTrainExactlyLikeDeviceFaces) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  const HostFaces src = synthetic_host_faces(SyntheticIdentity::A, 8, 64, 3);
  const HostFaces dst = synthetic_host_faces(SyntheticIdentity::B, 8, 64, 4);
  const BankRun dev = train_on_gpu(src, dst, false, 6), pinned = train_on_gpu(src, dst, true, 6);
  EXPECT_EQ(dev.src, BankPlacement::Device);
  EXPECT_EQ(dev.dst, BankPlacement::Device);
  EXPECT_EQ(pinned.src, BankPlacement::PinnedHost);
  EXPECT_EQ(pinned.dst, BankPlacement::PinnedHost);
  ASSERT_EQ(dev.src_loss.size(), 6u);
  EXPECT_EQ(pinned.batches, dev.batches);
  EXPECT_EQ(pinned.src_loss, dev.src_loss);
  EXPECT_EQ(pinned.dst_loss, dev.dst_loss);
}

}  // namespace
}  // namespace facet::train
