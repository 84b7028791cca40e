// Face type table and names (see face_type.h).
#include "pipeline/faces/face_type.h"

#include <cmath>

#include "engine/core/error.h"

namespace facet::faces {

FaceTypeInfo face_type_info(FaceType t) {
  switch (t) {
    case FaceType::Half: return {0.0, false};
    case FaceType::MidFull: return {0.0675, false};
    case FaceType::Full: return {0.2109375, false};
    case FaceType::FullNoAlign: return {0.2109375, true};
    case FaceType::WholeFace: return {0.40, false};
    case FaceType::Head: return {0.70, false};
    case FaceType::HeadNoAlign: return {0.70, true};
  }
  throw Error("face_type_info: unknown face type");
}

double face_type_crop_ratio(FaceType t) { return 1.0 + 2.0 * std::sqrt(2.0) * face_type_info(t).padding; }

std::string face_type_name(FaceType t) {
  switch (t) {
    case FaceType::Half: return "half_face";
    case FaceType::MidFull: return "midfull_face";
    case FaceType::Full: return "full_face";
    case FaceType::FullNoAlign: return "full_face_no_align";
    case FaceType::WholeFace: return "whole_face";
    case FaceType::Head: return "head";
    case FaceType::HeadNoAlign: return "head_no_align";
  }
  throw Error("face_type_name: unknown face type");
}

FaceType parse_face_type(const std::string& n) {
  if (n == "half_face" || n == "half" || n == "h") return FaceType::Half;
  if (n == "midfull_face" || n == "mid_full" || n == "mf") return FaceType::MidFull;
  if (n == "full_face" || n == "full" || n == "f") return FaceType::Full;
  if (n == "full_face_no_align") return FaceType::FullNoAlign;
  if (n == "whole_face" || n == "wf") return FaceType::WholeFace;
  if (n == "head") return FaceType::Head;
  if (n == "head_no_align") return FaceType::HeadNoAlign;
  throw Error("unknown face type '" + n +
              "' (expected half_face|h, midfull_face|mf, full_face|f, full_face_no_align, whole_face|wf, "
              "head, head_no_align)");
}

}  // namespace facet::faces
