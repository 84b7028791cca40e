// Inputs for the merge-stage tests, all made on the spot: a tiny model trained for two iterations
// and saved in the model-folder format (the trainer's own code path), and a small synthetic dst
// clip — 12 frames of 160x120 at 24 fps with a cartoon face moving through frames 2..9, encoded
// with our VideoWriter (plus a 440 Hz tone when the ffmpeg CLI is there to make one) — with its
// face set and hand-built alignments file, as extraction would have written them. The face image
// of frame 5 is deleted, so frames 0, 1, 5, 10 and 11 have no face to merge.
#pragma once
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <opencv2/imgproc.hpp>

#include "pipeline/faces/alignments.h"
#include "pipeline/faces/face_image.h"
#include "pipeline/merge/merge_stage.h"
#include "pipeline/train/synthetic_faces.h"
#include "pipeline/train/trainer.h"
#include "pipeline/video/video_reader.h"
#include "pipeline/video/video_writer.h"
#include "test_trainer_support.h"

namespace facet::testing {

inline constexpr int kClipFrames = 12, kClipW = 160, kClipH = 120;
inline bool clip_frame_has_face(int i) { return i >= 2 && i <= 9; }
inline constexpr int kDeletedFaceFrame = 5;
inline bool clip_frame_merged(int i) { return clip_frame_has_face(i) && i != kDeletedFaceFrame; }

// A micro model (df-ud, 64 px, full_face) trained for 2 iterations into <dir>/model.
inline std::string make_micro_model(const std::string& dir, const std::string& archi = "") {
  write_face_sets(dir, 4, 64);
  train::TrainerConfig c = micro_config(dir, 2);
  if (!archi.empty()) c.request.archi = archi;
  c.handle_signals = false;
  train::Trainer(c).run();
  return c.model_dir;
}

struct Clip {
  std::string video, alignments, faces_dir;
  bool has_audio = false;
  std::map<int, faces::Landmarks> landmarks;  // frame -> frame landmarks
};

inline cv::Mat clip_background(int i) {
  cv::Mat img(kClipH, kClipW, CV_8UC3);
  for (int y = 0; y < kClipH; ++y)
    for (int x = 0; x < kClipW; ++x)
      img.at<cv::Vec3b>(y, x) = cv::Vec3b(uint8_t(60 + x), uint8_t(40 + y + i), uint8_t(120 + (x + y) / 3));
  cv::circle(img, cv::Point(130, 20 + 4 * i), 9, cv::Scalar(20, 200, 240), -1, cv::LINE_AA);
  return img;
}

// Writes the clip into `dir`: clip.mp4, faces/ (face images of `face_size`), faces/clip.alignments.json.
inline Clip make_clip(const std::string& dir, int face_size = 64) {
  namespace fs = std::filesystem;
  Clip c;
  c.video = dir + "/clip.mp4";
  c.faces_dir = dir + "/faces";
  c.alignments = c.faces_dir + "/clip.alignments.json";
  fs::create_directories(c.faces_dir);
  video::VideoWriterOptions vo;
  vo.fps = {24, 1};
  vo.crf = 12;
  vo.preset = "ultrafast";
  vo.threads = 1;
  if (have_tool("ffmpeg")) {
    const std::string tone = dir + "/tone.m4a";
    c.has_audio = std::system(("ffmpeg -v error -y -f lavfi -i sine=frequency=440:sample_rate=48000:duration=1 "
                               "-c:a aac -b:a 64k '" + tone + "'").c_str()) == 0;
    if (c.has_audio) vo.audio_from = tone;
  }
  faces::Alignments al;
  al.source = "clip.mp4";
  al.face_type = faces::FaceType::Full;
  al.face_size = face_size;
  {
    video::VideoWriter w(c.video, kClipW, kClipH, vo);
    for (int i = 0; i < kClipFrames; ++i) {
      cv::Mat frame = clip_background(i);
      faces::FrameAlignments fa;
      fa.frame = i;
      fa.time = i / 24.0;
      if (clip_frame_has_face(i)) {
        faces::Landmarks lm;
        const cv::Mat face = train::draw_synthetic_face(train::SyntheticIdentity::B, 3, i, 64, faces::FaceType::Full, &lm);
        const int x0 = 20 + 7 * (i - 2), y0 = 24 + (i % 3);
        face.copyTo(frame(cv::Rect(x0, y0, 64, 64)));
        for (auto& p : lm) p += faces::Point(x0, y0);
        c.landmarks[i] = lm;
        faces::AlignedFace af;
        af.face_index = 0;
        af.file = faces::face_image_name("clip.mp4", i, 0, "png");
        af.landmarks = lm;
        af.image_to_face = faces::get_transform_mat(lm, face_size, faces::FaceType::Full);
        af.rect = {double(x0), double(y0), double(x0 + 64), double(y0 + 64)};
        cv::Mat crop;
        cv::warpAffine(frame, crop, cv::Mat(af.image_to_face), cv::Size(face_size, face_size), cv::INTER_CUBIC);
        faces::FaceMetadata meta;
        meta.face_type = faces::FaceType::Full;
        meta.landmarks = faces::transform_points(lm, af.image_to_face);
        meta.source_frame = i;
        meta.source_filename = "clip.mp4";
        meta.source_rect = af.rect;
        meta.source_landmarks = lm;
        meta.image_to_face = af.image_to_face;
        if (i != kDeletedFaceFrame) faces::write_face_image(c.faces_dir + "/" + af.file, crop, meta);
        fa.faces.push_back(af);
      }
      al.frames.push_back(fa);
      w.write(frame);
    }
    w.finish();
  }
  faces::save_alignments(c.alignments, al);
  return c;
}

inline std::vector<cv::Mat> decode_all(const std::string& path, std::vector<double>* times = nullptr) {
  std::vector<cv::Mat> out;
  std::unique_ptr<video::FrameSource> src = video::open_frame_source(path);
  video::Frame f;
  while (src->next(f)) {
    out.push_back(f.image.clone());
    if (times) times->push_back(f.time);
  }
  return out;
}

inline merge::MergeStageOptions merge_options(const Clip& c, const std::string& model, const std::string& output) {
  merge::MergeStageOptions o;
  o.input = c.video;
  o.alignments = c.alignments;
  o.faces_dir = c.faces_dir;
  o.model_dir = model;
  o.output = output;
  o.preset = "ultrafast";
  o.use_gpu = false;
  o.batch = 3;
  o.compose_threads = 2;
  return o;
}

inline bool same_pixels(const cv::Mat& a, const cv::Mat& b) {
  return a.size() == b.size() && a.type() == b.type() && cv::norm(a, b, cv::NORM_INF) == 0;
}

}  // namespace facet::testing
