// The closed-form colour transfers (rct, lct, mkl) and the merger's dispatch over DFL's colour
// modes. The statistics are accumulated in double: DFL's numpy code mixes float32 means with
// float64 covariances, and double everywhere is at least as accurate as either.
#include "pipeline/merge/color_transfer.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include <opencv2/imgproc.hpp>

namespace facet::merge {
namespace {

void check_pair(const char* fn, const cv::Mat& image, const cv::Mat& reference, bool same_size = true) {
  if (image.empty() || reference.empty())
    throw std::invalid_argument(std::string(fn) + ": empty image");
  if (image.depth() != CV_32F || reference.depth() != CV_32F)
    throw std::invalid_argument(std::string(fn) + ": images must be float32 (CV_32F)");
  if (image.channels() != reference.channels())
    throw std::invalid_argument(std::string(fn) + ": channel counts differ (" + std::to_string(image.channels()) +
                                " vs " + std::to_string(reference.channels()) + ")");
  if (same_size && image.size() != reference.size())
    throw std::invalid_argument(std::string(fn) + ": image sizes differ");
}

// Pixels as rows of a double N x C matrix.
cv::Mat as_rows(const cv::Mat& img) {
  cv::Mat c = img.isContinuous() ? img : img.clone();
  cv::Mat rows = c.reshape(1, static_cast<int>(c.total()));
  cv::Mat d;
  rows.convertTo(d, CV_64F);
  return d;
}

cv::Mat column_mean(const cv::Mat& rows) {
  cv::Mat mu;
  cv::reduce(rows, mu, 0, cv::REDUCE_AVG, CV_64F);
  return mu;  // 1 x C
}

// (X - mu)^T (X - mu) / divisor.
cv::Mat covariance(const cv::Mat& rows, const cv::Mat& mu, double divisor) {
  cv::Mat centred = rows - cv::repeat(mu, rows.rows, 1);
  cv::Mat c = centred.t() * centred;
  return c / divisor;
}

// Symmetric eigen-decomposition: values (C x 1) and vectors as the COLUMNS of U.
void sym_eigen(const cv::Mat& a, cv::Mat& values, cv::Mat& u) {
  cv::Mat vecs_rows;
  cv::Mat sym = (a + a.t()) * 0.5;  // exact symmetry for the solver
  cv::eigen(sym, values, vecs_rows);
  u = vecs_rows.t();
}

// U f(D) U^T for a symmetric matrix given its eigen-decomposition.
cv::Mat spectral(const cv::Mat& values, const cv::Mat& u, double (*f)(double)) {
  cv::Mat d = cv::Mat::zeros(u.cols, u.cols, CV_64F);
  for (int i = 0; i < u.cols; ++i) d.at<double>(i, i) = f(values.at<double>(i));
  return u * d * u.t();
}

double safe_sqrt(double x) { return std::sqrt(std::max(x, 0.0)); }
double inv_sqrt(double x) { return 1.0 / std::sqrt(std::max(x, std::numeric_limits<double>::min())); }

// rows * T + mu, clipped to [0,1], back to an image shaped like `like`.
cv::Mat apply_affine_rows(const cv::Mat& centred_rows, const cv::Mat& t, const cv::Mat& mu_ref, const cv::Mat& like) {
  cv::Mat out = centred_rows * t + cv::repeat(mu_ref, centred_rows.rows, 1);
  cv::Mat f;
  out.convertTo(f, CV_32F);
  cv::Mat img = f.reshape(like.channels(), like.rows);
  cv::min(cv::max(img, 0.0), 1.0, img);
  return img;
}

}  // namespace

cv::Mat rct(const cv::Mat& image, const cv::Mat& reference, const cv::Mat& image_mask, const cv::Mat& reference_mask,
            float mask_cutoff) {
  check_pair("rct", image, reference, false);
  if (image.channels() != 3) throw std::invalid_argument("rct: images must be 3-channel BGR");
  auto check_mask = [](const cv::Mat& m, const cv::Mat& img, const char* what) {
    if (!m.empty() && (m.type() != CV_32FC1 || m.size() != img.size()))
      throw std::invalid_argument(std::string("rct: ") + what + " must be CV_32FC1 of the image size");
  };
  check_mask(image_mask, image, "image_mask");
  check_mask(reference_mask, reference, "reference_mask");

  cv::Mat lab_i, lab_r;
  cv::cvtColor(image, lab_i, cv::COLOR_BGR2Lab);
  cv::cvtColor(reference, lab_r, cv::COLOR_BGR2Lab);

  // Mean and population std per channel; masked-out pixels contribute zeros but still count.
  auto stats = [mask_cutoff](const cv::Mat& lab, const cv::Mat& mask, double mean[3], double sd[3]) {
    double s[3] = {0, 0, 0}, s2[3] = {0, 0, 0};
    for (int y = 0; y < lab.rows; ++y) {
      const cv::Vec3f* p = lab.ptr<cv::Vec3f>(y);
      const float* m = mask.empty() ? nullptr : mask.ptr<float>(y);
      for (int x = 0; x < lab.cols; ++x) {
        if (m && m[x] < mask_cutoff) continue;
        for (int c = 0; c < 3; ++c) {
          s[c] += p[x][c];
          s2[c] += static_cast<double>(p[x][c]) * p[x][c];
        }
      }
    }
    const double n = static_cast<double>(lab.total());
    for (int c = 0; c < 3; ++c) {
      mean[c] = s[c] / n;
      sd[c] = std::sqrt(std::max(s2[c] / n - mean[c] * mean[c], 0.0));
    }
  };
  double mi[3], si[3], mr[3], sr[3];
  stats(lab_i, image_mask, mi, si);
  stats(lab_r, reference_mask, mr, sr);

  // A flat image channel has sd 0: DFL divides by it (NaN); we keep the channel's offset instead.
  double scale[3];
  for (int c = 0; c < 3; ++c) scale[c] = si[c] > 1e-12 ? sr[c] / si[c] : 1.0;

  const float lo[3] = {0.f, -127.f, -127.f}, hi[3] = {100.f, 127.f, 127.f};
  for (int y = 0; y < lab_i.rows; ++y) {
    cv::Vec3f* p = lab_i.ptr<cv::Vec3f>(y);
    for (int x = 0; x < lab_i.cols; ++x)
      for (int c = 0; c < 3; ++c) {
        const double v = (p[x][c] - mi[c]) * scale[c] + mr[c];
        p[x][c] = std::clamp(static_cast<float>(v), lo[c], hi[c]);
      }
  }
  cv::Mat out;
  cv::cvtColor(lab_i, out, cv::COLOR_Lab2BGR);
  return out;
}

cv::Mat lct(const cv::Mat& image, const cv::Mat& reference, double eps) {
  check_pair("lct", image, reference, false);
  const int ch = image.channels();
  cv::Mat xi = as_rows(image), xr = as_rows(reference);
  cv::Mat mu_i = column_mean(xi), mu_r = column_mean(xr);
  cv::Mat eye = cv::Mat::eye(ch, ch, CV_64F) * eps;
  cv::Mat ci = covariance(xi, mu_i, xi.rows) + eye;
  cv::Mat cr = covariance(xr, mu_r, xr.rows) + eye;

  cv::Mat vi, ui, vr, ur;
  sym_eigen(ci, vi, ui);
  sym_eigen(cr, vr, ur);
  const cv::Mat q_r = spectral(vr, ur, safe_sqrt);
  const cv::Mat q_i_inv = spectral(vi, ui, inv_sqrt);
  const cv::Mat m = q_r * q_i_inv;  // acts on column vectors; rows need its transpose

  cv::Mat centred = xi - cv::repeat(mu_i, xi.rows, 1);
  return apply_affine_rows(centred, m.t(), mu_r, image);
}

cv::Mat mkl(const cv::Mat& image, const cv::Mat& reference) {
  check_pair("mkl", image, reference, false);
  const double eps = std::numeric_limits<double>::epsilon();
  cv::Mat x0 = as_rows(image), x1 = as_rows(reference);
  cv::Mat mu0 = column_mean(x0), mu1 = column_mean(x1);
  // np.cov: unbiased (N - 1).
  cv::Mat a = covariance(x0, mu0, std::max(1, x0.rows - 1));
  cv::Mat b = covariance(x1, mu1, std::max(1, x1.rows - 1));

  cv::Mat da2, ua;
  sym_eigen(a, da2, ua);
  const int ch = a.rows;
  cv::Mat da = cv::Mat::zeros(ch, ch, CV_64F), da_inv = cv::Mat::zeros(ch, ch, CV_64F);
  for (int i = 0; i < ch; ++i) {
    const double s = std::sqrt(std::max(da2.at<double>(i), eps));
    da.at<double>(i, i) = s;
    da_inv.at<double>(i, i) = 1.0 / s;
  }
  cv::Mat c = da * ua.t() * b * ua * da;
  cv::Mat dc2, uc;
  sym_eigen(c, dc2, uc);
  cv::Mat dc = cv::Mat::zeros(ch, ch, CV_64F);
  for (int i = 0; i < ch; ++i) dc.at<double>(i, i) = std::sqrt(std::max(dc2.at<double>(i), eps));
  cv::Mat t = ua * da_inv * uc * dc * uc.t() * da_inv * ua.t();

  cv::Mat centred = x0 - cv::repeat(mu0, x0.rows, 1);
  return apply_affine_rows(centred, t, mu1, image);
}

cv::Mat apply_color_transfer(ColorTransferMode mode, const cv::Mat& image, const cv::Mat& reference,
                             const cv::Mat& mask_area, uint64_t seed) {
  auto masked = [&](const cv::Mat& img) {
    if (mask_area.empty()) return img.clone();
    cv::Mat m3, out;
    cv::merge(std::vector<cv::Mat>(static_cast<size_t>(img.channels()), mask_area), m3);
    cv::multiply(img, m3, out);
    return out;
  };
  switch (mode) {
    case ColorTransferMode::None: return image.clone();
    case ColorTransferMode::Rct: return rct(image, reference, mask_area, mask_area);
    case ColorTransferMode::Lct: return lct(image, reference);
    case ColorTransferMode::Mkl: return mkl(image, reference);
    case ColorTransferMode::MklM: return mkl(masked(image), masked(reference));
    case ColorTransferMode::Idt: return idt(image, reference, 256, 20, seed);
    case ColorTransferMode::IdtM: return idt(masked(image), masked(reference), 256, 20, seed);
    case ColorTransferMode::SotM: {
      cv::Mat out = sot(masked(image), masked(reference), 10, 30, 16.f, 5.f, seed);
      cv::min(cv::max(out, 0.0), 1.0, out);
      return out;
    }
    case ColorTransferMode::MixM: return mix(masked(image), masked(reference), seed);
  }
  throw std::invalid_argument("apply_color_transfer: unknown mode " + std::to_string(static_cast<int>(mode)));
}

}  // namespace facet::merge
