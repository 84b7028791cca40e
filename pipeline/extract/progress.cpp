// Progress / summary text for extraction (see progress.h).
#include "pipeline/extract/progress.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace facet::extract {

std::string format_progress(const ExtractProgress& p) {
  char buf[256];
  const long long done = p.frames_done + p.frames_resumed;
  std::string s;
  if (p.frames_expected > 0) {
    std::snprintf(buf, sizeof buf, "%lld/%lld frames (%.1f%%)", done, static_cast<long long>(p.frames_expected),
                  100.0 * double(done) / double(p.frames_expected));
  } else {
    std::snprintf(buf, sizeof buf, "%lld frames", done);
  }
  s += buf;
  std::snprintf(buf, sizeof buf, "  %.1f frames/s", p.fps);
  s += buf;
  if (p.eta >= 0) s += "  ETA " + format_duration(p.eta);
  std::snprintf(buf, sizeof buf, "  %lld faces", static_cast<long long>(p.faces_written));
  s += buf;
  return s;
}

std::string format_summary(const ExtractResult& r, const std::string& output_dir) {
  char buf[512];
  std::string s;
  const double rate = r.frames_processed ? 100.0 * double(r.frames_with_faces) / double(r.frames_processed) : 0.0;
  std::snprintf(buf, sizeof buf,
                "%lld frames processed (%lld already done), faces found in %lld (%.1f%%), none in %lld, "
                "several in %lld\n",
                static_cast<long long>(r.frames_processed), static_cast<long long>(r.frames_resumed),
                static_cast<long long>(r.frames_with_faces), rate, static_cast<long long>(r.frames_without_faces),
                static_cast<long long>(r.frames_multiple_faces));
  s += buf;
  std::snprintf(buf, sizeof buf, "%lld face images written to %s in %s (%.1f frames/s on %s)\n",
                static_cast<long long>(r.faces_written), output_dir.c_str(), format_duration(r.seconds).c_str(), r.fps,
                r.device.c_str());
  s += buf;
  const auto& t = r.timings;
  std::snprintf(buf, sizeof buf, "net time (all workers): detector %.1f s, landmarks %.1f s, refinement %.1f s, "
                "rotation retries %.1f s\n", t.detect, t.landmarks, t.refine, t.retry);
  s += buf;
  s += "alignments: " + r.alignments_path + "\n";
  return s;
}

}  // namespace facet::extract
