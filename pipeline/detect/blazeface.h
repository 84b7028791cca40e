// BlazeFace face detection as MediaPipe's face_detection graphs run it: letterbox the frame
// into the model's square input (zero border, values in [-1, 1]), run the net on our engine for a
// batch of frames at once, decode the SSD outputs against the fixed anchor grid (XYWH boxes and 6
// keypoints, sigmoid score with clipping), merge overlapping boxes with MediaPipe's weighted NMS,
// and map the result back to frame pixels. Two models: short range (128², faces within ~2 m of
// the camera, 896 anchors) and full range (192² dense, smaller faces too, 2304 anchors).
#pragma once
#include <array>
#include <string>
#include <vector>

#include <opencv2/core/mat.hpp>

#include "engine/core/context.h"
#include "engine/tflite/model.h"
#include "pipeline/detect/roi.h"

namespace facet::detect {

enum class DetectorKind { ShortRange, FullRange };

// Everything that differs between the two detector models.
struct DetectorSpec {
  DetectorKind kind;
  const char* name;        // "short" / "full"
  const char* file;        // model file name in the assets folder
  int input_size;          // square input side
  std::vector<int> strides;  // SsdAnchorsCalculator layer strides
  double interpolated_scale_aspect_ratio;  // > 0 adds a second anchor per layer
  float mediapipe_score;   // min_score_thresh of MediaPipe's graph (0.5 short, 0.6 full)
};

const DetectorSpec& detector_spec(DetectorKind kind);
DetectorKind parse_detector_kind(const std::string& name);  // "short" | "full"; throws facet::Error

// Anchor centres (normalised to the input square) in the order the net's outputs use
// (fixed_anchor_size: every anchor is 1 x 1, only the centre matters).
std::vector<cv::Point2d> ssd_anchors(const DetectorSpec& spec);

// Keypoint order of the detector (subject's right/left, so for a frontal face the "right eye"
// is on the image's left).
enum DetectorKeypoint { kRightEye = 0, kLeftEye, kNoseTip, kMouthCenter, kRightEarTragion, kLeftEarTragion };

struct Detection {
  float score = 0;
  std::array<double, 4> box{};  // left, top, right, bottom
  std::array<cv::Point2d, 6> keypoints{};
  double width() const { return box[2] - box[0]; }
  double height() const { return box[3] - box[1]; }
};

// Decodes one frame's raw outputs (regressors: anchors x 16, scores: anchors logits) into
// detections in normalised input-square coordinates, dropping scores below `min_score`.
std::vector<Detection> decode_detections(const float* regressors, const float* scores,
                                         const std::vector<cv::Point2d>& anchors, int input_size, float min_score);

// Intersection over union of two boxes (left, top, right, bottom); 0 when the union is empty.
double box_iou(const std::array<double, 4>& a, const std::array<double, 4>& b);

// MediaPipe's WEIGHTED non-max suppression: highest score first, every box overlapping it by
// IoU > `iou_threshold` (itself included) is merged into a score-weighted mean box and keypoints
// that keeps the top score. Output sorted by score, highest first.
std::vector<Detection> weighted_nms(std::vector<Detection> dets, double iou_threshold = 0.3);

// The letterbox of a frame: the square of side max(W, H) centred on it.
RotatedRoi letterbox_roi(int frame_w, int frame_h);
// Normalised input-square coordinates -> frame pixels through that letterbox.
Detection project_detection(const Detection& d, const RotatedRoi& letterbox);

class BlazeFace {
 public:
  // Loads `model_path` (the .tflite of `kind`) onto `device`.
  BlazeFace(Context& ctx, DetectorKind kind, const std::string& model_path, Device device);

  const DetectorSpec& spec() const { return *spec_; }
  // Faces of each frame (8-bit BGR), in frame pixels, highest score first. One net run for all
  // frames. Scores below `min_score` are dropped before NMS, as MediaPipe does.
  std::vector<std::vector<Detection>> detect(const std::vector<const cv::Mat*>& frames, float min_score);

 private:
  Context* ctx_;
  const DetectorSpec* spec_;
  tflite::Model model_;
  std::vector<cv::Point2d> anchors_;
  int reg_output_ = 0, score_output_ = 1;
};

}  // namespace facet::detect
