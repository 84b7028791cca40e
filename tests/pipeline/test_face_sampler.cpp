// Batch sampling (pipeline/train/face_sampler.h): DFL's uniform_yaw bins, that sampler's balance
// between yaw bins and within each bin, exact restore from a saved state, refusal of a state saved
// under the other policy, and a uniform_yaw training run stopped and resumed bit-identically.
#include <cstring>
#include <map>

#include <gtest/gtest.h>

#include "pipeline/train/face_sampler.h"
#include "test_trainer_support.h"

namespace facet::train {
namespace {

using facet::testing::folder_weights;
using facet::testing::micro_config;
using facet::testing::read_text_file;
using facet::testing::ScratchDir;
using facet::testing::write_face_sets;

TEST(FaceSampler, UniformYawBinsFollowDfl) {
  // -yaw: 0, 0, 0.5, -2 (below the first edge), 2 (beyond the last), and exactly the edge -1.2.
  const std::vector<float> yaw = {0.f, 0.f, -0.5f, 2.f, -2.f, 1.2f};
  const auto bins = uniform_yaw_bins(yaw);
  // bin 0 takes everything below edge 1 (-2 and -1.2); 0 falls in bin 63, 0.5 in bin 89, 2 in bin 127
  const std::vector<std::vector<int32_t>> want = {{3, 5}, {0, 1}, {2}, {4}};
  EXPECT_EQ(bins, want);
}

TEST(FaceSampler, UniformYawBalancesBinsAndWalksEachBinInEpochs) {
  std::vector<float> yaw(100, 0.f);
  for (int i = 90; i < 100; ++i) yaw[static_cast<size_t>(i)] = -0.8f;  // 10 profiles among 100 faces
  Context ctx(Device::cpu(), 4);
  FaceSampler uniform(yaw, true), plain(yaw, false);
  ASSERT_EQ(uniform.bins().size(), 2u);
  std::map<int32_t, int> seen_u, seen_p;
  for (int32_t i : uniform.next(ctx, 1000)) ++seen_u[i];
  for (int32_t i : plain.next(ctx, 1000)) ++seen_p[i];
  int profiles_u = 0, profiles_p = 0;
  for (auto [i, n] : seen_u) profiles_u += i >= 90 ? n : 0;
  for (auto [i, n] : seen_p) profiles_p += i >= 90 ? n : 0;
  EXPECT_EQ(profiles_u, 500) << "every epoch over the 2 bins visits each once";
  EXPECT_EQ(profiles_p, 100) << "whole-set epochs: 10 of every 100";
  for (int i = 90; i < 100; ++i) EXPECT_EQ(seen_u[i], 50) << "each profile once per epoch of its bin";
  for (int i = 0; i < 90; ++i) EXPECT_GE(seen_u[i], 5);
}

TEST(FaceSampler, RestoreContinuesExactlyAndRefusesTheOtherPolicy) {
  std::vector<float> yaw;
  for (int i = 0; i < 40; ++i) yaw.push_back(0.02f * static_cast<float>(i % 13) - 0.12f);
  Context a(Device::cpu(), 8);
  FaceSampler s(yaw, true);
  (void)s.next(a, 37);
  const SamplerState saved = s.state();
  EXPECT_EQ(saved.in_bin.size(), s.bins().size());
  const uint64_t offset = a.rng_offset();
  const std::vector<int32_t> expect = s.next(a, 50);

  Context b(Device::cpu(), 8);
  b.set_rng_state(8, offset);
  FaceSampler r(yaw, true);
  ASSERT_TRUE(r.restore(8, saved));
  EXPECT_EQ(r.next(b, 50), expect);

  FaceSampler other(yaw, false);
  EXPECT_FALSE(other.restore(8, saved)) << "a uniform_yaw state does not fit whole-set epochs";
  EXPECT_FALSE(r.restore(8, other.state())) << "nor the other way round";
  SamplerState wrong = saved;
  wrong.in_bin.pop_back();
  EXPECT_FALSE(r.restore(8, wrong)) << "a state with other bins";
}

TEST(FaceSampler, UniformYawTrainingResumesBitIdentically) {
  ScratchDir a("sampler_yaw_a"), b("sampler_yaw_b");
  for (const ScratchDir* d : {&a, &b}) write_face_sets(d->path(), 8, 64);
  auto config = [](const std::string& dir, int64_t target) {
    TrainerConfig cfg = micro_config(dir, target);
    cfg.request.uniform_yaw = true;
    return cfg;
  };
  {
    Trainer t(config(a.path(), 6));
    ASSERT_TRUE(t.step().src_sampler().uniform_yaw());
    EXPECT_GT(t.step().src_sampler().bins().size(), 1u) << "the synthetic faces turn their heads";
    t.run();
  }
  {
    Trainer t(config(b.path(), 3));
    t.run();
  }
  EXPECT_FALSE(ModelFolder(b.path() + "/model").read_state().src_sampler.in_bin.empty());
  {
    Trainer t(config(b.path(), 6));
    EXPECT_EQ(t.iteration(), 3);
    t.run();
  }
  EXPECT_EQ(read_text_file(a.path() + "/model/loss_history.csv"), read_text_file(b.path() + "/model/loss_history.csv"));
  const auto wa = folder_weights(a.path() + "/model"), wb = folder_weights(b.path() + "/model");
  for (const auto& [name, v] : wa)
    ASSERT_EQ(0, std::memcmp(v.data(), wb.at(name).data(), v.size() * sizeof(float))) << name;
}

}  // namespace
}  // namespace facet::train
