// The extraction stage (see extract.h): decoder thread -> face-finding workers -> in-order writer.
#include "pipeline/extract/extract.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <deque>
#include <exception>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_set>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <unistd.h>

#include "engine/core/context.h"
#include "engine/core/error.h"
#include "engine/core/range_check.h"
#include "pipeline/detect/model_files.h"
#include "pipeline/extract/debug_draw.h"
#include "pipeline/faces/alignments.h"
#include "pipeline/faces/face_image.h"
#include "pipeline/faces/face_set.h"
#include "pipeline/video/image_folder.h"

namespace facet::extract {

namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;

double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// The source's name as it appears in face names and metadata: the file (or folder) name.
std::string source_name(const std::string& input) {
  fs::path p = fs::path(input).lexically_normal();
  if (p.filename().empty()) p = p.parent_path();
  return p.filename().string();
}

std::string stem_of(const std::string& name) { return fs::path(name).stem().string(); }

// A bounded multi-producer multi-consumer queue that can be closed (pop then drains and ends).
template <typename T>
class Queue {
 public:
  explicit Queue(size_t cap) : cap_(cap) {}
  bool push(T v) {
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait(l, [&] { return closed_ || q_.size() < cap_; });
    if (closed_) return false;
    q_.push_back(std::move(v));
    cv_.notify_all();
    return true;
  }
  bool pop(T& v) {
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait(l, [&] { return closed_ || !q_.empty(); });
    if (q_.empty()) return false;
    v = std::move(q_.front());
    q_.pop_front();
    cv_.notify_all();
    return true;
  }
  void close(bool drop = false) {
    std::lock_guard<std::mutex> l(mu_);
    closed_ = true;
    if (drop) q_.clear();
    cv_.notify_all();
  }

 private:
  size_t cap_;
  std::deque<T> q_;
  bool closed_ = false;
  std::mutex mu_;
  std::condition_variable cv_;
};

struct Batch {
  int64_t seq = 0;
  std::vector<video::Frame> frames;
  std::vector<std::string> frame_files;  // per frame: the file name its metadata names
};

struct FaceOut {
  std::string file;
  std::vector<uint8_t> bytes;
  faces::AlignedFace aligned;
};

struct FrameOut {
  int64_t index = 0;
  double time = -1;
  std::vector<FaceOut> faces;
  std::vector<uint8_t> debug_jpeg;
};

struct BatchOut {
  std::vector<FrameOut> frames;
};

// Files of this source that a previous run wrote: "<stem>_<6+ digits>_<digits>.<png|jpg|jpeg>"
// (face images) or "<stem>_<6+ digits>.jpg" (debug frames).
bool is_our_file(const std::string& name, const std::string& stem, bool debug) {
  if (name.size() <= stem.size() + 1 || name.compare(0, stem.size(), stem) != 0 || name[stem.size()] != '_')
    return false;
  std::string rest = name.substr(stem.size() + 1);
  const size_t dot = rest.rfind('.');
  if (dot == std::string::npos) return false;
  std::string ext = rest.substr(dot + 1);
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  rest = rest.substr(0, dot);
  auto digits = [](const std::string& s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); });
  };
  if (debug) return ext == "jpg" && rest.size() >= 6 && digits(rest);
  const size_t us = rest.find('_');
  if (us == std::string::npos) return false;
  return (ext == "png" || ext == "jpg" || ext == "jpeg") && us >= 6 && digits(rest.substr(0, us)) &&
         digits(rest.substr(us + 1));
}

void remove_previous_run(const std::string& dir, const std::string& stem, bool debug, const std::string& alignments) {
  std::error_code ec;
  if (!alignments.empty() && fs::exists(alignments, ec)) {
    try {  // the listed faces first (they may have been renamed to anything)
      const faces::Alignments old = faces::load_alignments(alignments);
      for (const auto& f : old.frames)
        for (const auto& face : f.faces)
          if (!face.file.empty()) fs::remove(fs::path(dir) / face.file, ec);
    } catch (const Error&) {
      // an unreadable file is replaced below anyway
    }
    fs::remove(alignments, ec);
  }
  if (!fs::is_directory(dir, ec)) return;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.is_regular_file(ec) && is_our_file(e.path().filename().string(), stem, debug)) fs::remove(e.path(), ec);
}

// Creates `dir` when missing and proves a file can be written there.
void ensure_writable_dir(const std::string& dir, const char* what) {
  std::error_code ec;
  if (fs::exists(dir, ec) && !fs::is_directory(dir, ec))
    throw Error(std::string("cannot use ") + what + " " + dir + ": it exists and is not a folder");
  fs::create_directories(dir, ec);
  if (ec) throw Error(std::string("cannot create ") + what + " " + dir + ": " + ec.message());
  const fs::path probe = fs::path(dir) / (".facet_write_test_" + std::to_string(::getpid()));
  std::FILE* f = std::fopen(probe.c_str(), "wb");
  if (!f) throw Error(std::string(what) + " " + dir + " is not writable: " + std::strerror(errno));
  std::fclose(f);
  fs::remove(probe, ec);
}

// Face images are written to a temporary name and renamed, so a crash never leaves half an image
// under a real name. No fsync per image (thousands of them); the alignments file, which decides
// what counts as extracted, is the one written durably.
void write_bytes(const fs::path& path, const std::vector<uint8_t>& bytes) {
  const fs::path tmp = path.string() + ".tmp";
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) throw Error("cannot write " + path.string() + ": " + std::strerror(errno));
  const size_t n = std::fwrite(bytes.data(), 1, bytes.size(), f);
  const int err = n == bytes.size() ? 0 : errno;
  if (std::fclose(f) != 0 || n != bytes.size()) {
    std::error_code ec;
    fs::remove(tmp, ec);
    throw Error("cannot write " + path.string() + ": " + std::strerror(err ? err : errno));
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) throw Error("cannot write " + path.string() + ": " + ec.message());
}

// Aligns, crops and encodes every face of one frame, and draws its debug frame.
FrameOut make_frame_output(const video::Frame& frame, const std::string& frame_file, const std::string& source,
                           const std::vector<detect::FoundFace>& found, const ExtractOptions& opt) {
  FrameOut out;
  out.index = frame.index;
  out.time = frame.time;
  const std::string ext = opt.format == faces::ImageFormat::Png ? "png" : "jpg";
  std::vector<DebugFace> debug;
  for (size_t k = 0; k < found.size(); ++k) {
    const detect::FoundFace& f = found[k];
    const faces::Affine m = faces::get_transform_mat(f.landmarks, opt.face_size, opt.face_type);
    cv::Mat face;
    // Black outside the frame, as DeepFaceLab's extractor. DFL resamples with Lanczos-4; bicubic
    // is 3.5x cheaper in OpenCV (4 vs 14 ms for a 512² face, the single largest cost of a CPU run
    // at 360p) and the difference does not survive the trainer's own resize of the face.
    cv::warpAffine(frame.image, face, cv::Mat(m), cv::Size(opt.face_size, opt.face_size), cv::INTER_CUBIC,
                   cv::BORDER_CONSTANT, cv::Scalar(0, 0, 0));
    faces::FaceMetadata meta;
    meta.face_type = opt.face_type;
    meta.width = meta.height = opt.face_size;
    meta.landmarks = faces::transform_points(f.landmarks, m);
    meta.source_frame = frame.index;
    meta.source_filename = frame_file;
    meta.source_rect = f.detection.box;
    meta.source_landmarks = f.landmarks;
    meta.image_to_face = m;
    meta.face_index = int(k);
    FaceOut fo;
    fo.file = faces::face_image_name(source, frame.index, int(k), ext);
    fo.bytes = faces::encode_face_image(face, meta, opt.format, opt.jpeg_quality);
    fo.aligned.face_index = int(k);
    fo.aligned.file = fo.file;
    fo.aligned.rect = f.detection.box;
    fo.aligned.landmarks = f.landmarks;
    fo.aligned.image_to_face = m;
    out.faces.push_back(std::move(fo));
    debug.push_back({&f, m, opt.face_size});
  }
  if (!opt.debug_dir.empty()) {
    const cv::Mat drawn = draw_debug_frame(frame.image, debug);
    FACET_CHECK(cv::imencode(".jpg", drawn, out.debug_jpeg, {cv::IMWRITE_JPEG_QUALITY, 90}),
                "cannot encode the debug frame ", frame.index);
  }
  return out;
}

}  // namespace

std::string alignments_file_name(const std::string& input) { return stem_of(source_name(input)) + ".alignments.json"; }

void apply_range_bound(const std::string& value, bool end, video::FrameSelection& sel) {
  const std::string what = std::string(end ? "--end" : "--start") + " '" + value + "'";
  FACET_CHECK(!value.empty(), what, ": empty");
  const bool is_frame = std::all_of(value.begin(), value.end(), [](unsigned char c) { return std::isdigit(c); });
  if (is_frame) {
    const int64_t v = std::stoll(value);
    (end ? sel.end_frame : sel.first_frame) = v;
    return;
  }
  std::string t = value;
  if (t.back() == 's') t.pop_back();
  double seconds = 0;
  size_t pos = 0;
  int parts = 0;
  while (pos <= t.size()) {  // [[h:]m:]s, each part a non-negative number
    const size_t colon = t.find(':', pos);
    const std::string part = t.substr(pos, colon == std::string::npos ? std::string::npos : colon - pos);
    FACET_CHECK(!part.empty() && part.find_first_not_of("0123456789.") == std::string::npos &&
                    std::count(part.begin(), part.end(), '.') <= 1 && part != ".",
                what, ": expected a frame number (250) or a time (12.5s, 1:05, 0:01:05.5)");
    seconds = seconds * 60 + std::stod(part);
    ++parts;
    if (colon == std::string::npos) break;
    pos = colon + 1;
  }
  FACET_CHECK(parts <= 3, what, ": too many ':' parts");
  (end ? sel.end_time : sel.start_time) = seconds;
}

int64_t expected_frames(const video::VideoInfo& info, const video::FrameSelection& sel) {
  if (info.frame_count <= 0) return 0;
  const double fps = info.fps.value();
  int64_t lo = std::max<int64_t>(0, sel.first_frame);
  int64_t hi = sel.end_frame < 0 ? info.frame_count : std::min(info.frame_count, sel.end_frame);
  if (fps > 0 && sel.start_time > 0) lo = std::max(lo, int64_t(std::ceil(sel.start_time * fps - 1e-6)));
  if (fps > 0 && sel.end_time >= 0) hi = std::min(hi, int64_t(std::ceil(sel.end_time * fps - 1e-6)));
  if (hi <= lo) return 0;
  const int64_t every = std::max(1, sel.every_nth);
  return (hi - lo + every - 1) / every;
}

ExtractResult run_extract(const ExtractOptions& opt, const ProgressFn& progress) {
  const Clock::time_point t_start = Clock::now();
  FACET_CHECK(!opt.input.empty(), "no input given");
  FACET_CHECK(!opt.output_dir.empty(), "no output folder given");
  check_range("face size", opt.face_size, 32, 8192, " pixels");
  check_range("JPEG quality", opt.jpeg_quality, 1, 100);
  FACET_CHECK(opt.format == faces::ImageFormat::Png || opt.format == faces::ImageFormat::Jpeg,
              "face image format must be png or jpg");
  FACET_CHECK(opt.batch >= 0 && opt.workers >= 0, "batch and workers must be >= 0");

  // Input first: a missing or broken input is the most common mistake, and it must not leave an
  // empty output folder behind.
  video::SourceOptions sopt;
  sopt.select = opt.select;
  std::unique_ptr<video::FrameSource> src = video::open_frame_source(opt.input, sopt);
  auto* folder = dynamic_cast<video::ImageFolderReader*>(src.get());
  const std::string source = source_name(opt.input);
  const std::string stem = stem_of(source);
  {
    std::error_code ec;
    if (folder && fs::equivalent(opt.input, opt.output_dir, ec))
      throw Error("the output folder " + opt.output_dir + " is the input folder: choose another one");
  }

  const bool gpu = opt.use_gpu && cuda_available();
  const Device device = gpu ? Device::cuda(0) : Device::cpu();
  const detect::ModelPaths models = detect::find_models(opt.finder.detector, opt.assets_dir);

  ensure_writable_dir(opt.output_dir, "output folder");
  if (!opt.debug_dir.empty()) ensure_writable_dir(opt.debug_dir, "debug folder");
  const std::string al_path = (fs::path(opt.output_dir) / alignments_file_name(opt.input)).string();
  if (opt.force) {
    remove_previous_run(opt.output_dir, stem, false, al_path);
    if (!opt.debug_dir.empty()) remove_previous_run(opt.debug_dir, stem, true, "");
  }

  ExtractResult res;
  res.alignments_path = al_path;
  res.device = device.str();
  faces::Alignments al;
  bool dirty = false;  // alignments changed since the file was written
  std::error_code ec;
  if (fs::exists(al_path, ec)) {
    std::vector<std::string> removed;
    al = faces::load_alignments(al_path, opt.output_dir, &removed);
    if (al.face_type != opt.face_type || al.face_size != opt.face_size)
      throw Error(al_path + " was made with face type " + faces::face_type_name(al.face_type) + " at " +
                  std::to_string(al.face_size) + " px, not " + faces::face_type_name(opt.face_type) + " at " +
                  std::to_string(opt.face_size) + " px: use the same settings to resume, or --force to start over");
    dirty = !removed.empty();
    if (!removed.empty())
      res.warnings.push_back(std::to_string(removed.size()) +
                             " face image(s) listed in the alignments file were deleted; those faces stay removed");
  }
  al.source = source;
  al.face_type = opt.face_type;
  al.face_size = opt.face_size;
  std::unordered_set<int64_t> done_frames;
  for (const auto& f : al.frames) done_frames.insert(f.frame);

  // Workers, each with its own context and models (loaded here so model errors surface first).
  const int workers = opt.workers > 0 ? opt.workers
                      : gpu          ? 1
                                     : std::clamp(int(std::thread::hardware_concurrency()), 1, 4);
  const int batch = opt.batch > 0 ? opt.batch : gpu ? 64 : 8;
  std::vector<std::unique_ptr<Context>> contexts;
  std::vector<std::unique_ptr<detect::FaceFinder>> finders;
  for (int w = 0; w < workers; ++w) {
    contexts.push_back(std::make_unique<Context>(device));
    finders.push_back(std::make_unique<detect::FaceFinder>(*contexts.back(), models.detector, models.landmark,
                                                           opt.finder, device));
  }

  const int64_t expected = expected_frames(src->info(), opt.select);
  std::atomic<bool> stop{false}, failed{false};
  std::atomic<int64_t> resumed{0};
  std::atomic<int64_t> batches_total{-1};  // known once the decoder is done
  Queue<Batch> work(size_t(2 * workers));
  std::mutex out_mu;  // guards outputs and workers_left; the writer waits on out_cv
  std::condition_variable out_cv;
  std::map<int64_t, BatchOut> outputs;
  int workers_left = workers;
  auto wake_writer = [&] {
    std::lock_guard<std::mutex> l(out_mu);  // (under the lock, so the writer cannot miss it)
    out_cv.notify_all();
  };
  std::mutex err_mu;
  std::exception_ptr error;  // the first failure of any thread
  auto fail = [&](std::exception_ptr e) {
    {
      std::lock_guard<std::mutex> l(err_mu);
      if (!error) error = e;
    }
    failed = true;
    stop = true;
    wake_writer();
  };

  std::thread decoder([&] {
    int64_t seq = 0;
    try {
      Batch b;
      video::Frame f;
      while (!stop && !(opt.should_stop && opt.should_stop()) && src->next(f)) {
        if (done_frames.count(f.index)) {
          ++resumed;
          continue;
        }
        b.frame_files.push_back(folder && size_t(f.index) < folder->files().size() ? folder->files()[size_t(f.index)]
                                                                                  : source);
        b.frames.push_back(std::move(f));
        f = video::Frame();
        if (int(b.frames.size()) == batch) {
          b.seq = seq++;
          if (!work.push(std::move(b))) break;
          b = Batch();
        }
      }
      if (!b.frames.empty()) {
        b.seq = seq++;
        work.push(std::move(b));
      }
    } catch (...) {
      fail(std::current_exception());
    }
    batches_total = seq;
    work.close();
    wake_writer();
  });

  std::vector<std::thread> pool;
  for (int w = 0; w < workers; ++w) {
    pool.emplace_back([&, w] {
      // On the CPU the workers are the parallelism (one per core, up to four): each runs its nets
      // on its own thread, as bin/cmd_extract.cpp does for OpenBLAS's GEMMs.
      if (!gpu && workers > 1) set_cpu_threads_for_this_thread(1);
      try {
        Batch b;
        while (work.pop(b)) {
          if (failed) break;
          std::vector<const cv::Mat*> ptrs;
          for (const auto& f : b.frames) ptrs.push_back(&f.image);
          const auto found = finders[size_t(w)]->find(ptrs);
          BatchOut o;
          for (size_t i = 0; i < b.frames.size(); ++i)
            o.frames.push_back(make_frame_output(b.frames[i], b.frame_files[i], source, found[i], opt));
          std::lock_guard<std::mutex> l(out_mu);
          outputs.emplace(b.seq, std::move(o));
          out_cv.notify_all();
        }
      } catch (...) {
        fail(std::current_exception());
        work.close(true);
      }
      std::lock_guard<std::mutex> l(out_mu);
      --workers_left;
      out_cv.notify_all();
    });
  }

  // Writer: this thread, in batch order.
  Clock::time_point last_save = Clock::now();
  auto save = [&] {
    al.sort();
    faces::save_alignments(al_path, al);
    last_save = Clock::now();
    dirty = false;
  };
  try {
    for (int64_t next = 0;; ++next) {
      BatchOut o;
      {
        std::unique_lock<std::mutex> l(out_mu);
        out_cv.wait(l, [&] {
          return outputs.count(next) || workers_left == 0 || failed ||
                 (batches_total >= 0 && next >= batches_total);
        });
        if (!outputs.count(next)) break;  // finished, or an error ended the run
        o = std::move(outputs[next]);
        outputs.erase(next);
      }
      for (auto& fr : o.frames) {
        faces::FrameAlignments fa;
        fa.frame = fr.index;
        fa.time = fr.time;
        for (auto& face : fr.faces) {
          write_bytes(fs::path(opt.output_dir) / face.file, face.bytes);
          fa.faces.push_back(std::move(face.aligned));
          ++res.faces_written;
        }
        if (!fr.debug_jpeg.empty()) {
          char name[64];
          std::snprintf(name, sizeof name, "_%06lld.jpg", static_cast<long long>(fr.index));
          write_bytes(fs::path(opt.debug_dir) / (stem + name), fr.debug_jpeg);
        }
        ++res.frames_processed;
        (fa.faces.empty() ? res.frames_without_faces : res.frames_with_faces)++;
        if (fa.faces.size() > 1) ++res.frames_multiple_faces;
        al.frames.push_back(std::move(fa));
        dirty = true;
      }
      if (since(last_save) >= opt.save_interval) save();
      if (progress) {
        ExtractProgress p;
        p.frames_done = res.frames_processed;
        p.frames_resumed = resumed;
        p.frames_expected = expected;
        p.faces_written = res.faces_written;
        p.elapsed = since(t_start);
        p.fps = p.elapsed > 0 ? double(p.frames_done) / p.elapsed : 0;
        const int64_t left = expected - p.frames_done - p.frames_resumed;
        p.eta = expected > 0 && p.fps > 0 ? std::max<int64_t>(0, left) / p.fps : -1;
        progress(p);
      }
    }
  } catch (...) {
    fail(std::current_exception());
    work.close(true);
  }
  stop = true;  // ends the decoder if the writer stopped early
  work.close(failed);
  decoder.join();
  for (auto& t : pool) t.join();
  try {  // everything written so far, even after an error
    if (dirty || !fs::exists(al_path, ec)) save();
  } catch (...) {
    if (!error) throw;  // else the first error is the one to report
  }
  if (error) std::rethrow_exception(error);

  res.frames_resumed = resumed;
  res.truncated = src->truncated();
  for (const auto& w : src->warnings()) res.warnings.push_back(w);
  res.stopped = opt.should_stop && opt.should_stop();
  for (const auto& f : finders) {
    res.timings.detect += f->timings().detect;
    res.timings.landmarks += f->timings().landmarks;
    res.timings.refine += f->timings().refine;
    res.timings.retry += f->timings().retry;
  }
  res.seconds = since(t_start);
  res.fps = res.seconds > 0 ? double(res.frames_processed) / res.seconds : 0;
  return res;
}

}  // namespace facet::extract
