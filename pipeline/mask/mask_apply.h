// `facet mask apply` and `facet mask remove`: a trained mask model's prediction written into each
// face's own metadata as its learned mask (DFL's `xseg apply`, mainscripts/XSegUtil.py), and taken
// out again. The mask is predicted on the face brought to the model's face type (the face image
// itself when the types match, else warped there through its landmarks, as DFL does), brought
// back to the face image, binarised at 0.5 and stored at the model's resolution (encode_xseg_mask:
// PNG, or JPEG when the PNG exceeds 50 000 bytes). Only the metadata chunk of each file changes:
// the pixels are not re-encoded. Each file is replaced atomically, so a kill leaves every face
// either as it was or fully updated, and a re-run redoes it all. Faces that cannot be read are
// skipped and named.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "engine/core/context.h"
#include "pipeline/faces/face_set.h"

namespace facet::mask {

struct MaskApplyResult {
  int64_t written = 0;  // faces whose file was updated
  int64_t unchanged = 0;  // remove: faces that had no learned mask
  std::vector<faces::SkippedFile> skipped;
  double seconds = 0;
};

// Throws facet::Error when the model or the folder is unusable.
MaskApplyResult apply_mask_model(Context& ctx, const std::string& model_dir, const std::string& faces_dir, int batch = 8,
                                 const std::function<void(int64_t done, int64_t total)>& progress = {});

MaskApplyResult remove_learned_masks(const std::string& faces_dir);

}  // namespace facet::mask
