// Colour transfer: each method's promise checked on random face-like images.
//   rct      per-channel L*a*b* mean and std of the result = the reference's (and the masked form
//            follows DFL's zeros-counted formula);
//   lct, mkl mean and covariance of the result = the reference's;
//   hist     per-channel quantiles of the result = the reference's (threshold 255), and a lower
//            threshold caps the result at the reference's threshold/255 quantile;
//   idt, sot, mix  the sliced Wasserstein-1 distance to the reference (mean |sorted projection
//            difference| over 64 fixed random unit directions) shrinks by the stated factor;
//   all      identical image and reference give the image back; seeds make results reproducible.
// Cross-checked during development against DFL's color_transfer.py (numpy/cv2): rct, lct, mkl
// agree to 1e-6, hist-match exactly.
#include <algorithm>
#include <cmath>
#include <vector>

#include <gtest/gtest.h>
#include <opencv2/imgproc.hpp>

#include "pipeline/merge/color_transfer.h"

namespace facet::merge {
namespace {

// A smooth colour field with texture: a per-image base colour, a gradient and noise, in [0,1].
cv::Mat face_like(int h, int w, uint64_t seed, double spread = 0.25) {
  cv::RNG rng(seed);
  cv::Mat img(h, w, CV_32FC3);
  const cv::Vec3d base(rng.uniform(0.25, 0.65), rng.uniform(0.25, 0.65), rng.uniform(0.25, 0.65));
  const cv::Vec3d grad(rng.uniform(-0.2, 0.2), rng.uniform(-0.2, 0.2), rng.uniform(-0.2, 0.2));
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int c = 0; c < 3; ++c) {
        const double v = base[c] + grad[c] * (x / double(w) - 0.5) + grad[(c + 1) % 3] * (y / double(h) - 0.5) +
                         spread * (rng.uniform(0.0, 1.0) - 0.5);
        img.at<cv::Vec3f>(y, x)[c] = static_cast<float>(std::clamp(v, 0.0, 1.0));
      }
  return img;
}

void mean_std(const cv::Mat& img, cv::Scalar& mean, cv::Scalar& sd) { cv::meanStdDev(img, mean, sd); }

// Mean (1x3) and biased covariance (3x3) of the pixels.
void mean_cov(const cv::Mat& img, cv::Mat& mean, cv::Mat& cov) {
  cv::Mat rows = img.reshape(1, static_cast<int>(img.total())), d;
  rows.convertTo(d, CV_64F);
  cv::calcCovarMatrix(d, cov, mean, cv::COVAR_NORMAL | cv::COVAR_ROWS | cv::COVAR_SCALE, CV_64F);
}

// Sliced W1 distance between two images of the same pixel count.
double sliced_distance(const cv::Mat& a, const cv::Mat& b) {
  cv::RNG rng(12345);
  const int n = static_cast<int>(a.total());
  double total = 0;
  const int dirs = 64;
  std::vector<float> pa(n), pb(n);
  for (int k = 0; k < dirs; ++k) {
    cv::Vec3d u(rng.gaussian(1), rng.gaussian(1), rng.gaussian(1));
    u /= cv::norm(u);
    const cv::Vec3f* A = a.ptr<cv::Vec3f>();
    const cv::Vec3f* B = b.ptr<cv::Vec3f>();
    for (int i = 0; i < n; ++i) {
      pa[i] = static_cast<float>(A[i].dot(cv::Vec3f(u)));
      pb[i] = static_cast<float>(B[i].dot(cv::Vec3f(u)));
    }
    std::sort(pa.begin(), pa.end());
    std::sort(pb.begin(), pb.end());
    double d = 0;
    for (int i = 0; i < n; ++i) d += std::abs(pa[i] - pb[i]);
    total += d / n;
  }
  return total / dirs;
}

double max_abs_diff(const cv::Mat& a, const cv::Mat& b) { return cv::norm(a, b, cv::NORM_INF); }
double mean_abs_diff(const cv::Mat& a, const cv::Mat& b) { return cv::norm(a, b, cv::NORM_L1) / (a.total() * a.channels()); }

TEST(ColorTransferRct, MatchesReferenceLabMeanAndStd) {
  const cv::Mat img = face_like(64, 56, 1), ref = face_like(64, 56, 2);
  const cv::Mat out = rct(img, ref);
  cv::Mat lab_out, lab_ref;
  cv::cvtColor(out, lab_out, cv::COLOR_BGR2Lab);
  cv::cvtColor(ref, lab_ref, cv::COLOR_BGR2Lab);
  cv::Scalar mo, so, mr, sr;
  mean_std(lab_out, mo, so);
  mean_std(lab_ref, mr, sr);
  // OpenCV's float L*a*b* <-> BGR round trip is itself good to about 0.3 L*a*b* units.
  for (int c = 0; c < 3; ++c) {
    EXPECT_NEAR(mo[c], mr[c], 0.3) << "channel " << c;
    EXPECT_NEAR(so[c], sr[c], 0.02 * sr[c] + 0.3) << "channel " << c;
  }
  // And the statistics moved: the two images differ in colour.
  cv::Mat lab_img;
  cv::cvtColor(img, lab_img, cv::COLOR_BGR2Lab);
  cv::Scalar mi, si;
  mean_std(lab_img, mi, si);
  EXPECT_GT(cv::norm(mi - mr), 3.0);
}

TEST(ColorTransferRct, MaskedStatisticsCountZerosLikeDfl) {
  const int h = 48, w = 40;
  const cv::Mat img = face_like(h, w, 3), ref = face_like(h, w, 4);
  cv::Mat mask = cv::Mat::zeros(h, w, CV_32F);
  mask(cv::Rect(8, 6, 24, 30)).setTo(1.f);
  const cv::Mat out = rct(img, ref, mask, mask);

  // Expected: t' = (t - mu_t) * sd_r / sd_t + mu_r with the stats of the zero-filled Lab images,
  // L clipped to [0,100], a and b to [-127,127], back to BGR.
  cv::Mat lab_i, lab_r;
  cv::cvtColor(img, lab_i, cv::COLOR_BGR2Lab);
  cv::cvtColor(ref, lab_r, cv::COLOR_BGR2Lab);
  cv::Mat zi = cv::Mat::zeros(lab_i.size(), lab_i.type()), zr = zi.clone();
  lab_i.copyTo(zi, mask > 0.5f);
  lab_r.copyTo(zr, mask > 0.5f);
  cv::Scalar mi, si, mr, sr;
  mean_std(zi, mi, si);
  mean_std(zr, mr, sr);
  cv::Mat expect_lab = lab_i.clone();
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int c = 0; c < 3; ++c) {
        const double e = (lab_i.at<cv::Vec3f>(y, x)[c] - mi[c]) * sr[c] / si[c] + mr[c];
        expect_lab.at<cv::Vec3f>(y, x)[c] =
            static_cast<float>(std::clamp(e, c == 0 ? 0.0 : -127.0, c == 0 ? 100.0 : 127.0));
      }
  cv::Mat expect;
  cv::cvtColor(expect_lab, expect, cv::COLOR_Lab2BGR);
  EXPECT_LT(max_abs_diff(out, expect), 1e-4);
  // The masked statistics differ from the unmasked ones, so the mask did something.
  EXPECT_GT(max_abs_diff(out, rct(img, ref)), 0.01);
}

TEST(ColorTransferLinear, LctMatchesMeanAndCovariance) {
  const cv::Mat img = face_like(64, 64, 5, 0.2), ref = face_like(64, 64, 6, 0.3);
  const cv::Mat out = lct(img, ref);
  cv::Mat mo, co, mr, cr;
  mean_cov(out, mo, co);
  mean_cov(ref, mr, cr);
  EXPECT_LT(cv::norm(mo, mr, cv::NORM_INF), 2e-3);
  EXPECT_LT(cv::norm(co, cr, cv::NORM_INF), 0.03 * cv::norm(cr, cv::NORM_INF));
}

TEST(ColorTransferLinear, MklMatchesMeanAndCovariance) {
  const cv::Mat img = face_like(64, 64, 7, 0.2), ref = face_like(64, 64, 8, 0.3);
  const cv::Mat out = mkl(img, ref);
  cv::Mat mo, co, mr, cr;
  mean_cov(out, mo, co);
  mean_cov(ref, mr, cr);
  EXPECT_LT(cv::norm(mo, mr, cv::NORM_INF), 2e-3);
  EXPECT_LT(cv::norm(co, cr, cv::NORM_INF), 0.03 * cv::norm(cr, cv::NORM_INF));
}

TEST(ColorTransferLinear, LctWorksOnOneChannel) {
  cv::Mat a, b;
  cv::extractChannel(face_like(32, 32, 9), a, 1);
  cv::extractChannel(face_like(32, 32, 10, 0.4), b, 1);
  const cv::Mat out = lct(a, b);
  cv::Scalar mo, so, mr, sr;
  mean_std(out, mo, so);
  mean_std(b, mr, sr);
  EXPECT_NEAR(mo[0], mr[0], 1e-3);
  EXPECT_NEAR(so[0], sr[0], 0.02 * sr[0]);
}

// Quantile q of one channel.
float quantile(const cv::Mat& img, int c, double q) {
  cv::Mat ch;
  cv::extractChannel(img, ch, c);
  std::vector<float> v(ch.begin<float>(), ch.end<float>());
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(q * v.size()))];
}

TEST(ColorTransferHist, MatchesReferenceCdfPerChannel) {
  const cv::Mat img = face_like(60, 50, 11), ref = face_like(40, 45, 12, 0.5);  // sizes may differ
  const cv::Mat out = hist_match(img, ref, 255);
  for (int c = 0; c < 3; ++c)
    for (double q = 0.02; q < 1.0; q += 0.04)
      EXPECT_NEAR(quantile(out, c, q), quantile(ref, c, q), 0.01) << "channel " << c << " q " << q;
}

TEST(ColorTransferHist, ThresholdCapsAtReferenceQuantile) {
  const cv::Mat img = face_like(50, 50, 13), ref = face_like(50, 50, 14, 0.5);
  const cv::Mat out = hist_match(img, ref, 200);
  for (int c = 0; c < 3; ++c) {
    double mx;
    cv::Mat ch;
    cv::extractChannel(out, ch, c);
    cv::minMaxLoc(ch, nullptr, &mx);
    EXPECT_LE(mx, quantile(ref, c, 200.0 / 255.0) + 1e-6) << "channel " << c;
    EXPECT_GE(mx, quantile(ref, c, 200.0 / 255.0 - 0.01)) << "channel " << c;
  }
}

TEST(ColorTransferIterative, IdtMovesSlicedMarginalsTowardReference) {
  const cv::Mat img = face_like(48, 48, 15), ref = face_like(48, 48, 16, 0.35);
  const double before = sliced_distance(img, ref);
  const double after = sliced_distance(idt(img, ref, 256, 20, 7), ref);
  // n_rot rotations with relaxation 1/n_rot leave about (1 - 1/n_rot)^n_rot = 0.36 of the gap.
  EXPECT_LT(after, 0.5 * before) << before << " -> " << after;
  EXPECT_GT(after, 0.2 * before) << before << " -> " << after;
}

TEST(ColorTransferIterative, SotMovesSlicedMarginalsTowardReference) {
  const cv::Mat img = face_like(48, 48, 17), ref = face_like(48, 48, 18, 0.35);
  const double before = sliced_distance(img, ref);
  // Without regularisation sliced OT matches the marginals almost exactly.
  const double plain = sliced_distance(sot(img, ref, 10, 30, 0.f, 5.f, 3), ref);
  EXPECT_LT(plain, 0.1 * before) << before << " -> " << plain;
  // DFL's bilateral regularisation smooths the displacement field, so per-pixel texture (noise
  // of a different amplitude) is not transferred: the gap closes less, but still at least half.
  const double dfl_default = sliced_distance(sot(img, ref, 10, 5, 16.f, 5.f, 3), ref);
  const double merger = sliced_distance(sot(img, ref, 10, 30, 16.f, 5.f, 3), ref);
  EXPECT_LT(dfl_default, 0.5 * before) << before << " -> " << dfl_default;
  EXPECT_LT(merger, 0.5 * before) << before << " -> " << merger;
}

TEST(ColorTransferIterative, MixMovesSlicedMarginalsTowardReference) {
  const cv::Mat img = face_like(48, 48, 19), ref = face_like(48, 48, 20, 0.4);
  const double before = sliced_distance(img, ref);
  const double after = sliced_distance(mix(img, ref, 5), ref);
  EXPECT_LT(after, 0.4 * before) << before << " -> " << after;
}

TEST(ColorTransferIterative, SeedsMakeResultsReproducible) {
  const cv::Mat img = face_like(32, 32, 21), ref = face_like(32, 32, 22);
  EXPECT_EQ(max_abs_diff(idt(img, ref, 256, 5, 1), idt(img, ref, 256, 5, 1)), 0.0);
  EXPECT_GT(max_abs_diff(idt(img, ref, 256, 5, 1), idt(img, ref, 256, 5, 2)), 0.0);
  EXPECT_EQ(max_abs_diff(sot(img, ref, 3, 4, 16.f, 5.f, 1), sot(img, ref, 3, 4, 16.f, 5.f, 1)), 0.0);
  EXPECT_GT(max_abs_diff(sot(img, ref, 3, 4, 16.f, 5.f, 1), sot(img, ref, 3, 4, 16.f, 5.f, 2)), 0.0);
}

TEST(ColorTransferIdentity, EveryFunctionReturnsTheImageForItself) {
  const cv::Mat img = face_like(48, 40, 23);
  EXPECT_LT(max_abs_diff(rct(img, img), img), 3e-3);  // the float L*a*b* round trip
  EXPECT_LT(max_abs_diff(lct(img, img), img), 1e-4);
  EXPECT_LT(max_abs_diff(mkl(img, img), img), 1e-4);
  EXPECT_EQ(max_abs_diff(hist_match(img, img, 255), img), 0.0);
  EXPECT_EQ(max_abs_diff(sot(img, img), img), 0.0);
  EXPECT_LT(max_abs_diff(idt(img, img), img), 1e-4);
  // mix goes through 8-bit L*a*b* (truncations), so a few 8-bit steps.
  const cv::Mat m = mix(img, img);
  EXPECT_LT(mean_abs_diff(m, img), 4.0 / 255);
}

TEST(ColorTransferIdentity, EveryMergerModeReturnsTheImageForItself) {
  const cv::Mat img = face_like(48, 48, 24);
  cv::Mat area = cv::Mat::zeros(48, 48, CV_32F);
  cv::circle(area, {24, 24}, 18, cv::Scalar(1), cv::FILLED);
  cv::Mat area3, masked;
  cv::merge(std::vector<cv::Mat>(3, area), area3);
  cv::multiply(img, area3, masked);
  for (int m = 0; m <= 8; ++m) {
    const auto mode = static_cast<ColorTransferMode>(m);
    const bool masks_input = mode == ColorTransferMode::MklM || mode == ColorTransferMode::IdtM ||
                             mode == ColorTransferMode::SotM || mode == ColorTransferMode::MixM;
    const cv::Mat out = apply_color_transfer(mode, img, img, area, 3);
    // The -m modes transfer between mask-multiplied images, so they return the masked image.
    const cv::Mat& expect = masks_input ? masked : img;
    const double tol = mode == ColorTransferMode::MixM ? 4.0 / 255 : 2e-3;
    EXPECT_LT(mean_abs_diff(out, expect), tol) << to_string(mode);
  }
}

TEST(ColorTransferErrors, MismatchedInputsAreRefused) {
  const cv::Mat a = face_like(16, 16, 1), b = face_like(16, 20, 2);
  EXPECT_THROW(sot(a, b), std::invalid_argument);
  cv::Mat u8;
  a.convertTo(u8, CV_8U, 255);
  EXPECT_THROW(rct(u8, a), std::invalid_argument);
  EXPECT_THROW(rct(a, a, cv::Mat::ones(4, 4, CV_32F)), std::invalid_argument);
}

}  // namespace
}  // namespace facet::merge
