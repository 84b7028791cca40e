// The push-pull fill outside a face mask (pipeline/faces/background_fill.h): the face is kept
// exactly, everything outside becomes an average of face colours (so a saturated backdrop
// disappears), soft mask edges blend, an empty mask changes nothing; and the trainer fills the
// source side only, under masked training.
#include <gtest/gtest.h>
#include <opencv2/imgproc.hpp>

#include "pipeline/faces/background_fill.h"
#include "pipeline/faces/landmark_masks.h"
#include "pipeline/train/synthetic_faces.h"

namespace facet::faces {
namespace {

// A synthetic face whose backdrop (all that is not head) is saturated blue, and its hull mask.
cv::Mat face_on_blue(int size, cv::Mat* hull) {
  Landmarks l;
  cv::Mat head;
  cv::Mat img = train::draw_synthetic_face(train::SyntheticIdentity::A, 4, 1, size, FaceType::WholeFace, &l, &head);
  img.setTo(cv::Scalar(255, 0, 0), head == 0);
  *hull = hull_mask(img.size(), l);
  return img;
}

bool blue_dominant(const cv::Vec3b& p) { return p[0] > 100 && p[0] > 2 * std::max(p[1], p[2]); }

TEST(BackgroundFill, KeepsTheFaceAndRemovesTheBackdrop) {
  cv::Mat hull;
  const cv::Mat original = face_on_blue(96, &hull);
  cv::Mat img = original.clone();
  fill_outside_mask(img, hull);
  cv::Vec3d lo(255, 255, 255), hi(0, 0, 0);
  int blue_before = 0, blue_after = 0;
  for (int y = 0; y < img.rows; ++y)
    for (int x = 0; x < img.cols; ++x) {
      const cv::Vec3b a = original.at<cv::Vec3b>(y, x), b = img.at<cv::Vec3b>(y, x);
      if (hull.at<float>(y, x) == 1.f) {
        ASSERT_EQ(a, b) << x << "," << y;  // the face itself is untouched
        for (int c = 0; c < 3; ++c) lo[c] = std::min(lo[c], double(a[c])), hi[c] = std::max(hi[c], double(a[c]));
      }
      if (hull.at<float>(y, x) < 1.f) {  // the hull may reach past the drawn head: there it keeps the blue
        blue_before += blue_dominant(a);
        blue_after += blue_dominant(b);
      }
    }
  EXPECT_GT(blue_before, img.rows * img.cols / 5);
  EXPECT_EQ(blue_after, 0);
  // Outside, every pixel is an average of face pixels: inside their colour range.
  for (int y = 0; y < img.rows; ++y)
    for (int x = 0; x < img.cols; ++x)
      if (hull.at<float>(y, x) == 0.f)
        for (int c = 0; c < 3; ++c) {
          ASSERT_GE(img.at<cv::Vec3b>(y, x)[c], lo[c] - 1) << x << "," << y;
          ASSERT_LE(img.at<cv::Vec3b>(y, x)[c], hi[c] + 1) << x << "," << y;
        }
}

TEST(BackgroundFill, SoftEdgesBlendAndAnEmptyMaskChangesNothing) {
  cv::Mat img(8, 8, CV_8UC3, cv::Scalar(255, 0, 0)), mask = cv::Mat::zeros(8, 8, CV_32FC1);
  img(cv::Rect(0, 0, 4, 8)).setTo(cv::Scalar(0, 0, 200));
  mask(cv::Rect(0, 0, 4, 8)).setTo(1.0f);
  mask.col(4).setTo(0.5f);
  cv::Mat out = img.clone();
  fill_outside_mask(out, mask);
  EXPECT_EQ(out.at<cv::Vec3b>(3, 7), cv::Vec3b(0, 0, 200));  // filled with the only face colour
  const cv::Vec3b half = out.at<cv::Vec3b>(3, 4);             // half original blue, half fill
  EXPECT_NEAR(half[0], 128, 2);
  EXPECT_NEAR(half[2], 100, 2);
  cv::Mat untouched = img.clone();
  fill_outside_mask(untouched, cv::Mat::zeros(8, 8, CV_32FC1));
  EXPECT_EQ(cv::norm(untouched, img, cv::NORM_INF), 0.0);
}

}  // namespace
}  // namespace facet::faces
