// `facet extract`: a video or image folder in, a face set and an alignments file out
// (pipeline/extract/extract.h; docs/extract.md). Ctrl-C stops cleanly: what was extracted is kept
// and the same command resumes.
#include <dlfcn.h>

#include <cstdlib>
#include <memory>

#include "bin/commands.h"
#include "bin/frame_range_option.h"
#include "engine/core/context.h"
#include "engine/core/error.h"
#include "pipeline/extract/extract.h"
#include "pipeline/extract/progress.h"
#include "pipeline/train/stop_signal.h"

namespace facet::cli {

namespace {

struct ExtractArgs {
  extract::ExtractOptions opt;
  std::string face_type = "full", format = "jpg", detector = "short", start, end;
  bool no_refine = false, no_rotation_retry = false, cpu = false;
  float score = 0.5f;
};

}  // namespace

Action add_extract(CLI::App& app, Console& console) {
  auto a = std::make_shared<ExtractArgs>();
  auto& o = a->opt;
  CLI::App* sub = app.add_subcommand("extract", "Find, align and save the faces of a video or image folder");
  sub->add_option("-i,--input", o.input, "Video file or folder of frame images")->required();
  sub->add_option("-o,--output", o.output_dir, "Face set folder (created); the alignments file goes there too")
      ->required();
  sub->add_option("--face-type", a->face_type, "half, mid_full, full, whole_face or head (DeepFaceLab names too)")
      ->capture_default_str();
  sub->add_option("--size", o.face_size, "Side of the face images in pixels")->capture_default_str()->check(
      CLI::Range(32, 8192));
  sub->add_option("--format", a->format, "Face image format")->capture_default_str()->check(
      CLI::IsMember({"png", "jpg", "jpeg"}));
  sub->add_option("--jpeg-quality", o.jpeg_quality, "JPEG quality")->capture_default_str()->check(CLI::Range(1, 100));
  sub->add_option("--every", o.select.every_nth, "Process every Nth frame")->capture_default_str()->check(
      CLI::PositiveNumber);
  add_frame_range_options(sub, a->start, a->end);
  sub->add_option("--detector", a->detector, "short: BlazeFace short range (128², faces near the camera); "
                                             "full: full range (192², small faces too)")
      ->capture_default_str()
      ->check(CLI::IsMember({"short", "full"}));
  sub->add_option("--min-face", o.finder.min_face, "Drop faces whose detector box is smaller (pixels)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  sub->add_option("--max-faces", o.finder.max_faces, "At most N faces per frame, best first (0 = all)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  sub->add_option("--score", a->score, "Detector score threshold")->capture_default_str()->check(
      CLI::Range(0.01, 0.99));
  sub->add_flag("--no-refine", a->no_refine, "Skip the second landmark pass on the aligned crop (faster, more jitter)");
  sub->add_flag("--no-rotation-retry", a->no_rotation_retry,
                "Do not retry frames without faces turned by 90/180/270 degrees");
  sub->add_option("--debug", o.debug_dir, "Also write every frame with boxes, landmarks and crops drawn here");
  sub->add_flag("--force", o.force, "Start over: delete this source's faces, debug frames and alignments first");
  sub->add_flag("--cpu", a->cpu, "Use the CPU even when a GPU is present");
  sub->add_option("--assets", o.assets_dir, "Folder with the face models (default: $FACET_ASSETS, else assets/)");
  sub->add_option("--batch", o.batch, "Frames per network run (0 = 8 on CPU, 64 on GPU)")->check(
      CLI::NonNegativeNumber);
  sub->add_option("--workers", o.workers, "Face-finding threads (0 = one per core on CPU, 1 on GPU)")->check(
      CLI::NonNegativeNumber);

  return [a, &console]() {
    auto& o = a->opt;
    o.face_type = faces::parse_face_type(a->face_type);
    o.format = a->format == "png" ? faces::ImageFormat::Png : faces::ImageFormat::Jpeg;
    o.finder.detector = detect::parse_detector_kind(a->detector);
    o.finder.min_score = a->score;
    o.finder.refine = !a->no_refine;
    o.finder.rotation_retry = !a->no_rotation_retry;
    o.use_gpu = !a->cpu;
    if (!a->start.empty()) extract::apply_range_bound(a->start, false, o.select);
    if (!a->end.empty()) extract::apply_range_bound(a->end, true, o.select);

    // The CPU workers (one per core) each run their own nets; OpenBLAS threads inside their GEMMs
    // would only fight them for the same cores, and the GEMMs of these small nets are too small to
    // gain from threads anyway (measured: 10-25% more CPU time and slower, even with one worker).
    // Unless the user chose a thread count, make each GEMM single-threaded.
    if ((a->cpu || !cuda_available()) && !std::getenv("OPENBLAS_NUM_THREADS"))
      if (auto set = reinterpret_cast<void (*)(int)>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"))) set(1);

    train::StopSignalGuard stop_guard;
    o.should_stop = [] { return train::stop_requested(); };
    // Frames already in the alignments file (a resumed run) count toward done, not the rate.
    std::unique_ptr<ConsoleProgress> bar = console.progress("extract", 0, "frames");
    extract::ProgressFn progress = [&](const extract::ExtractProgress& p) {
      bar->set_total(p.frames_expected);
      bar->set_baseline(p.frames_resumed);
      bar->set_note("  " + std::to_string(p.faces_written) + " faces");
      bar->update(p.frames_done + p.frames_resumed);
    };

    console.info("facet extract: " + o.input + " -> " + o.output_dir + " (" + faces::face_type_name(o.face_type) +
                 ", " + std::to_string(o.face_size) + " px, " + a->format + ")");
    const extract::ExtractResult r = extract::run_extract(o, progress);
    bar->set_note("  " + std::to_string(r.faces_written) + " faces");
    bar->finish(r.frames_processed + r.frames_resumed);
    for (const auto& w : r.warnings) console.warn(w);
    if (r.truncated)
      console.warn(o.input + " is truncated or damaged: faces of the frames it still has were extracted");
    console.result(extract::format_summary(r, o.output_dir));
    if (r.stopped) {
      console.warn("stopped before the end; run the same command again to resume");
      return 1;
    }
    return 0;
  };
}

}  // namespace facet::cli
