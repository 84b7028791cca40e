// The model side of the merge stage: a trained SAEHD model loaded from its model folder
// (pipeline/train/model_folder.h: options.json + the weights state.json commits) and its merge
// forward run on batches of aligned dst faces. DeepFaceLab's predictor (Model_SAEHD L857-862)
// returns three things per face, and so does this: the predicted face, its learned mask
// ("learned-prd") and the learned mask of the input face as its own identity ("learned-dst").
// The encoder and inter run once per batch; the second mask comes from the other decoder's mask
// branch alone (about a seventh of a decoder's FLOPs), and only when the mask mode needs it.
//
// Direction (faceswap's --swap-model): Src draws the src identity on dst footage (DFL's swap:
// dst code -> src decoder). Dst draws the dst identity instead (the dst decoder), for running a
// model the other way round on a src video. "learned-dst" is then the src decoder's mask.
//   DF:   z = inter(enc(x));  Src: decoder_src(z), mask of decoder_dst(z);  Dst: the reverse.
//   LIAE: a = AB(enc(x)), b = B(enc(x));  Src: decoder([a, a]), mask of decoder([b, a]);  Dst: the reverse.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <opencv2/core/mat.hpp>

#include "engine/core/context.h"
#include "engine/models/saehd_model.h"
#include "pipeline/faces/face_type.h"
#include "pipeline/train/train_options.h"

namespace facet::merge {

enum class SwapDirection { Src, Dst };
std::string to_string(SwapDirection d);          // "src" / "dst"
SwapDirection parse_swap_direction(const std::string& s);  // throws facet::Error

struct SwapPrediction {
  cv::Mat face;        // R x R CV_32FC3 BGR (0,1)
  cv::Mat mask;        // R x R CV_32FC1: the predicted face's learned mask (learned-prd)
  cv::Mat input_mask;  // R x R CV_32FC1: the input face's learned mask (learned-dst); empty if not asked
};

class FaceSwapper {
 public:
  // Loads the model (on the GPU when use_gpu and one is present). Throws facet::Error naming the
  // folder when it is not a model folder, has no checkpoint or its files do not load.
  FaceSwapper(const std::string& model_dir, bool use_gpu);
  ~FaceSwapper();

  int resolution() const { return resolution_; }
  faces::FaceType face_type() const { return face_type_; }
  const train::ModelRecord& record() const { return record_; }
  int64_t iteration() const { return iteration_; }
  std::string device() const { return ctx_->device().str(); }

  // faces: R x R CV_32FC3 BGR [0,1] crops. One prediction per face, in order.
  std::vector<SwapPrediction> predict(const std::vector<cv::Mat>& faces, SwapDirection dir, bool want_input_mask);

 private:
  std::unique_ptr<Context> ctx_;
  std::unique_ptr<models::SaehdModel> model_;
  train::ModelRecord record_;
  int64_t iteration_ = 0;
  int resolution_ = 0;
  faces::FaceType face_type_ = faces::FaceType::Full;
};

}  // namespace facet::merge
