// FaceMesh: crop, batched net run, projection (MediaPipe's face_landmark graph:
// ImageToTensorCalculator, TensorsToLandmarksCalculator, LandmarkProjectionCalculator).
#include "pipeline/detect/face_mesh.h"

#include <cmath>

#include "engine/core/error.h"
#include "pipeline/detect/mesh_indices.h"

namespace facet::detect {

std::vector<cv::Point3f> project_mesh(const float* raw, const RotatedRoi& roi) {
  const double c = std::cos(roi.rotation), s = std::sin(roi.rotation);
  std::vector<cv::Point3f> pts(kMeshPoints);
  for (int k = 0; k < kMeshPoints; ++k) {
    const double x = raw[3 * k] / double(kFaceMeshInput) - 0.5;
    const double y = raw[3 * k + 1] / double(kFaceMeshInput) - 0.5;
    const double z = raw[3 * k + 2] / double(kFaceMeshInput);
    pts[size_t(k)] = cv::Point3f(float(roi.cx + (c * x - s * y) * roi.w), float(roi.cy + (s * x + c * y) * roi.h),
                                 float(z * roi.w));
  }
  return pts;
}

FaceMesh::FaceMesh(Context& ctx, const std::string& model_path, Device device)
    : ctx_(&ctx), model_(tflite::load_tflite(ctx, model_path, device)) {
  const auto& outs = model_.outputs();
  FACET_CHECK(outs.size() == 2 && model_.inputs().size() == 1, model_path,
              ": not the FaceMesh landmark model (expected 1 input and 2 outputs)");
  mesh_output_ = outs[0].shape.back() == 3 * kMeshPoints ? 0 : 1;
  flag_output_ = 1 - mesh_output_;
  FACET_CHECK(outs[size_t(mesh_output_)].shape.back() == 3 * kMeshPoints && outs[size_t(flag_output_)].shape.back() == 1,
              model_path, ": outputs are not 468 x 3 landmarks and a face flag; is this face_landmark.tflite?");
  const auto& in = model_.inputs()[0].shape;
  FACET_CHECK(in.size() == 4 && in[1] == kFaceMeshInput && in[2] == kFaceMeshInput && in[3] == 3, model_path,
              ": input is not 192x192x3; is this face_landmark.tflite?");
}

std::vector<MeshResult> FaceMesh::run(const std::vector<MeshRequest>& req) {
  std::vector<MeshResult> out(req.size());
  if (req.empty()) return out;
  const int S = kFaceMeshInput;
  const int64_t N = int64_t(req.size());
  Tensor input = Tensor::empty(*ctx_, {N, S, S, 3}, DType::F32, Device::cpu());
  float* in = input.data_as<float>();
  for (int64_t i = 0; i < N; ++i)
    sample_roi(*req[size_t(i)].frame, req[size_t(i)].roi, S, S, Border::Replicate, 0.f, 1.f, in + i * S * S * 3);
  std::vector<Tensor> outs = model_.run(*ctx_, {input});
  const std::vector<float> mesh = outs[size_t(mesh_output_)].to_float(*ctx_);
  const std::vector<float> flag = outs[size_t(flag_output_)].to_float(*ctx_);
  for (int64_t i = 0; i < N; ++i) {
    out[size_t(i)].roi = req[size_t(i)].roi;
    out[size_t(i)].points = project_mesh(mesh.data() + i * 3 * kMeshPoints, req[size_t(i)].roi);
    out[size_t(i)].presence = float(1.0 / (1.0 + std::exp(-double(flag[size_t(i)]))));
  }
  return out;
}

}  // namespace facet::detect
