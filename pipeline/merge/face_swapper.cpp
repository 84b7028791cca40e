// Loading a trained model for merge and running its swap forward in batches (see face_swapper.h).
#include "pipeline/merge/face_swapper.h"

#include <cstring>

#include "engine/core/error.h"
#include "engine/ops/elementwise.h"
#include "engine/ops/layout.h"
#include "pipeline/train/model_folder.h"

namespace facet::merge {

std::string to_string(SwapDirection d) { return d == SwapDirection::Src ? "src" : "dst"; }

SwapDirection parse_swap_direction(const std::string& s) {
  if (s == "src") return SwapDirection::Src;
  if (s == "dst") return SwapDirection::Dst;
  throw Error("swap direction must be \"src\" (draw the src identity on dst footage) or \"dst\" (the dst "
              "identity, e.g. on src footage), got \"" + s + "\"");
}

namespace {

// The mask branch of a decoder alone (Decoder::forward's second half).
Tensor mask_only(Context& ctx, models::Decoder& d, const Tensor& z) {
  Tensor mk = z;
  for (auto& u : d.mask_upscales) mk = u->forward(ctx, mk);
  return sigmoid(ctx, d.out_convm->forward(ctx, mk));
}

struct Outputs {
  Tensor image, mask, input_mask;
};

Outputs run_model(Context& ctx, models::SaehdModel& model, const Tensor& x, SwapDirection dir, bool want_input_mask) {
  Outputs o;
  if (auto* df = dynamic_cast<models::DFModel*>(&model)) {
    const Tensor z = df->inter->forward(ctx, df->encoder->forward(ctx, x));
    models::Decoder& draw = dir == SwapDirection::Src ? *df->decoder_src : *df->decoder_dst;
    models::Decoder& own = dir == SwapDirection::Src ? *df->decoder_dst : *df->decoder_src;
    models::ImageAndMask p = draw.forward(ctx, z);
    o.image = p.image, o.mask = p.mask;
    if (want_input_mask) o.input_mask = mask_only(ctx, own, z);
  } else if (auto* li = dynamic_cast<models::LIAEModel*>(&model)) {
    const Tensor e = li->encoder->forward(ctx, x);
    const Tensor ab = li->inter_AB->forward(ctx, e);
    const Tensor src_code = concat(ctx, {ab, ab}, -1);
    const Tensor dst_code = concat(ctx, {li->inter_B->forward(ctx, e), ab}, -1);
    const Tensor& draw = dir == SwapDirection::Src ? src_code : dst_code;
    const Tensor& own = dir == SwapDirection::Src ? dst_code : src_code;
    models::ImageAndMask p = li->decoder->forward(ctx, draw);
    o.image = p.image, o.mask = p.mask;
    if (want_input_mask) o.input_mask = mask_only(ctx, *li->decoder, own);
  } else {
    throw Error("merge: unknown SAEHD model class");
  }
  return o;
}

// Slice b of an [N, R, R, C] host array as an R x R cv::Mat of C float channels.
cv::Mat host_slice(const std::vector<float>& v, int64_t b, int R, int C) {
  cv::Mat m(R, R, CV_32FC(C));
  std::memcpy(m.data, v.data() + b * int64_t(R) * R * C, sizeof(float) * size_t(R) * R * C);
  return m;
}

}  // namespace

FaceSwapper::FaceSwapper(const std::string& model_dir, bool use_gpu) {
  const Device device = (use_gpu && cuda_available()) ? Device::cuda(0) : Device::cpu();
  ctx_ = std::make_unique<Context>(device);
  train::TrainState state;
  model_ = train::load_trained_model(*ctx_, model_dir, &record_, &state);
  iteration_ = state.iteration;
  resolution_ = record_.spec.net.resolution;
  face_type_ = faces::parse_face_type(record_.spec.net.face_type);
}

FaceSwapper::~FaceSwapper() = default;

std::vector<SwapPrediction> FaceSwapper::predict(const std::vector<cv::Mat>& faces, SwapDirection dir,
                                                 bool want_input_mask) {
  std::vector<SwapPrediction> out;
  if (faces.empty()) return out;
  const int R = resolution_;
  const int64_t N = int64_t(faces.size()), px = int64_t(R) * R * 3;
  std::vector<float> host(size_t(N * px));
  for (int64_t i = 0; i < N; ++i) {
    const cv::Mat& f = faces[size_t(i)];
    FACET_CHECK(f.type() == CV_32FC3 && f.rows == R && f.cols == R, "merge: face crop ", i, " must be ", R, "x", R,
                " CV_32FC3, got ", f.cols, "x", f.rows, " type ", f.type());
    const cv::Mat c = f.isContinuous() ? f : f.clone();
    std::memcpy(host.data() + i * px, c.ptr<float>(), sizeof(float) * size_t(px));
  }
  Context& ctx = *ctx_;
  NoGradGuard ng(ctx);
  const Tensor x = Tensor::from_vector(ctx, {N, R, R, 3}, host, DType::F32, ctx.device());
  const Outputs o = run_model(ctx, *model_, x, dir, want_input_mask);
  const std::vector<float> img = o.image.to_float(ctx), msk = o.mask.to_float(ctx);
  std::vector<float> imsk;
  if (want_input_mask) imsk = o.input_mask.to_float(ctx);
  out.resize(size_t(N));
  for (int64_t i = 0; i < N; ++i) {
    out[size_t(i)].face = host_slice(img, i, R, 3);
    out[size_t(i)].mask = host_slice(msk, i, R, 1);
    if (want_input_mask) out[size_t(i)].input_mask = host_slice(imsk, i, R, 1);
  }
  return out;
}

}  // namespace facet::merge
