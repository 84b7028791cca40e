// Push-pull fill outside a mask (see background_fill.h).
#include "pipeline/faces/background_fill.h"

#include <algorithm>
#include <vector>

#include <opencv2/imgproc.hpp>

#include "engine/core/error.h"

namespace facet::faces {

void fill_outside_mask(cv::Mat& image, const cv::Mat& mask_in, int erode_px) {
  FACET_CHECK(image.type() == CV_8UC3 && mask_in.type() == CV_32FC1 && image.size() == mask_in.size(),
              "fill_outside_mask: needs an 8-bit BGR image and a float mask of its size");
  cv::Mat mask = mask_in;
  if (erode_px > 0) {
    cv::erode(mask_in, mask, cv::getStructuringElement(cv::MORPH_ELLIPSE, cv::Size(2 * erode_px + 1, 2 * erode_px + 1)));
    const int feather = std::max(1, erode_px / 2) * 2 + 1;
    cv::blur(mask, mask, cv::Size(feather, feather));
    cv::min(mask, mask_in, mask);  // never more face than the mask said
  }
  // Only pixels more face than not give colour: a soft edge's pixels are partly backdrop.
  cv::Mat inside;
  cv::threshold(mask, inside, 0.5, 1.0, cv::THRESH_BINARY);
  if (cv::countNonZero(inside) == 0) return;
  // Pull: premultiplied colour and weight, halved until 1 px (box averages).
  std::vector<cv::Mat> colour(1), weight(1);
  cv::Mat original;
  image.convertTo(original, CV_32FC3, 1.0 / 255.0);
  weight[0] = inside;
  cv::Mat w3;
  cv::merge(std::vector<cv::Mat>(3, weight[0]), w3);
  colour[0] = original.mul(w3);
  while (colour.back().rows > 1 || colour.back().cols > 1) {
    const cv::Size half((colour.back().cols + 1) / 2, (colour.back().rows + 1) / 2);
    cv::Mat c, w;
    cv::resize(colour.back(), c, half, 0, 0, cv::INTER_AREA);
    cv::resize(weight.back(), w, half, 0, 0, cv::INTER_AREA);
    colour.push_back(c), weight.push_back(w);
  }
  // Push: at each level the known part (colour / weight) and, for the missing share 1 - weight,
  // the coarser level's filled colour.
  cv::Mat filled;
  for (int l = static_cast<int>(colour.size()) - 1; l >= 0; --l) {
    cv::Mat w = cv::min(weight[static_cast<size_t>(l)], 1.0), w_safe = cv::max(weight[static_cast<size_t>(l)], 1e-12);
    cv::Mat ws3, w13;
    cv::merge(std::vector<cv::Mat>(3, w_safe), ws3);
    cv::merge(std::vector<cv::Mat>(3, w), w13);
    cv::Mat known = colour[static_cast<size_t>(l)] / ws3;  // colour where the weight is > 0
    if (filled.empty()) {
      filled = known;
      continue;
    }
    cv::Mat up;
    cv::resize(filled, up, known.size(), 0, 0, cv::INTER_LINEAR);
    filled = known.mul(w13) + up.mul(cv::Scalar::all(1.0) - w13);
  }
  // The face as it was, the fill where the mask gives way (blended by its weight).
  cv::Mat m3;
  cv::merge(std::vector<cv::Mat>(3, mask), m3);
  cv::Mat out = original.mul(m3) + filled.mul(cv::Scalar::all(1.0) - m3);
  out.convertTo(image, CV_8UC3, 255.0);
}

}  // namespace facet::faces
