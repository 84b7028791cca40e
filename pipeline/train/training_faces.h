// The faces a training run learns from, decoded once into memory at the training resolution with
// their landmark masks, so that every step builds its batch where the model trains (the
// augmentation op reads them straight from device memory, or from mapped pinned host memory
// when they do not fit: the GPU never waits for the CPU).
//
// Sources (a folder per identity):
//   - a face set as extraction writes it (pipeline/faces/face_set.h): images carrying their own
//     metadata (face type, 68 landmarks);
//   - a folder of aligned face images plus a `landmarks.json` sidecar, for faces made by other
//     tools: {"face_type": "full_face", "faces": {"a.png": [[x, y] x 68], ...}} (face_type
//     optional, default whole_face; landmarks in the image's pixels).
// Each face is brought to the training face type and resolution (DFL SampleProcessor: cubic
// resize when the types match, otherwise warpAffine with get_transform_mat and replicate
// border), and gets DFL's masks: the face mask is the learned mask stored with the face
// (`facet mask apply`, or DFL's xseg_mask), brought through the same crop, else the landmark hull
// (DFL SampleProcessor's get_full_face_mask); eyes+mouth always come from the landmarks.
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
  std::vector<float> mask;                     // N * R * R: the stored learned mask, else the hull (0/1)
  std::vector<float> eyes_mouth;               // N * R * R, eyes + mouth in [0, 1]
  std::vector<float> yaw;                      // N, head yaw in radians (DFL estimate_pitch_yaw_roll), for uniform_yaw
  std::vector<faces::SkippedFile> skipped;     // reported by name
  std::string source_face_type;                // of the first face (informational)
  int64_t learned_masks = 0;                   // faces whose mask is their stored learned mask
  int64_t unlabelled = 0;                      // FaceMaskSource::Polygons: faces left out, no polygons
  int64_t size() const { return static_cast<int64_t>(names.size()); }
};

// Where each face's mask comes from.
enum class FaceMaskSource {
  LearnedElseHull,  // the stored learned mask when the face has one, else the landmark hull (training)
  Polygons,         // the drawn include/exclude polygons, binarised at 0.5 after the crop (mask
                    // training labels, DFL's SampleGeneratorFaceXSeg); faces without any are left out
  Hull,             // the landmark hull always (labels to bootstrap a mask model from)
};

struct LoadFacesOptions {
  int resolution = 128;
  faces::FaceType face_type = faces::FaceType::Full;  // the model's face type
  int threads = 0;                                    // decode threads; 0 = OpenCV's default
  FaceMaskSource mask_source = FaceMaskSource::LearnedElseHull;
  // Replace what lies outside each face's mask with its own colours pushed outward
  // (faces/background_fill.h): the source side under masked training, so that the swap never
  // carries the source's backdrop into the frame.
  bool fill_outside_mask = false;
};

// Loads a face-set folder (or an aligned-image folder with landmarks.json). Throws facet::Error
// when the folder is missing or holds no usable face (the message lists what was skipped); with
// FaceMaskSource::Polygons a folder whose faces are all readable but unlabelled comes back empty.
HostFaces load_training_faces(const std::string& dir, const LoadFacesOptions& opt);

// Appends one face already cropped to the training face type at faces.resolution (BGR 8-bit,
// R x R) with its landmarks in that crop's pixels; draws its hull and eyes/mouth masks.
void append_face(HostFaces& faces, const std::string& name, const cv::Mat& bgr, const faces::Landmarks& lmrks,
                 double eyebrows_expand_mod = 1.0);

// The sidecar's name inside an aligned-image folder.
inline constexpr const char* kLandmarksSidecar = "landmarks.json";

// Where the bank of a side lives:
//   Device      in the training device's memory (the normal case; the CPU's memory on the CPU);
//   PinnedHost  on a GPU, in page-locked host memory mapped for it, when the faces do not fit in
//               device memory (or --faces-on-host): the device augmentation kernels read the
//               faces over the bus, so batches are still built on the GPU with no host work;
//   Host        ordinary host memory, the last resort when the OS refuses to pin that much:
//               batches are then augmented on the CPU and uploaded each step.
enum class BankPlacement { Device, PinnedHost, Host };
const char* placement_name(BankPlacement p);

// The banks the device's augmentation kernels can read (and rct partners they can pair).
inline bool device_readable(BankPlacement p) { return p != BankPlacement::Host; }

struct TrainingBank {
  FaceBank bank;
  BankPlacement placement = BankPlacement::Device;
  int64_t bytes = 0;  // images + masks
};

// Puts host faces where ctx's device can build batches from them: device memory, else (with
// `allow_host_fallback`, on a GPU) pinned mapped host memory, else ordinary host memory.
// `force_host` skips the device attempt.
TrainingBank make_training_bank(Context& ctx, const HostFaces& faces, bool allow_host_fallback = true,
                                bool force_host = false);
// The last resort alone: ordinary host memory, batches built on the CPU.
TrainingBank make_host_training_bank(Context& ctx, const HostFaces& faces);

}  // namespace facet::train
