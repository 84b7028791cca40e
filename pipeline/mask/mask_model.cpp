// Mask model folders and the predictor (see mask_model.h).
#include "pipeline/mask/mask_model.h"

#include <algorithm>
#include <cstring>
#include <filesystem>

#include <nlohmann/json.hpp>
#include <opencv2/imgproc.hpp>

#include "engine/autograd/tape.h"
#include "engine/core/error.h"
#include "engine/io/read_file.h"
#include "engine/io/safetensors.h"
#include "engine/ops/elementwise.h"
#include "pipeline/train/model_folder.h"

namespace facet::mask {

namespace fs = std::filesystem;
using nlohmann::json;

std::string mask_model_record_to_json(const MaskModelRecord& r) {
  json j;
  j["format"] = kMaskModelFormat;
  j["model"] = "xseg";
  j["resolution"] = r.net.resolution;
  j["base_channels"] = r.net.base_channels;
  j["face_type"] = faces::face_type_name(r.face_type);
  j["created_utc"] = r.created_utc;
  return j.dump(2) + "\n";
}

MaskModelRecord mask_model_record_from_json(const std::string& text, const std::string& what) {
  MaskModelRecord r;
  try {
    const json j = json::parse(text);
    FACET_CHECK(j.is_object() && j.value("format", std::string()) == kMaskModelFormat, what,
                ": not a mask model's options (expected \"format\": \"", kMaskModelFormat, "\")");
    FACET_CHECK(j.value("model", std::string()) == "xseg", what, ": unknown mask model '", j.value("model", std::string()),
                "' (this version has xseg)");
    r.net.resolution = j.at("resolution").get<int>();
    r.net.base_channels = j.at("base_channels").get<int>();
    r.face_type = faces::parse_face_type(j.at("face_type").get<std::string>());
    r.created_utc = j.value("created_utc", std::string());
  } catch (const json::exception& e) {
    throw Error(detail::concat(what, ": malformed mask model options (", e.what(), ")"));
  }
  try {
    models::validate(r.net);
  } catch (const Error& e) {
    throw Error(detail::concat(what, ": ", e.what()));
  }
  return r;
}

bool is_mask_model_folder(const std::string& dir) {
  const train::ModelFolder folder(dir);
  if (!fs::exists(folder.options_path())) return false;
  try {
    mask_model_record_from_json(read_text_file(folder.options_path()), folder.options_path());
    return true;
  } catch (const Error&) {
    return false;
  }
}

bool is_trained_mask_model(const std::string& dir) {
  return is_mask_model_folder(dir) && train::ModelFolder(dir).has_checkpoint();
}

MaskPredictor::MaskPredictor(Context& ctx, const std::string& model_dir, int batch)
    : ctx_(ctx), batch_(std::max(1, batch)) {
  const train::ModelFolder folder(model_dir);
  FACET_CHECK(fs::exists(folder.options_path()), model_dir, ": not a mask model folder (no options.json)");
  record_ = mask_model_record_from_json(read_text_file(folder.options_path()), folder.options_path());
  FACET_CHECK(folder.has_checkpoint(), model_dir, ": the mask model has no saved checkpoint yet (no state.json)");
  const train::TrainState st = folder.read_state();
  model_ = std::make_unique<models::XSegModel>(ctx, record_.net, nn::LayerInit{ctx.device(), DType::F32});
  load_into(ctx, folder.file(st.weights_file), train::checkpoint_weights(*model_));
  iteration_ = st.iteration;
}

MaskPredictor::~MaskPredictor() = default;

std::vector<cv::Mat> MaskPredictor::predict(const std::vector<cv::Mat>& faces) {
  const int R = resolution();
  const size_t px = static_cast<size_t>(R) * R;
  std::vector<cv::Mat> out;
  out.reserve(faces.size());
  std::vector<float> host;
  for (size_t start = 0; start < faces.size(); start += static_cast<size_t>(batch_)) {
    const size_t n = std::min(faces.size() - start, static_cast<size_t>(batch_));
    host.assign(n * px * 3, 0.f);
    for (size_t i = 0; i < n; ++i) {
      const cv::Mat& f = faces[start + i];
      FACET_CHECK(!f.empty() && (f.type() == CV_32FC3 || f.type() == CV_8UC3), "mask model: face ", start + i,
                  " is not a BGR image (type ", f.type(), ")");
      cv::Mat x;
      f.convertTo(x, CV_32F, f.depth() == CV_8U ? 1.0 / 255.0 : 1.0);
      if (x.rows != R || x.cols != R) cv::resize(x, x, cv::Size(R, R), 0, 0, cv::INTER_LANCZOS4);
      cv::min(cv::max(x, 0.0), 1.0, x);
      for (int y = 0; y < R; ++y)
        std::memcpy(&host[(i * px + static_cast<size_t>(y) * R) * 3], x.ptr<float>(y), static_cast<size_t>(R) * 3 * sizeof(float));
    }
    NoGradGuard ng(ctx_);
    const Tensor in = Tensor::from_vector(ctx_, {static_cast<int64_t>(n), R, R, 3}, host, DType::F32, Device::cpu())
                          .to(ctx_, ctx_.device());
    const std::vector<float> m = model_->mask(ctx_, in).to_float(ctx_);
    for (size_t i = 0; i < n; ++i) {
      cv::Mat mask(R, R, CV_32FC1);
      std::memcpy(mask.ptr<float>(), &m[i * px], px * sizeof(float));
      const cv::Mat& f = faces[start + i];
      if (f.rows != R || f.cols != R) cv::resize(mask, mask, f.size(), 0, 0, cv::INTER_LINEAR);
      out.push_back(mask);
    }
  }
  return out;
}

}  // namespace facet::mask
