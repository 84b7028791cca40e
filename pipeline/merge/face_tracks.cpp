// Face tracks, landmark smoothing and motion vectors for the merge stage (see face_tracks.h).
#include "pipeline/merge/face_tracks.h"

#include <algorithm>
#include <cmath>
#include <tuple>

#include "engine/core/error.h"

namespace facet::merge {
namespace {

struct Node {
  int64_t frame;
  size_t slot;       // position in the frame's face list
  faces::Point centre;
  double size;       // larger side of the landmark bounding box
  int prev = -1, next = -1;  // linked nodes in the previous / next frame
};

faces::Point centroid(const faces::Landmarks& l) {
  faces::Point c(0, 0);
  for (const auto& p : l) c += p;
  return c * (1.0 / double(l.size()));
}

double box_side(const faces::Landmarks& l) {
  double x0 = l[0].x, x1 = l[0].x, y0 = l[0].y, y1 = l[0].y;
  for (const auto& p : l) x0 = std::min(x0, p.x), x1 = std::max(x1, p.x), y0 = std::min(y0, p.y), y1 = std::max(y1, p.y);
  return std::max(x1 - x0, y1 - y0);
}

}  // namespace

faces::Point motion_anchor(const faces::Landmarks& lmrks68) {
  const faces::Affine m = faces::get_transform_mat(lmrks68, 256, faces::FaceType::Full);
  return faces::transform_point(faces::Point(127, 127), faces::invert_affine(m));
}

FrameFaces build_frame_faces(const faces::Alignments& al, const FaceTrackOptions& opt) {
  FACET_CHECK(opt.smooth_radius >= 0, "landmark smoothing radius must be >= 0, got ", opt.smooth_radius);
  FrameFaces out;
  std::vector<Node> nodes;
  std::vector<std::vector<int>> frame_nodes;  // node ids per listed frame with faces, in frame order
  std::vector<int64_t> frame_ids;
  for (const faces::FrameAlignments& fa : al.frames) {
    if (fa.faces.empty()) continue;
    std::vector<MergeFace>& list = out[fa.frame];
    std::vector<int> ids;
    for (const faces::AlignedFace& f : fa.faces) {
      FACET_CHECK(f.landmarks.size() == 68, "alignments: frame ", fa.frame, " face ", f.face_index, " has ",
                  f.landmarks.size(), " landmarks, expected 68");
      MergeFace m;
      m.face_index = f.face_index;
      m.file = f.file;
      m.landmarks = f.landmarks;
      list.push_back(std::move(m));
    }
    std::sort(list.begin(), list.end(), [](const MergeFace& a, const MergeFace& b) { return a.face_index < b.face_index; });
    for (size_t i = 0; i < list.size(); ++i) {
      ids.push_back(int(nodes.size()));
      nodes.push_back({fa.frame, i, centroid(list[i].landmarks), box_side(list[i].landmarks)});
    }
    frame_nodes.push_back(std::move(ids));
    frame_ids.push_back(fa.frame);
  }

  // Link consecutive frames: closest centroid pairs first, each face used once.
  for (size_t k = 1; k < frame_nodes.size(); ++k) {
    if (frame_ids[k] != frame_ids[k - 1] + 1) continue;
    std::vector<std::tuple<double, int, int>> pairs;
    for (int a : frame_nodes[k - 1])
      for (int b : frame_nodes[k]) {
        const double d = std::hypot(nodes[a].centre.x - nodes[b].centre.x, nodes[a].centre.y - nodes[b].centre.y);
        if (d < opt.link_distance * std::max(nodes[a].size, nodes[b].size)) pairs.emplace_back(d, a, b);
      }
    std::sort(pairs.begin(), pairs.end());
    for (const auto& [d, a, b] : pairs)
      if (nodes[a].next < 0 && nodes[b].prev < 0) nodes[a].next = b, nodes[b].prev = a;
  }

  // Walk each track from its first node; smooth and compute motion on the original landmarks.
  int track_id = 0;
  for (size_t start = 0; start < nodes.size(); ++start) {
    if (nodes[start].prev >= 0) continue;
    std::vector<int> track;
    for (int n = int(start); n >= 0; n = nodes[n].next) track.push_back(n);
    auto face_of = [&](int n) -> MergeFace& { return out[nodes[n].frame][nodes[n].slot]; };
    std::vector<faces::Landmarks> raw;
    for (int n : track) raw.push_back(face_of(n).landmarks);
    const int len = int(track.size());
    std::vector<faces::Landmarks> smooth(raw);
    for (int k = 0; k < len; ++k) {
      const int r = std::min({opt.smooth_radius, k, len - 1 - k});
      if (r == 0) continue;
      for (size_t p = 0; p < 68; ++p) {
        faces::Point s(0, 0);
        for (int j = k - r; j <= k + r; ++j) s += raw[j][p];
        smooth[k][p] = s * (1.0 / double(2 * r + 1));
      }
    }
    for (int k = 0; k < len; ++k) {
      MergeFace& f = face_of(track[k]);
      f.landmarks = smooth[k];
      f.track = track_id;
      if (k > 0 && k + 1 < len) {
        const faces::Point v = motion_anchor(smooth[k + 1]) - motion_anchor(smooth[k - 1]);
        f.motion_power = std::hypot(v.x, v.y);
        f.motion_deg = -std::atan2(v.y, v.x) * 180.0 / 3.14159265358979323846;
      }
    }
    ++track_id;
  }
  return out;
}

}  // namespace facet::merge
