// Face types: how much of the head an aligned face crop covers (DeepFaceLab's FaceType).
// The padding values are DFL's FaceType_to_padding_remove_align (facelib/LandmarksProcessor.py): the crop
// side is (1 + 2*sqrt(2)*padding) times the side of the landmark template square. Names follow
// DFL's strings so face sets are readable by people who know DFL.
#pragma once
#include <string>

namespace facet::faces {

enum class FaceType {
  Half,          // "half_face"          x1.0
  MidFull,       // "midfull_face"       x1.191
  Full,          // "full_face"          x1.597
  FullNoAlign,   // "full_face_no_align" x1.597, rotation removed
  WholeFace,     // "whole_face"         x2.131, centre 7% toward the forehead
  Head,          // "head"               x2.980, centre 50% up and shifted by yaw
  HeadNoAlign,   // "head_no_align"      x2.980, rotation removed
};

struct FaceTypeInfo {
  double padding;     // DFL padding
  bool remove_align;  // crop is an axis-aligned square of the same area
};

FaceTypeInfo face_type_info(FaceType t);

// Crop side divided by the template square side: 1 + 2*sqrt(2)*padding.
double face_type_crop_ratio(FaceType t);

// DFL's long names ("whole_face"); parse also accepts the short CLI names h, mf, f, wf, head.
std::string face_type_name(FaceType t);
FaceType parse_face_type(const std::string& name);  // throws facet::Error listing valid names

}  // namespace facet::faces
