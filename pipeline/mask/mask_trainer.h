// `facet mask train`: trains the XSeg segmenter (engine/models/xseg_model.h) from labelled faces,
// as DeepFaceLab's Model_XSeg does: RMSprop at 1e-4 with lr_dropout 0.3, sigmoid cross-entropy
// per sample summed over the batch, batch 4, and its sample generator's augmentation
// (mask_augment.h). Labels are the include/exclude polygons drawn on the faces (`facet mask edit`,
// or DFL's seg_ie_polys); faces without polygons are left out. With no polygons anywhere, the
// run bootstraps from the faces' landmark hulls, so that a first model exists to apply and fix.
//
// Like `facet train` it can stop at any moment and continue exactly: the folder
// (mask_model.h) keeps weights, optimizer state, the iteration, the Philox position and the
// sampler's position; a kill between files leaves the previous checkpoint committed; SIGINT /
// SIGTERM save at the next step boundary. Augmentation draws depend only on (seed, iteration,
// slot), so a resumed run trains on the very samples an uninterrupted one would.
// Previews (image | label | prediction of fixed faces, un-augmented) and the loss curve (the
// training batches' loss and the un-augmented preview faces' loss) are written as it goes.
// Each batch's loss is read before its update, so a non-finite one is skipped exactly; on a GPU
// that is one device sync per step (SAEHD's step avoids it with a loss window; a mask model
// trains for hours, not days, and its step is dominated by the 256 px convolutions).
#pragma once
#include <cmath>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "engine/models/xseg_model.h"
#include "pipeline/faces/face_type.h"

namespace facet::mask {

struct MaskTrainConfig {
  std::vector<std::string> face_dirs;  // one or more face sets
  std::string model_dir;
  // Fixed when the folder is created (ignored on resume, where options.json wins).
  models::XSegOptions net;             // DFL: 256 px, 32 base channels
  faces::FaceType face_type = faces::FaceType::WholeFace;
  int batch = 4;
  int64_t target_iter = 0;   // stop at this iteration (0: no limit)
  double minutes = 0;        // stop after this much training in this run (0: no limit)
  double lr = 1e-4;
  bool lr_dropout = true;    // DFL's lr_dropout 0.3
  int64_t save_every = 1000; // iterations between checkpoints (and always at the end)
  int64_t preview_every = 200;
  int preview_count = 4;
  uint64_t seed = 0x5eed;    // for a new folder; a resumed run continues the stored stream
  bool cpu = false;          // train on the CPU even when a GPU is present
  bool handle_signals = true;
  int threads = 0;           // sample-building threads (0: OpenCV's default)
  std::function<void(const std::string&)> log;  // default: stdout
  std::function<void(int64_t iteration)> after_step;  // test seam (raise SIGINT, throw)
};

struct MaskTrainResult {
  int64_t start_iteration = 0, iteration = 0;
  bool resumed = false, stopped_by_signal = false;
  int64_t labelled_faces = 0;      // faces trained on
  bool bootstrapped = false;       // labels were landmark hulls (no polygons found)
  double ms_per_iteration = 0;     // this run's training time per iteration (saves excluded)
  float first_loss = NAN, last_loss = NAN;  // batch means, this run
  std::string model_dir;
};

// Throws facet::Error for missing or unusable face folders, bad options, a folder that is not a
// mask model, or a corrupt checkpoint, naming the file and the problem.
MaskTrainResult train_mask_model(const MaskTrainConfig& cfg);

}  // namespace facet::mask
