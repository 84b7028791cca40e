// Inference results must not depend on how frames or faces are batched: the same inputs run at
// batch 1, 3 and 8 give bit-identical per-sample outputs, for the SAEHD models the merge runs
// (swap and reconstructions of df-ud, liae-ud and df) and for the TFLite nets extraction runs (a
// hand-made graph always, the MediaPipe face nets when the assets are present).
//
// Equal outputs on this machine are not enough: OpenBLAS picks size-dependent GEMM kernels only on
// some CPUs (the small-matrix kernels of AVX-512 ones), so a GEMM whose shape follows the batch
// size passes here and fails there. Hence each run also records the shape of every GEMM the
// forward makes (batch/gemm_recorder.h) and expects the same set of shapes at every batch size:
// the CPU forwards run each sample on its own (convolution GEMMs that never span two images, dense
// layers one row at a time), which holds on every CPU. Convolutions on oneDNN make no GEMM of ours:
// for them the test checks that every forward primitive oneDNN made runs at batch 1 (one image per
// execution, kernels/onednn/conv2d.h), the same guarantee by construction.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <functional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "engine/core/context.h"
#include "engine/models/saehd_model.h"
#include "engine/tflite/model.h"
#include "facet_config.h"
#include "kernels/onednn/conv2d.h"
#include "batch/gemm_recorder.h"
#include "support/test_paths.h"

using namespace facet;

namespace {

// Deterministic [n, h, w, c] inputs in [0, 1); sample i is the same whatever n is.
std::vector<float> samples(int64_t n, int64_t per_sample, uint32_t seed) {
  std::vector<float> v(static_cast<size_t>(n * per_sample));
  for (int64_t i = 0; i < n; ++i) {
    std::mt19937 rng(seed + static_cast<uint32_t>(i));
    std::uniform_real_distribution<float> u(0.f, 1.f);
    for (int64_t k = 0; k < per_sample; ++k) v[static_cast<size_t>(i * per_sample + k)] = u(rng);
  }
  return v;
}

// oneDNN forward primitives the context has made; each must run one image at a time.
size_t onednn_forwards(Context& ctx, const std::string& what) {
  size_t n = 0;
#if FACET_HAS_ONEDNN
  if (onednn::ConvCache* dnn = ctx.onednn_convs())
    for (const onednn::ProblemInfo& p : dnn->problems())
      if (p.pass == "forward" || p.pass == "depthwise_forward") {
        ++n;
        EXPECT_EQ(p.batch, 1) << what << ": a oneDNN forward (" << p.kernel << ") spans " << p.batch << " images";
      }
#else
  (void)ctx;
  (void)what;
#endif
  return n;
}

using Net = std::function<std::vector<Tensor>(Context&, const Tensor&)>;

// Runs `net` over 8 samples in batches of 8, 1 and 3 (the last batch of 3 holds 2) and expects
// every output of every sample to be bit-identical across the three.
// `makes_gemms`: the net has layers that run on GEMMs or oneDNN convolutions (tiny_blocks has
// none), so a run that records neither means the recorder is not bound and the check proves nothing.
void expect_batch_independent(Context& ctx, const Net& net, const Shape& sample_shape, const std::string& what,
                              bool makes_gemms = true) {
  constexpr int64_t kSamples = 8;
  int64_t per = 1;
  for (size_t i = 1; i < sample_shape.size(); ++i) per *= sample_shape[i];
  const std::vector<float> all = samples(kSamples, per, 11);
  std::vector<std::vector<std::vector<float>>> runs;  // [batching][output] flattened over samples
  std::vector<std::set<test::GemmShape>> gemms;        // [batching]
  for (int64_t b : {8, 1, 3}) {
    std::vector<std::vector<float>> outs;
    test::GemmRecorder recorder;
    for (int64_t i0 = 0; i0 < kSamples; i0 += b) {
      const int64_t n = std::min(b, kSamples - i0);
      Shape s = sample_shape;
      s[0] = n;
      const std::vector<float> part(all.begin() + i0 * per, all.begin() + (i0 + n) * per);
      const std::vector<Tensor> ys = net(ctx, Tensor::from_vector(ctx, s, part));
      outs.resize(ys.size());
      for (size_t k = 0; k < ys.size(); ++k) {
        const std::vector<float> y = ys[k].to_float(ctx);
        outs[k].insert(outs[k].end(), y.begin(), y.end());
      }
    }
    runs.push_back(std::move(outs));
    if (makes_gemms)
      EXPECT_GT(recorder.calls() + static_cast<int64_t>(onednn_forwards(ctx, what)), 0)
          << what << " at batch " << b << ": no GEMM recorded (is the recorder bound?) and no oneDNN convolution made";
    gemms.push_back(recorder.shapes());
  }
  const char* names[] = {"batch 8", "batch 1", "batch 3"};
  for (size_t r = 1; r < gemms.size(); ++r)
    EXPECT_EQ(gemms[r], gemms[0]) << what << ": the forward's GEMM shapes at " << names[r] << " differ from those at "
                                  << names[0] << " (" << gemms[r].size() << " vs " << gemms[0].size()
                                  << " distinct): a GEMM spans samples, so BLAS kernel choice can tie results to the batch";
  for (size_t r = 1; r < runs.size(); ++r)
    for (size_t k = 0; k < runs[0].size(); ++k) {
      ASSERT_EQ(runs[r][k].size(), runs[0][k].size()) << what;
      size_t differ = 0;
      for (size_t i = 0; i < runs[0][k].size(); ++i)
        differ += std::memcmp(&runs[0][k][i], &runs[r][k][i], sizeof(float)) != 0;
      EXPECT_EQ(differ, 0u) << what << ": output " << k << ", " << names[r] << " vs " << names[0] << ": " << differ
                            << " of " << runs[0][k].size() << " values differ";
    }
}

models::SaehdOptions toy(const std::string& archi, int resolution) {
  models::SaehdOptions o = models::saehd_preset("tiny");
  o.archi = archi;
  o.resolution = resolution;
  return o;
}

TEST(BatchIndependence, SaehdSwapAndReconstructions) {
  Context ctx(Device::cpu(), 5);
  NoGradGuard ng(ctx);
  for (const models::SaehdOptions& o : {models::saehd_preset("tiny"), toy("liae-ud", 64), toy("df", 96)}) {
    auto model = models::SaehdModel::create(ctx, o);
    const Shape s{1, o.resolution, o.resolution, 3};
    expect_batch_independent(
        ctx,
        [&](Context& c, const Tensor& x) {
          models::ImageAndMask sw = model->swap(c, x), rs = model->reconstruct_src(c, x);
          return std::vector<Tensor>{sw.image, sw.mask, rs.image, rs.mask};
        },
        s, o.archi + " @" + std::to_string(o.resolution));
  }
}

TEST(BatchIndependence, TfliteGraph) {
  Context ctx;
  tflite::Model m = tflite::load_tflite(ctx, test::fixture_path("tflite/tiny_blocks.tflite"), Device::cpu());
  expect_batch_independent(
      ctx, [&](Context& c, const Tensor& x) { return m.run(c, {x}); }, m.inputs()[0].shape, "tiny_blocks", false);
}

TEST(BatchIndependence, MediapipeFaceNets) {
  for (const char* name : {"face_detection_short_range", "face_detection_full_range", "face_landmark"}) {
    const std::string path = test::asset_path(std::string(name) + ".tflite");
    if (!test::file_exists(path)) GTEST_SKIP() << "missing " << path << " (run scripts/fetch-assets.sh or set FACET_ASSETS)";
    Context ctx;
    tflite::Model m = tflite::load_tflite(ctx, path, Device::cpu());
    expect_batch_independent(
        ctx, [&](Context& c, const Tensor& x) { return m.run(c, {x}); }, m.inputs()[0].shape, name);
  }
}

}  // namespace
