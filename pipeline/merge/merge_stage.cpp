// The merge stage's frame loop (see merge_stage.h): setup and checks, then four stages joined by
// bounded queues. reader thread -> [q_in] -> model batches on the calling thread -> [q_compose]
// -> compositing workers -> in-order hand-off -> writer thread. A failure anywhere is recorded
// once, every queue is closed so all threads wind down, and the error is rethrown here.
#include "pipeline/merge/merge_stage.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <filesystem>
#include <map>
#include <mutex>
#include <thread>

#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>

#include "engine/core/error.h"
#include "engine/io/atomic_file.h"
#include "pipeline/merge/bounded_queue.h"
#include "pipeline/merge/face_tracks.h"
#include "pipeline/merge/frame_compose.h"
#include "pipeline/merge/merge_face.h"
#include "pipeline/merge/merge_output.h"
#include "pipeline/mask/mask_model.h"
#include "pipeline/video/frame_source.h"

namespace facet::merge {

namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }


// Everything the frame loop and the preview share: checked inputs, the faces per frame, the model.
struct Setup {
  faces::Alignments alignments;
  std::vector<std::string> dropped;  // face images listed in the alignments but deleted
  FrameFaces frame_faces;
  std::unique_ptr<FaceSwapper> swapper;
  // The XSeg mask modes' segmenter (mask model folder), on the model's device.
  std::unique_ptr<Context> mask_ctx;
  std::unique_ptr<mask::MaskPredictor> masker;
  int R = 0;
  faces::FaceType face_type = faces::FaceType::Full;
};

void note(const MergeStageOptions& opt, std::vector<std::string>* warnings, const std::string& msg) {
  if (warnings) warnings->push_back(msg);
  if (opt.log) opt.log(msg);
}

void check_input_paths(const MergeStageOptions& opt) {
  FACET_CHECK(!opt.input.empty(), "merge: no input video or frame folder given");
  FACET_CHECK(!opt.alignments.empty(), "merge: no alignments file given");
  FACET_CHECK(!opt.faces_dir.empty(), "merge: no faces folder given");
  FACET_CHECK(!opt.model_dir.empty(), "merge: no model folder given");
  std::error_code ec;
  FACET_CHECK(fs::exists(opt.input, ec), "merge: input ", opt.input, " does not exist");
  FACET_CHECK(fs::exists(opt.alignments, ec), "merge: alignments file ", opt.alignments,
              " does not exist (facet extract writes <input stem>.alignments.json into the face set folder)");
  FACET_CHECK(fs::is_regular_file(opt.alignments, ec), "merge: alignments file ", opt.alignments, " is not a file");
  FACET_CHECK(fs::is_directory(opt.faces_dir, ec), "merge: faces folder ", opt.faces_dir,
              fs::exists(opt.faces_dir, ec) ? " is not a folder" : " does not exist");
  FACET_CHECK(fs::is_directory(opt.model_dir, ec), "merge: model folder ", opt.model_dir,
              fs::exists(opt.model_dir, ec) ? " is not a folder" : " does not exist");
}

// The model must see faces cut the way the face set was cut: the same face type, and a
// resolution the extracted faces actually had (a model larger than the face images was trained
// on upscaled crops of some other face set).
void check_model_matches(const MergeStageOptions& opt, const Setup& s) {
  const faces::Alignments& al = s.alignments;
  faces::FaceType set_type = al.face_type;
  int set_size = al.face_size;
  std::string set_what = "alignments file " + opt.alignments;
  for (const faces::FrameAlignments& f : al.frames) {  // the first face image still there speaks for the set
    if (f.faces.empty()) continue;
    const std::string path = (fs::path(opt.faces_dir) / f.faces[0].file).string();
    if (auto meta = faces::read_face_metadata(path)) {
      FACET_CHECK(meta->face_type == al.face_type, "merge: face image ", path, " is a ",
                  faces::face_type_name(meta->face_type), " face but ", opt.alignments, " says ",
                  faces::face_type_name(al.face_type), ": the faces folder and the alignments file do not belong together");
      set_type = meta->face_type, set_size = meta->width;
      set_what = "face set " + opt.faces_dir;
    }
    break;
  }
  const train::ModelRecord& rec = s.swapper->record();
  FACET_CHECK(s.face_type == set_type, "merge: model ", opt.model_dir, " was trained on ",
              faces::face_type_name(s.face_type), " faces (face_type \"", rec.spec.net.face_type, "\") but the ",
              set_what, " holds ", faces::face_type_name(set_type),
              " faces: merge aligns every face like extraction did, so use a model trained with --face-type ",
              faces::face_type_name(set_type), " or extract the video again with --face-type ",
              faces::face_type_name(s.face_type));
  FACET_CHECK(set_size <= 0 || s.R <= set_size, "merge: model ", opt.model_dir, " has resolution ", s.R,
              " px but the ", set_what, " holds ", set_size, " px faces: the model cannot have been trained on this "
              "face set (its faces would have been upscaled); extract with --size ", s.R, " or larger, or use a model "
              "of resolution <= ", set_size);
}

Setup prepare(const MergeStageOptions& opt, std::vector<std::string>* warnings) {
  Setup s;
  s.alignments = faces::load_alignments(opt.alignments, opt.faces_dir, &s.dropped);
  if (!s.dropped.empty())
    note(opt, warnings, std::to_string(s.dropped.size()) + " face(s) listed in " + opt.alignments +
                            " have no face image in " + opt.faces_dir + " (deleted) and are not merged");
  const std::string input_name = fs::path(opt.input).filename().string();
  if (!s.alignments.source.empty() && s.alignments.source != input_name)
    note(opt, warnings, "alignments file " + opt.alignments + " was made from \"" + s.alignments.source +
                            "\", the input is \"" + input_name + "\"");
  s.swapper = std::make_unique<FaceSwapper>(opt.model_dir, opt.use_gpu);
  s.R = s.swapper->resolution();
  s.face_type = s.swapper->face_type();
  check_model_matches(opt, s);
  const MaskMode mm = opt.settings.merge.mask_mode;
  if (uses_xseg_prd_mask(mm) || uses_xseg_dst_mask(mm)) {
    FACET_CHECK(!opt.mask_model_dir.empty(), "merge: mask mode ", to_string(mm),
                " needs a mask model (--mask-model: a folder trained with `facet mask train`)");
    s.mask_ctx = std::make_unique<Context>(opt.use_gpu && cuda_available() ? Device::cuda(0) : Device::cpu());
    s.masker = std::make_unique<mask::MaskPredictor>(*s.mask_ctx, opt.mask_model_dir, opt.batch > 0 ? opt.batch : 8);
  }
  FaceTrackOptions to;
  to.smooth_radius = opt.settings.smooth_landmarks;
  s.frame_faces = build_frame_faces(s.alignments, to);
  return s;
}

struct FaceJob {
  const MergeFace* face = nullptr;
  cv::Matx23d mat;
  cv::Mat crop;  // R x R CV_32FC3: what the model sees
  SwapPrediction pred;
  cv::Mat xseg_prd, xseg_dst;  // R x R CV_32FC1: the segmenter on the prediction and on the crop (XSeg modes)
};

struct FrameJob {
  int64_t seq = 0;
  video::Frame frame;
  bool skip = false;  // already in the output (resume)
  std::vector<FaceJob> faces;
  cv::Mat out, mask;  // the merged frame (CV_8UC3) and mask (CV_8UC1)
  bool seamless_failed = false;
};

// Aligns every face of the frame as extraction did and cuts the model's input.
void cut_faces(FrameJob& j, const Setup& s) {
  auto it = s.frame_faces.find(j.frame.index);
  if (it == s.frame_faces.end()) return;
  for (const MergeFace& f : it->second) {
    FaceJob fj;
    fj.face = &f;
    fj.mat = faces::get_transform_mat(f.landmarks, s.R, s.face_type);
    fj.crop = extract_dst_face(j.frame.image, fj.mat, s.R);
    j.faces.push_back(std::move(fj));
  }
}

void compose(FrameJob& j, const MergeSettings& ms, bool want_mask, bool whole_frame) {
  std::vector<FrameFace> ff(j.faces.size());
  for (size_t i = 0; i < j.faces.size(); ++i) {
    const FaceJob& f = j.faces[i];
    ff[i].in.face_mat = f.mat;
    ff[i].in.predicted_face = f.pred.face;
    ff[i].in.predicted_mask = f.pred.mask;
    ff[i].in.predicted_dst_mask = f.pred.input_mask;
    ff[i].in.xseg_prd_mask = f.xseg_prd;
    ff[i].in.xseg_dst_mask = f.xseg_dst;
    ff[i].in.motion_power = f.face->motion_power;
    ff[i].in.motion_deg = f.face->motion_deg;
    ff[i].landmarks = f.face->landmarks;
  }
  ComposedFrame c = compose_frame(j.frame.image, ff, ms, want_mask, !whole_frame);
  j.out = std::move(c.image);
  j.mask = std::move(c.mask);
  j.seamless_failed = c.seamless_failed;
}

// The swap model on every face of the batch of frames, and the segmenter (DFL's MergeMasked runs
// XSeg on the dst crop and on the predicted face, both at the swap model's face type) when the
// mask mode needs it.
void predict_faces(std::vector<FrameJob*>& frames, Setup& s, const MergeStageSettings& st) {
  std::vector<cv::Mat> crops;
  std::vector<FaceJob*> owners;
  for (FrameJob* j : frames)
    for (FaceJob& f : j->faces) crops.push_back(f.crop), owners.push_back(&f);
  if (crops.empty()) return;
  std::vector<SwapPrediction> p = s.swapper->predict(crops, st.direction, uses_learned_dst_mask(st.merge.mask_mode));
  if (s.masker && uses_xseg_dst_mask(st.merge.mask_mode)) {
    std::vector<cv::Mat> m = s.masker->predict(crops);
    for (size_t i = 0; i < m.size(); ++i) owners[i]->xseg_dst = std::move(m[i]);
  }
  if (s.masker && uses_xseg_prd_mask(st.merge.mask_mode)) {
    std::vector<cv::Mat> faces;
    for (const SwapPrediction& q : p) faces.push_back(q.face);
    std::vector<cv::Mat> m = s.masker->predict(faces);
    for (size_t i = 0; i < m.size(); ++i) owners[i]->xseg_prd = std::move(m[i]);
  }
  for (size_t i = 0; i < p.size(); ++i) owners[i]->pred = std::move(p[i]), owners[i]->crop.release();
}

std::string manifest_json(const MergeStageOptions& opt, const Setup& s, const std::string& what) {
  auto abs = [](const std::string& p) {
    std::error_code ec;
    const fs::path a = fs::weakly_canonical(p, ec);
    return ec ? p : a.string();
  };
  nlohmann::json j;
  j["facet_merge"] = 1;
  j["what"] = what;
  j["input"] = abs(opt.input);
  j["alignments"] = abs(opt.alignments);
  j["faces"] = abs(opt.faces_dir);
  j["model"] = abs(opt.model_dir);
  j["model_iteration"] = s.swapper->iteration();
  if (s.masker) {
    j["mask_model"] = abs(opt.mask_model_dir);
    j["mask_model_iteration"] = s.masker->iteration();
  }
  j["settings"] = nlohmann::json::parse(to_json(opt.settings));
  return j.dump(1) + "\n";
}

// First error wins; everything else winds down.
struct Failure {
  std::mutex mu;
  std::exception_ptr error;
  std::atomic<bool> failed{false};
  void set(std::exception_ptr e) {
    std::lock_guard<std::mutex> l(mu);
    if (!error) error = e;
    failed = true;
  }
};

// Compositing workers hand frames to the writer in sequence order through this.
struct Reorder {
  std::mutex mu;
  std::condition_variable cv;
  std::map<int64_t, FrameJob> ready;
  int64_t next = 0;
  int workers_left = 0;
  size_t window = 8;
};

}  // namespace

MergeStageResult run_merge(const MergeStageOptions& opt) {
  const auto t_start = Clock::now();
  MergeStageResult res;
  check_input_paths(opt);
  validate(opt.settings.merge);
  res.video = !opt.png && is_video_path(opt.output);
  FACET_CHECK(!(res.video && opt.settings.merge.mode == MergeMode::RawPredict),
              "merge: mode raw-predict outputs the model's R x R faces, not frames: write PNG frames (--png or a folder)");
  {
    auto same = [](const std::string& a, const std::string& b) {
      std::error_code e1, e2;
      return fs::weakly_canonical(a, e1) == fs::weakly_canonical(b, e2) && !e1 && !e2;
    };
    FACET_CHECK(!same(opt.output, opt.input), "merge: the output ", opt.output, " is the input: choose another name");
    FACET_CHECK(opt.mask_output.empty() || (!same(opt.mask_output, opt.output) && !same(opt.mask_output, opt.input)),
                "merge: the mask output ", opt.mask_output, " must differ from the input and the output");
  }
  check_output_writable(opt.output, res.video);
  const bool mask_video = !opt.mask_output.empty() && is_video_path(opt.mask_output);
  if (!opt.mask_output.empty()) check_output_writable(opt.mask_output, mask_video);

  video::SourceOptions sopt;
  std::unique_ptr<video::FrameSource> source = video::open_frame_source(opt.input, sopt);
  const video::VideoInfo info = source->info();
  Setup s = prepare(opt, &res.warnings);
  res.device = s.swapper->device();
  res.faces_dropped = int64_t(s.dropped.size());

  // Outputs.
  std::unique_ptr<FrameSink> out, mask_out;
  const bool raw_predict = opt.settings.merge.mode == MergeMode::RawPredict;
  if (res.video) {
    video::VideoWriterOptions vo;
    vo.fps = info.fps;
    vo.time_base = info.time_base;
    vo.crf = opt.crf;
    vo.preset = opt.preset;
    if (info.has_audio) vo.audio_from = opt.input;
    out = open_video_sink(opt.output, info.width, info.height, vo);
  } else {
    out = open_png_sink(opt.output, manifest_json(opt, s, "frames"), opt.force);
  }
  if (!opt.mask_output.empty()) {
    if (mask_video) {
      FACET_CHECK(!raw_predict, "merge: mode raw-predict cannot write a mask video (R x R masks); use a mask folder");
      video::VideoWriterOptions vo;
      vo.fps = info.fps, vo.time_base = info.time_base, vo.crf = opt.crf, vo.preset = opt.preset;
      mask_out = open_video_sink(opt.mask_output, info.width, info.height, vo);
    } else {
      mask_out = open_png_sink(opt.mask_output, manifest_json(opt, s, "masks"), opt.force);
    }
  }
  res.output = out->path();
  res.mask_output = mask_out ? mask_out->path() : "";

  const bool gpu = res.device != "cpu";
  const int batch = opt.batch > 0 ? opt.batch : (gpu ? 32 : 8);
  const size_t qcap = size_t(opt.queue_frames > 0 ? opt.queue_frames : std::max(8, 2 * batch));
  int workers = opt.compose_threads;
  if (workers <= 0) workers = std::clamp(int(std::thread::hardware_concurrency()) - 1, 1, 8);

  BoundedQueue<FrameJob> q_in(qcap), q_compose(qcap);
  Failure fail;
  Reorder ro;
  ro.workers_left = workers;
  ro.window = qcap + size_t(workers);
  std::atomic<bool> stopped{false};
  std::atomic<int64_t> frames_read{0};
  double decode_s = 0, write_s = 0;
  std::atomic<int64_t> compose_us{0};
  auto abort_all = [&] {
    q_in.close(true);
    q_compose.close(true);
    std::lock_guard<std::mutex> l(ro.mu);
    ro.cv.notify_all();
  };

  std::thread reader([&] {
    try {
      int64_t seq = 0;
      while (!fail.failed) {
        if (opt.should_stop && opt.should_stop()) {
          stopped = true;
          break;
        }
        const auto t0 = Clock::now();
        FrameJob j;
        if (!source->next(j.frame)) break;
        j.seq = seq++;
        j.skip = out->done(j.frame.index) && (!mask_out || mask_out->done(j.frame.index));
        if (!j.skip) cut_faces(j, s);
        decode_s += since(t0);
        ++frames_read;
        if (!q_in.push(std::move(j))) break;
      }
    } catch (...) {
      fail.set(std::current_exception());
      abort_all();
    }
    q_in.close();
  });

  std::vector<std::thread> composers;
  for (int w = 0; w < workers; ++w)
    composers.emplace_back([&] {
      try {
        FrameJob j;
        while (q_compose.pop(j)) {
          const auto t0 = Clock::now();
          if (!j.skip) compose(j, opt.settings.merge, mask_out != nullptr, opt.whole_frame);
          compose_us += int64_t(since(t0) * 1e6);
          std::unique_lock<std::mutex> l(ro.mu);
          ro.cv.wait(l, [&] { return fail.failed || j.seq < ro.next + int64_t(ro.window); });
          if (fail.failed) break;
          const int64_t seq = j.seq;
          ro.ready.emplace(seq, std::move(j));
          ro.cv.notify_all();
        }
      } catch (...) {
        fail.set(std::current_exception());
        abort_all();
      }
      std::lock_guard<std::mutex> l(ro.mu);
      --ro.workers_left;
      ro.cv.notify_all();
    });

  const int64_t total = info.frame_count;
  std::thread writer([&] {
    try {
      while (true) {
        FrameJob j;
        {
          std::unique_lock<std::mutex> l(ro.mu);
          ro.cv.wait(l, [&] { return fail.failed || ro.ready.count(ro.next) || ro.workers_left == 0; });
          if (fail.failed) break;
          auto it = ro.ready.find(ro.next);
          if (it == ro.ready.end()) break;  // workers done and nothing left
          j = std::move(it->second);
          ro.ready.erase(it);
          ++ro.next;
          ro.cv.notify_all();
        }
        const auto t0 = Clock::now();
        if (j.skip) {
          ++res.frames_resumed;
        } else {
          out->write(j.frame.index, j.frame.pts, j.out);
          if (mask_out) mask_out->write(j.frame.index, j.frame.pts, j.mask);
          ++res.frames_written;
          if (!j.faces.empty()) ++res.frames_with_faces, res.faces_merged += int64_t(j.faces.size());
          if (j.seamless_failed) ++res.seamless_failures;
        }
        write_s += since(t0);
        if (opt.progress) opt.progress(res.frames_written + res.frames_resumed, total, since(t_start));
      }
    } catch (...) {
      fail.set(std::current_exception());
      abort_all();
    }
  });

  // Inference on this thread: greedy batches of whatever the reader has ready.
  double infer_s = 0;
  try {
    FrameJob first;
    while (!fail.failed && q_in.pop(first)) {
      std::vector<FrameJob> jobs;
      size_t nfaces = first.faces.size();
      jobs.push_back(std::move(first));
      FrameJob more;
      while (nfaces < size_t(batch) && jobs.size() < qcap && q_in.try_pop(more)) {
        nfaces += more.faces.size();
        jobs.push_back(std::move(more));
      }
      if (nfaces > 0) {
        const auto t0 = Clock::now();
        std::vector<FrameJob*> ptrs;
        for (FrameJob& j : jobs) ptrs.push_back(&j);
        predict_faces(ptrs, s, opt.settings);
        infer_s += since(t0);
      }
      for (FrameJob& j : jobs)
        if (!q_compose.push(std::move(j))) break;
    }
  } catch (...) {
    fail.set(std::current_exception());
    abort_all();
  }
  q_compose.close();
  reader.join();
  for (std::thread& t : composers) t.join();
  writer.join();

  if (fail.error) {
    out->abandon();
    if (mask_out) mask_out->abandon();
    std::rethrow_exception(fail.error);
  }
  res.stopped = stopped;
  if (res.stopped && res.video) {
    out->abandon();
    note(opt, &res.warnings, "merge stopped: the unfinished video was deleted; running the command again encodes "
                             "it from the start (PNG output would resume)");
  } else {
    out->finish();
  }
  if (mask_out) {
    if (res.stopped && mask_video) mask_out->abandon();
    else mask_out->finish();
  }
  for (const std::string& w : out->warnings()) note(opt, &res.warnings, w);
  for (const std::string& w : source->warnings()) note(opt, &res.warnings, w);
  res.truncated = source->truncated();
  res.frames = frames_read;
  res.seconds = since(t_start);
  res.fps = res.seconds > 0 ? double(res.frames) / res.seconds : 0;
  res.decode_seconds = decode_s, res.infer_seconds = infer_s;
  res.compose_seconds = double(compose_us) * 1e-6, res.write_seconds = write_s;
  return res;
}

MergePreviewResult render_merge_preview(const MergeStageOptions& opt, int64_t frame, const std::string& out_png) {
  check_input_paths(opt);
  validate(opt.settings.merge);
  FACET_CHECK(frame >= 0, "merge preview: frame must be >= 0, got ", frame);
  FACET_CHECK(!out_png.empty(), "merge preview: no output file given (--out preview.png)");
  std::error_code ec;
  fs::path parent = fs::path(out_png).parent_path();
  if (parent.empty()) parent = ".";
  FACET_CHECK(fs::is_directory(parent, ec), "merge preview: cannot write ", out_png, ": folder ", parent.string(),
              " does not exist");
  video::SourceOptions sopt;
  sopt.select.first_frame = frame;
  sopt.select.end_frame = frame + 1;
  std::unique_ptr<video::FrameSource> source = video::open_frame_source(opt.input, sopt);
  const int64_t count = source->info().frame_count;
  Setup s = prepare(opt, nullptr);
  FrameJob j;
  FACET_CHECK(source->next(j.frame), "merge preview: frame ", frame, " is past the end of ", opt.input, " (",
              count, " frames)");
  cut_faces(j, s);
  std::vector<FrameJob*> ptrs{&j};
  predict_faces(ptrs, s, opt.settings);
  compose(j, opt.settings.merge, false, opt.whole_frame);
  std::vector<uint8_t> png;
  FACET_CHECK(cv::imencode(".png", j.out, png), "merge preview: PNG encoding failed");
  write_file_atomically(out_png, [&](std::FILE* f) { write_all(f, png.data(), png.size(), out_png); });
  MergePreviewResult r;
  r.frame = j.frame.index;
  r.faces = int(j.faces.size());
  r.path = out_png;
  return r;
}

}  // namespace facet::merge
