// BlazeFace: anchors, decoding and weighted NMS as MediaPipe's calculators define them
// (SsdAnchorsCalculator, TensorsToDetectionsCalculator, NonMaxSuppressionCalculator with the
// face_detection graphs' options), batched net runs.
#include "pipeline/detect/blazeface.h"

#include <algorithm>
#include <cmath>

#include "engine/core/error.h"

namespace facet::detect {

const DetectorSpec& detector_spec(DetectorKind kind) {
  static const DetectorSpec kShort{DetectorKind::ShortRange, "short", "face_detection_short_range.tflite", 128,
                                   {8, 16, 16, 16}, 1.0, 0.5f};
  static const DetectorSpec kFull{DetectorKind::FullRange, "full", "face_detection_full_range.tflite", 192,
                                  {4}, 0.0, 0.6f};
  return kind == DetectorKind::ShortRange ? kShort : kFull;
}

DetectorKind parse_detector_kind(const std::string& name) {
  if (name == "short" || name == "short_range") return DetectorKind::ShortRange;
  if (name == "full" || name == "full_range") return DetectorKind::FullRange;
  throw Error("unknown detector '" + name + "' (expected short or full)");
}

std::vector<cv::Point2d> ssd_anchors(const DetectorSpec& spec) {
  // SsdAnchorsCalculator with fixed_anchor_size, aspect_ratios {1}, anchor offset 0.5: consecutive
  // layers of equal stride share one grid; each contributes one anchor per cell, plus one more
  // when interpolated_scale_aspect_ratio > 0.
  std::vector<cv::Point2d> anchors;
  const auto& st = spec.strides;
  size_t layer = 0;
  while (layer < st.size()) {
    size_t last = layer;
    int per_cell = 0;
    while (last < st.size() && st[last] == st[layer]) {
      per_cell += 1 + (spec.interpolated_scale_aspect_ratio > 0 ? 1 : 0);
      ++last;
    }
    const int fm = int(std::ceil(double(spec.input_size) / st[layer]));
    for (int y = 0; y < fm; ++y)
      for (int x = 0; x < fm; ++x)
        for (int k = 0; k < per_cell; ++k) anchors.emplace_back((x + 0.5) / fm, (y + 0.5) / fm);
    layer = last;
  }
  return anchors;
}

std::vector<Detection> decode_detections(const float* regs, const float* scores,
                                         const std::vector<cv::Point2d>& anchors, int input_size, float min_score) {
  std::vector<Detection> out;
  const double size = input_size;
  for (size_t i = 0; i < anchors.size(); ++i) {
    const double raw = std::clamp(double(scores[i]), -100.0, 100.0);  // score_clipping_thresh
    const double score = 1.0 / (1.0 + std::exp(-raw));
    if (score < min_score) continue;
    const float* r = regs + i * 16;
    const double ax = anchors[i].x, ay = anchors[i].y;
    // reverse_output_order: x, y, w, h, then 6 keypoints (x, y); anchors are 1 x 1.
    const double xc = r[0] / size + ax, yc = r[1] / size + ay;
    const double w = r[2] / size, h = r[3] / size;
    if (!(w >= 0) || !(h >= 0)) continue;  // negative or NaN size
    Detection d;
    d.score = float(score);
    d.box = {xc - w / 2, yc - h / 2, xc + w / 2, yc + h / 2};
    for (int k = 0; k < 6; ++k) d.keypoints[k] = {r[4 + 2 * k] / size + ax, r[5 + 2 * k] / size + ay};
    out.push_back(d);
  }
  return out;
}

double box_iou(const std::array<double, 4>& a, const std::array<double, 4>& b) {
  const double ix = std::max(0.0, std::min(a[2], b[2]) - std::max(a[0], b[0]));
  const double iy = std::max(0.0, std::min(a[3], b[3]) - std::max(a[1], b[1]));
  const double inter = ix * iy;
  const double uni = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter;
  return uni > 0 ? inter / uni : 0.0;
}

std::vector<Detection> weighted_nms(std::vector<Detection> rem, double iou_threshold) {
  std::stable_sort(rem.begin(), rem.end(), [](const Detection& a, const Detection& b) { return a.score > b.score; });
  std::vector<Detection> out;
  while (!rem.empty()) {
    const Detection top = rem.front();
    std::vector<Detection> rest;
    double total = 0;
    std::array<double, 4> box{};
    std::array<cv::Point2d, 6> kps{};
    for (const auto& d : rem) {
      if (box_iou(d.box, top.box) > iou_threshold) {
        total += d.score;
        for (int k = 0; k < 4; ++k) box[k] += d.box[k] * d.score;
        for (int k = 0; k < 6; ++k) kps[k] += d.keypoints[k] * double(d.score);
      } else {
        rest.push_back(d);
      }
    }
    if (rest.size() == rem.size()) break;  // degenerate top box (no area): nothing merges
    Detection m = top;
    for (int k = 0; k < 4; ++k) m.box[k] = box[k] / total;
    for (int k = 0; k < 6; ++k) m.keypoints[k] = kps[k] / total;
    out.push_back(m);
    rem.swap(rest);
  }
  return out;
}

RotatedRoi letterbox_roi(int frame_w, int frame_h) {
  RotatedRoi r;
  r.cx = frame_w / 2.0;
  r.cy = frame_h / 2.0;
  r.w = r.h = double(std::max(frame_w, frame_h));
  return r;
}

Detection project_detection(const Detection& d, const RotatedRoi& lb) {
  Detection p = d;
  const cv::Point2d a = lb.to_frame(d.box[0], d.box[1]), b = lb.to_frame(d.box[2], d.box[3]);
  p.box = {a.x, a.y, b.x, b.y};
  for (int k = 0; k < 6; ++k) p.keypoints[k] = lb.to_frame(d.keypoints[k].x, d.keypoints[k].y);
  return p;
}

BlazeFace::BlazeFace(Context& ctx, DetectorKind kind, const std::string& model_path, Device device)
    : ctx_(&ctx), spec_(&detector_spec(kind)), model_(tflite::load_tflite(ctx, model_path, device)),
      anchors_(ssd_anchors(*spec_)) {
  const auto& outs = model_.outputs();
  FACET_CHECK(outs.size() == 2 && model_.inputs().size() == 1, model_path,
              ": not a BlazeFace detector (expected 1 input and 2 outputs)");
  // Tell regressors from scores by their last dimension (16 vs 1), not by their position.
  reg_output_ = outs[0].shape.back() == 16 ? 0 : 1;
  score_output_ = 1 - reg_output_;
  const auto& rs = outs[reg_output_].shape;
  const auto& ss = outs[score_output_].shape;
  FACET_CHECK(rs.size() == 3 && rs[2] == 16 && rs[1] == int64_t(anchors_.size()) && ss.back() == 1, model_path,
              ": outputs do not match the ", spec_->name, "-range detector (", anchors_.size(),
              " anchors x 16 coordinates expected)");
  const auto& in = model_.inputs()[0].shape;
  FACET_CHECK(in.size() == 4 && in[1] == spec_->input_size && in[2] == spec_->input_size && in[3] == 3, model_path,
              ": input is not ", spec_->input_size, "x", spec_->input_size, "x3; is this the ", spec_->name,
              "-range detector?");
}

std::vector<std::vector<Detection>> BlazeFace::detect(const std::vector<const cv::Mat*>& frames, float min_score) {
  std::vector<std::vector<Detection>> result(frames.size());
  if (frames.empty()) return result;
  const int S = spec_->input_size;
  const int64_t N = int64_t(frames.size());
  Tensor input = Tensor::empty(*ctx_, {N, S, S, 3}, DType::F32, Device::cpu());
  float* in = input.data_as<float>();
  for (int64_t i = 0; i < N; ++i) {
    const cv::Mat& f = *frames[size_t(i)];
    sample_roi(f, letterbox_roi(f.cols, f.rows), S, S, Border::Zero, -1.f, 1.f, in + i * S * S * 3);
  }
  std::vector<Tensor> outs = model_.run(*ctx_, {input});
  const std::vector<float> regs = outs[size_t(reg_output_)].to_float(*ctx_);
  const std::vector<float> scores = outs[size_t(score_output_)].to_float(*ctx_);
  const size_t A = anchors_.size();
  for (int64_t i = 0; i < N; ++i) {
    const cv::Mat& f = *frames[size_t(i)];
    auto dets = weighted_nms(decode_detections(regs.data() + i * A * 16, scores.data() + i * A, anchors_, S, min_score));
    const RotatedRoi lb = letterbox_roi(f.cols, f.rows);
    for (auto& d : dets) d = project_detection(d, lb);
    result[size_t(i)] = std::move(dets);
  }
  return result;
}

}  // namespace facet::detect
