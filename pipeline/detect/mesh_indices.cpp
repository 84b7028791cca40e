// FaceMesh index tables (see mesh_indices.h).
#include "pipeline/detect/mesh_indices.h"

#include "engine/core/error.h"

namespace facet::detect {

const std::array<int, 68> kMeshToIbug68 = {
    162, 234, 93, 58, 172, 136, 149, 148, 152, 377, 378, 365, 397, 288, 323, 454, 389,  // jaw 0-16
    71, 63, 105, 66, 107, 336, 296, 334, 293, 301,                                       // brows 17-26
    168, 197, 5, 4, 75, 97, 2, 326, 305,                                                 // nose 27-35
    33, 160, 158, 133, 153, 144, 362, 385, 387, 263, 373, 380,                           // eyes 36-47
    61, 39, 37, 0, 267, 269, 291, 405, 314, 17, 84, 181,                                 // outer mouth 48-59
    78, 82, 13, 312, 308, 317, 14, 87};                                                  // inner mouth 60-67

const std::vector<int> kMeshFaceOval = {10,  338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288,
                                        397, 365, 379, 378, 400, 377, 152, 148, 176, 149, 150, 136,
                                        172, 58,  132, 93,  234, 127, 162, 21,  54,  103, 67,  109};
const std::vector<int> kMeshLipsOuterUpper = {61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291};
const std::vector<int> kMeshLipsOuterLower = {61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291};
const std::vector<int> kMeshLipsInnerUpper = {78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308};
const std::vector<int> kMeshLipsInnerLower = {78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308};
const std::vector<int> kMeshRightEyeUpper = {33, 246, 161, 160, 159, 158, 157, 173, 133};
const std::vector<int> kMeshRightEyeLower = {33, 7, 163, 144, 145, 153, 154, 155, 133};
const std::vector<int> kMeshLeftEyeUpper = {263, 466, 388, 387, 386, 385, 384, 398, 362};
const std::vector<int> kMeshLeftEyeLower = {263, 249, 390, 373, 374, 380, 381, 382, 362};
const std::vector<int> kMeshRightEyebrow = {46, 53, 52, 65, 55, 70, 63, 105, 66, 107};
const std::vector<int> kMeshLeftEyebrow = {276, 283, 282, 295, 285, 300, 293, 334, 296, 336};

faces::Landmarks mesh_to_ibug68(const std::vector<cv::Point3f>& mesh) {
  FACET_CHECK(mesh.size() == size_t(kMeshPoints), "mesh_to_ibug68: expected 468 landmarks, got ", mesh.size());
  faces::Landmarks out(68);
  for (int i = 0; i < 68; ++i) out[size_t(i)] = {mesh[size_t(kMeshToIbug68[size_t(i)])].x, mesh[size_t(kMeshToIbug68[size_t(i)])].y};
  return out;
}

}  // namespace facet::detect
