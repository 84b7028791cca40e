// Writing learned masks into face files and removing them (see mask_apply.h).
#include "pipeline/mask/mask_apply.h"

#include <algorithm>
#include <chrono>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "engine/core/error.h"
#include "pipeline/faces/align.h"
#include "pipeline/faces/face_image.h"
#include "pipeline/mask/mask_model.h"

namespace facet::mask {

namespace {

using Clock = std::chrono::steady_clock;

// The face at the model's face type (R_img x R_img, in the face image's own size) and the map
// from the face image into it; identity when the types match.
cv::Matx23d to_model_type(const faces::FaceMetadata& m, faces::FaceType model_type, int size) {
  if (m.face_type == model_type) return cv::Matx23d(1, 0, 0, 0, 1, 0);
  FACET_CHECK(m.landmarks.size() == 68, "expected 68 landmarks to change the face type, got ", m.landmarks.size());
  return faces::get_transform_mat(m.landmarks, size, model_type);
}

}  // namespace

MaskApplyResult apply_mask_model(Context& ctx, const std::string& model_dir, const std::string& faces_dir, int batch,
                                 const std::function<void(int64_t, int64_t)>& progress) {
  const auto t0 = Clock::now();
  MaskPredictor predictor(ctx, model_dir, batch);
  const int R = predictor.resolution();
  faces::FaceSet set = faces::load_face_set(faces_dir);
  MaskApplyResult res;
  res.skipped = set.skipped;
  const size_t chunk = static_cast<size_t>(std::max(1, batch));
  for (size_t start = 0; start < set.faces.size(); start += chunk) {
    const size_t end = std::min(set.faces.size(), start + chunk);
    std::vector<cv::Mat> inputs;
    std::vector<cv::Matx23d> mats;
    std::vector<size_t> which;
    std::vector<cv::Size> sizes;
    for (size_t i = start; i < end; ++i) {
      faces::FaceSetEntry& e = set.faces[i];
      try {
        const cv::Mat img = cv::imread(e.path, cv::IMREAD_COLOR);
        FACET_CHECK(!img.empty(), "cannot be decoded (missing, unreadable or corrupt image data)");
        const cv::Matx23d m = to_model_type(e.meta, predictor.record().face_type, img.cols);
        cv::Mat face = img;
        if (m != cv::Matx23d(1, 0, 0, 0, 1, 0))
          cv::warpAffine(img, face, m, img.size(), cv::INTER_LANCZOS4, cv::BORDER_CONSTANT);
        inputs.push_back(face);
        mats.push_back(m);
        which.push_back(i);
        sizes.push_back(img.size());
      } catch (const Error& err) {
        res.skipped.push_back({e.filename, err.what()});
      }
    }
    const std::vector<cv::Mat> masks = predictor.predict(inputs);
    for (size_t k = 0; k < which.size(); ++k) {
      faces::FaceSetEntry& e = set.faces[which[k]];
      cv::Mat mask = masks[k];
      if (mats[k] != cv::Matx23d(1, 0, 0, 0, 1, 0))
        cv::warpAffine(mask, mask, mats[k], sizes[k], cv::WARP_INVERSE_MAP | cv::INTER_LINEAR, cv::BORDER_CONSTANT);
      cv::resize(mask, mask, cv::Size(R, R), 0, 0, cv::INTER_LINEAR);
      cv::Mat bin;
      cv::threshold(mask, bin, 0.5, 255.0, cv::THRESH_BINARY);
      bin.convertTo(bin, CV_8U);
      try {
        e.meta.xseg_mask = faces::encode_xseg_mask(bin);
        faces::update_face_metadata(e.path, e.meta);
        ++res.written;
      } catch (const Error& err) {
        res.skipped.push_back({e.filename, err.what()});
      }
    }
    if (progress) progress(static_cast<int64_t>(end), static_cast<int64_t>(set.faces.size()));
  }
  res.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  return res;
}

MaskApplyResult remove_learned_masks(const std::string& faces_dir) {
  const auto t0 = Clock::now();
  faces::FaceSet set = faces::load_face_set(faces_dir);
  MaskApplyResult res;
  res.skipped = set.skipped;
  for (faces::FaceSetEntry& e : set.faces) {
    if (e.meta.xseg_mask.empty()) {
      ++res.unchanged;
      continue;
    }
    e.meta.xseg_mask.clear();
    try {
      faces::update_face_metadata(e.path, e.meta);
      ++res.written;
    } catch (const Error& err) {
      res.skipped.push_back({e.filename, err.what()});
    }
  }
  res.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  return res;
}

}  // namespace facet::mask
