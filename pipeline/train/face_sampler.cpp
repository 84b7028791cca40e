// Whole-set and uniform-yaw batch sampling (see face_sampler.h).
#include "pipeline/train/face_sampler.h"

#include "engine/core/error.h"

namespace facet::train {

std::vector<std::vector<int32_t>> uniform_yaw_bins(const std::vector<float>& yaw) {
  constexpr int kBins = 128;
  constexpr double kLo = -1.2, kHi = 1.2;
  auto edge = [](int g) { return kLo + (kHi - kLo) * g / (kBins - 1); };  // numpy linspace(-1.2, 1.2, 128)
  std::vector<std::vector<int32_t>> bins(kBins);
  for (size_t i = 0; i < yaw.size(); ++i) {
    const double s = -static_cast<double>(yaw[i]);
    // Bin g holds [edge(g), edge(g+1)); bin 0 also everything below, bin 127 everything from 1.2.
    int g = 0;
    while (g < kBins - 1 && s >= edge(g + 1)) ++g;
    bins[static_cast<size_t>(g)].push_back(static_cast<int32_t>(i));
  }
  std::vector<std::vector<int32_t>> used;
  for (auto& b : bins)
    if (!b.empty()) used.push_back(std::move(b));
  return used;
}

namespace {
int64_t face_count(const std::vector<float>& yaw) {
  FACET_CHECK(!yaw.empty(), "FaceSampler: a face set needs at least one face");
  return static_cast<int64_t>(yaw.size());
}
}  // namespace

FaceSampler::FaceSampler(const std::vector<float>& yaw, bool uniform_yaw)
    : count_(face_count(yaw)),
      uniform_(uniform_yaw),
      all_(count_),
      bins_(uniform_yaw ? uniform_yaw_bins(yaw) : std::vector<std::vector<int32_t>>{}),
      bin_picker_(uniform_yaw ? static_cast<int64_t>(bins_.size()) : 1) {
  for (const auto& b : bins_) in_bin_.emplace_back(static_cast<int64_t>(b.size()));
}

void FaceSampler::next(Context& ctx, int64_t batch, std::vector<int32_t>& out) {
  if (!uniform_) {
    all_.next(ctx, batch, out);
    return;
  }
  out.resize(static_cast<size_t>(batch));
  for (int64_t b = 0; b < batch; ++b) {
    bin_picker_.next(ctx, 1, picks_);
    const size_t bin = static_cast<size_t>(picks_[0]);
    in_bin_[bin].next(ctx, 1, within_);
    out[static_cast<size_t>(b)] = bins_[bin][static_cast<size_t>(within_[0])];
  }
}

std::vector<int32_t> FaceSampler::next(Context& ctx, int64_t batch) {
  std::vector<int32_t> out;
  next(ctx, batch, out);
  return out;
}

SamplerState FaceSampler::state() const {
  if (!uniform_) return all_.state();
  SamplerState s = bin_picker_.state();
  for (const EpochSampler& e : in_bin_) s.in_bin.push_back(e.state());
  return s;
}

bool FaceSampler::restore(uint64_t seed, const SamplerState& st) {
  const bool saved_uniform = !st.in_bin.empty();
  if (saved_uniform != uniform_) return false;
  auto fits = [](const SamplerState& s, int64_t n) { return s.epoch < 0 || (s.pos >= 0 && s.pos <= n); };
  if (!uniform_) {
    if (!fits(st, count_)) return false;
    all_.restore(seed, st);
    return true;
  }
  if (st.in_bin.size() != bins_.size() || !fits(st, static_cast<int64_t>(bins_.size()))) return false;
  for (size_t i = 0; i < bins_.size(); ++i)
    if (!fits(st.in_bin[i], static_cast<int64_t>(bins_[i].size()))) return false;
  SamplerState top = st;
  top.in_bin.clear();
  bin_picker_.restore(seed, top);
  for (size_t i = 0; i < bins_.size(); ++i) in_bin_[i].restore(seed, st.in_bin[i]);
  return true;
}

}  // namespace facet::train
