// Training under learned masks: a face that carries a stored learned mask (`facet mask apply`, or
// DFL's xseg_mask) trains under that mask, brought through the same crop as its pixels; the
// others keep the landmark hull. The stored mask is the left half of the face image, so the
// training mask must be the left half at the training resolution, whatever the hull says.
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "pipeline/faces/face_image.h"
#include "pipeline/train/training_faces.h"
#include "test_trainer_support.h"

namespace facet::train {
namespace {

TEST(TrainingLearnedMasks, AStoredLearnedMaskReplacesTheHull) {
  testing::ScratchDir dir("learned_masks");
  SyntheticFaceSetOptions o;
  o.count = 3, o.size = 64;
  const std::vector<std::string> names = write_synthetic_face_set(dir.path(), SyntheticIdentity::A, o);
  ASSERT_EQ(names.size(), 3u);
  const std::string marked = dir.file(names[1]);
  faces::FaceImage f = faces::read_face_image(marked);
  cv::Mat left = cv::Mat::zeros(32, 32, CV_8U);  // stored smaller than the image, as DFL may
  left.colRange(0, 16).setTo(255);
  std::vector<uint8_t> png;
  ASSERT_TRUE(cv::imencode(".png", left, png));
  f.meta.xseg_mask = png;
  faces::write_face_image(marked, f.image, f.meta);

  LoadFacesOptions lo;
  lo.resolution = 32;
  lo.face_type = f.meta.face_type;  // same type: a plain resize, so the half stays a half
  lo.threads = 1;
  const HostFaces hf = load_training_faces(dir.path(), lo);
  ASSERT_EQ(hf.size(), 3);
  EXPECT_EQ(hf.learned_masks, 1);
  const size_t px = 32 * 32;
  int idx = -1;
  for (int i = 0; i < 3; ++i)
    if (hf.names[size_t(i)] == names[1]) idx = i;
  ASSERT_GE(idx, 0);
  const cv::Mat m(32, 32, CV_32F, const_cast<float*>(&hf.mask[size_t(idx) * px]));
  EXPECT_NEAR(cv::mean(m.colRange(0, 15))[0], 1.0, 1e-3);
  EXPECT_NEAR(cv::mean(m.colRange(17, 32))[0], 0.0, 1e-3);
  // A face without a learned mask still trains under its hull: set somewhere, not the half.
  const int other = idx == 0 ? 1 : 0;
  const cv::Mat h(32, 32, CV_32F, const_cast<float*>(&hf.mask[size_t(other) * px]));
  EXPECT_GT(cv::mean(h.colRange(17, 32))[0], 0.2);

  // A stored mask that does not decode names the file, and the face is skipped, not trained.
  f.meta.xseg_mask = {1, 2, 3, 4};
  faces::write_face_image(marked, f.image, f.meta);
  const HostFaces bad = load_training_faces(dir.path(), lo);
  EXPECT_EQ(bad.size(), 2);
  ASSERT_EQ(bad.skipped.size(), 1u);
  EXPECT_EQ(bad.skipped[0].filename, names[1]);
}

}  // namespace
}  // namespace facet::train
