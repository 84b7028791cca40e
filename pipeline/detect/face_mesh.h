// FaceMesh landmarks (MediaPipe face_landmark.tflite and its face_landmark graph): each face's
// rotated square ROI is resampled to 192x192 (edge pixels replicated, values in [0, 1]), all
// crops of a batch go through the net in one run, and the 468 (x, y, z) outputs are projected
// back into frame pixels; the second output is the face-presence logit (sigmoid -> probability).
#pragma once
#include <string>
#include <vector>

#include <opencv2/core/mat.hpp>
#include <opencv2/core/types.hpp>

#include "engine/core/context.h"
#include "engine/tflite/model.h"
#include "pipeline/detect/roi.h"

namespace facet::detect {

constexpr const char* kFaceLandmarkFile = "face_landmark.tflite";
constexpr int kFaceMeshInput = 192;

struct MeshResult {
  std::vector<cv::Point3f> points;  // 468 (x, y, z) in frame pixels; z: relative depth, same scale
  float presence = 0;               // sigmoid of the face-flag logit
  RotatedRoi roi;                   // the crop the net saw
};

struct MeshRequest {
  const cv::Mat* frame = nullptr;  // 8-bit BGR
  RotatedRoi roi;
};

// Net outputs (192-pixel input units) -> frame pixels through `roi` (LandmarkProjectionCalculator).
std::vector<cv::Point3f> project_mesh(const float* raw1404, const RotatedRoi& roi);

class FaceMesh {
 public:
  FaceMesh(Context& ctx, const std::string& model_path, Device device);
  // One net run for all requests (any number, any frames).
  std::vector<MeshResult> run(const std::vector<MeshRequest>& requests);

 private:
  Context* ctx_;
  tflite::Model model_;
  int mesh_output_ = 0, flag_output_ = 1;
};

}  // namespace facet::detect
