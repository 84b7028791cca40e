// The faces a training run learns from, decoded once into memory at the training resolution with
// their landmark masks, so that every step builds its batch where the model trains (the
// augmentation op reads them straight from device memory: the GPU never waits for the CPU).
//
// Sources (a folder per identity):
//   - a face set as extraction writes it (pipeline/faces/face_set.h): images carrying their own
//     metadata (face type, 68 landmarks);
//   - a folder of aligned face images plus a `landmarks.json` sidecar, for faces made by other
//     tools: {"face_type": "full_face", "faces": {"a.png": [[x, y] x 68], ...}} (face_type
//     optional, default whole_face; landmarks in the image's pixels).
// Each face is brought to the training face type and resolution (DFL SampleProcessor: cubic
// resize when the types match, otherwise warpAffine with get_transform_mat and replicate
// border), and gets DFL's masks from its landmarks: the full-face hull and eyes+mouth.
// Unreadable or corrupt files are skipped and reported by name; they never stop a run.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "engine/augment/augment.h"
#include "engine/core/context.h"
#include "pipeline/faces/face_set.h"
#include "pipeline/faces/face_type.h"
#include "pipeline/faces/align.h"

#include <opencv2/core/mat.hpp>

namespace facet::train {

// Faces in host memory: BGR uint8 [N, R, R, 3] and f32 masks [N, R, R, 1].
struct HostFaces {
  std::string dir;
  int resolution = 0;
  std::vector<std::string> names;              // file name of each face, in load order
  std::vector<uint8_t> bgr;                    // N * R * R * 3
  std::vector<float> mask;                     // N * R * R, full-face hull, 0/1
  std::vector<float> eyes_mouth;               // N * R * R, eyes + mouth in [0, 1]
  std::vector<faces::SkippedFile> skipped;     // reported by name
  std::string source_face_type;                // of the first face (informational)
  int64_t size() const { return static_cast<int64_t>(names.size()); }
};

struct LoadFacesOptions {
  int resolution = 128;
  faces::FaceType face_type = faces::FaceType::Full;  // the model's face type
  int threads = 0;                                    // decode threads; 0 = OpenCV's default
};

// Loads a face-set folder (or an aligned-image folder with landmarks.json). Throws facet::Error
// when the folder is missing or holds no usable face (the message lists what was skipped).
HostFaces load_training_faces(const std::string& dir, const LoadFacesOptions& opt);

// Appends one face already cropped to the training face type at faces.resolution (BGR 8-bit,
// R x R) with its landmarks in that crop's pixels; draws its hull and eyes/mouth masks.
void append_face(HostFaces& faces, const std::string& name, const cv::Mat& bgr, const faces::Landmarks& lmrks,
                 double eyebrows_expand_mod = 1.0);

// The sidecar's name inside an aligned-image folder.
inline constexpr const char* kLandmarksSidecar = "landmarks.json";

// Where the bank of a side lives: on the training device (the normal case), or in host memory
// when it does not fit there; then batches are augmented on the CPU and uploaded each step.
enum class BankPlacement { Device, Host };

struct TrainingBank {
  FaceBank bank;
  BankPlacement placement = BankPlacement::Device;
  int64_t bytes = 0;  // images + masks
};

// Uploads host faces to ctx's device; with `allow_host_fallback`, a device allocation failure
// keeps them in host memory instead (force_host skips the attempt).
TrainingBank make_training_bank(Context& ctx, const HostFaces& faces, bool allow_host_fallback = true,
                                bool force_host = false);

}  // namespace facet::train
