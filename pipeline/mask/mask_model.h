// A mask model folder (`facet mask train` writes it, `facet mask apply` and merge read it): the
// XSeg segmenter (engine/models/xseg_model.h) with the same checkpoint layout and crash safety
// as a SAEHD model folder (pipeline/train/model_folder.h: state.json commits weights-<iter> and
// optimizer-<iter>.safetensors, loss_history.csv, loss_curve.png, previews/), and its own
// options.json:
//   {"format": "facet-mask-model-1", "model": "xseg", "resolution": 256, "base_channels": 32,
//    "face_type": "wf", "created_utc": "..."}
// resolution, base_channels and face_type are fixed when the folder is created.
//
// MaskPredictor runs a trained model on face crops of any size: each is resized to the model's
// resolution (Lanczos, as DFL's XSegNet.extract is fed) and its mask resized back (linear).
// Faces go through the network in batches; the CPU forward is per sample, so the masks do not
// depend on how faces were batched.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include <opencv2/core/mat.hpp>

#include "engine/core/context.h"
#include "engine/models/xseg_model.h"
#include "pipeline/faces/face_type.h"

namespace facet::mask {

inline constexpr const char* kMaskModelFormat = "facet-mask-model-1";

struct MaskModelRecord {
  models::XSegOptions net;
  faces::FaceType face_type = faces::FaceType::WholeFace;  // DFL's XSeg default
  std::string created_utc;
};

std::string mask_model_record_to_json(const MaskModelRecord& r);
// Throws facet::Error naming `what` for malformed JSON, another format or bad options.
MaskModelRecord mask_model_record_from_json(const std::string& text, const std::string& what);

// True when `dir` holds a mask model's options.json (trained or not).
bool is_mask_model_folder(const std::string& dir);
// True when it also has a committed checkpoint (state.json).
bool is_trained_mask_model(const std::string& dir);

class MaskPredictor {
 public:
  // Loads the latest checkpoint of `model_dir` onto ctx's device. Throws facet::Error naming the
  // folder when it is not a trained mask model or its files do not load.
  MaskPredictor(Context& ctx, const std::string& model_dir, int batch = 8);
  ~MaskPredictor();

  const MaskModelRecord& record() const { return record_; }
  int resolution() const { return record_.net.resolution; }
  int64_t iteration() const { return iteration_; }

  // faces: CV_32FC3 BGR in [0,1] (or CV_8UC3), any size. One CV_32FC1 mask in [0,1] per face,
  // at that face's size.
  std::vector<cv::Mat> predict(const std::vector<cv::Mat>& faces);
  cv::Mat predict(const cv::Mat& face) { return predict(std::vector<cv::Mat>{face}).front(); }

 private:
  Context& ctx_;
  std::unique_ptr<models::XSegModel> model_;
  MaskModelRecord record_;
  int64_t iteration_ = 0;
  int batch_;
};

}  // namespace facet::mask
