// The distribution-matching colour transfers: idt (iterative 1-D CDF matching along random
// rotations), sot (sliced optimal transport), DFL's mix of lct and sot, and exact-value histogram
// matching. numpy semantics that decide results (np.interp on non-decreasing abscissae,
// np.histogram's bins, astype(uint8) truncation) are reproduced on purpose; idt's CDF composition
// is the one deliberate departure (see Histogram below).
#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include <opencv2/imgproc.hpp>

#include "pipeline/merge/color_transfer.h"

namespace facet::merge {
namespace {

// Gaussian draws from mt19937_64 by Box-Muller: std::normal_distribution differs between
// standard libraries, this does not, so a seed means the same result everywhere.
class Normal {
 public:
  explicit Normal(uint64_t seed) : gen_(seed ^ 0x9E3779B97F4A7C15ull) {}
  double operator()() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    double u1, u2;
    do u1 = uniform(); while (u1 <= 0.0);
    u2 = uniform();
    const double r = std::sqrt(-2.0 * std::log(u1)), th = 2.0 * M_PI * u2;
    spare_ = r * std::sin(th);
    has_spare_ = true;
    return r * std::cos(th);
  }

 private:
  double uniform() { return static_cast<double>(gen_() >> 11) * (1.0 / 9007199254740992.0); }
  std::mt19937_64 gen_;
  double spare_ = 0;
  bool has_spare_ = false;
};

// A Haar-random rotation of R^3 (scipy special_ortho_group): Gram-Schmidt of a Gaussian matrix
// is Haar on O(3); flipping a column when det < 0 maps it onto SO(3) with the Haar measure.
void random_rotation(Normal& rng, double r[3][3]) {
  double q[3][3];  // q[col][row]
  for (auto& col : q)
    for (double& v : col) v = rng();
  for (int j = 0; j < 3; ++j) {
    for (int k = 0; k < j; ++k) {
      double d = 0;
      for (int i = 0; i < 3; ++i) d += q[j][i] * q[k][i];
      for (int i = 0; i < 3; ++i) q[j][i] -= d * q[k][i];
    }
    double n = 0;
    for (int i = 0; i < 3; ++i) n += q[j][i] * q[j][i];
    n = std::sqrt(n);
    for (int i = 0; i < 3; ++i) q[j][i] /= n;
  }
  const double det = q[0][0] * (q[1][1] * q[2][2] - q[1][2] * q[2][1]) -
                     q[1][0] * (q[0][1] * q[2][2] - q[0][2] * q[2][1]) +
                     q[2][0] * (q[0][1] * q[1][2] - q[0][2] * q[1][1]);
  if (det < 0)
    for (int i = 0; i < 3; ++i) q[0][i] = -q[0][i];
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) r[i][j] = q[j][i];
}

// np.interp(x, xp, fp, left, right) for non-decreasing xp: j = last index with xp[j] <= x
// (numpy's binary search), exact hits and the last knot return fp[j], otherwise linear.
double np_interp(double x, const std::vector<double>& xp, const std::vector<double>& fp, double left, double right) {
  const size_t n = xp.size();
  if (x < xp[0]) return left;
  if (x > xp[n - 1]) return right;
  const size_t j = static_cast<size_t>(std::upper_bound(xp.begin(), xp.end(), x) - xp.begin()) - 1;
  if (j == n - 1 || xp[j] == x) return fp[j];
  const double slope = (fp[j + 1] - fp[j]) / (xp[j + 1] - xp[j]);
  return slope * (x - xp[j]) + fp[j];
}

// A 1-D distribution as np.histogram(v, bins, range=[lo, hi]) sees it: uniform edges (lo == hi
// widens by 0.5 each side), bin i holds edges[i] <= v < edges[i+1], the last bin closed. The CDF
// is piecewise linear through the knots (edges[i], cdf[i]), cdf[0] = 0, cdf[bins] = 1.
struct Histogram {
  std::vector<double> edges, cdf;
  double lo = 0, norm = 0;
  int bins = 0;

  Histogram(const std::vector<float>& v, double lo_, double hi_, int bins_) : lo(lo_), bins(bins_) {
    double hi = hi_;
    if (lo == hi) lo -= 0.5, hi += 0.5;
    edges.resize(static_cast<size_t>(bins) + 1);
    const double step = (hi - lo) / bins;
    for (int i = 0; i <= bins; ++i) edges[i] = lo + i * step;
    edges[bins] = hi;
    norm = bins / (hi - lo);
    std::vector<int64_t> count(static_cast<size_t>(bins), 0);
    for (float f : v) ++count[static_cast<size_t>(bin_of(f))];
    cdf.assign(static_cast<size_t>(bins) + 1, 0.0);
    int64_t acc = 0;
    for (int i = 0; i < bins; ++i) cdf[i + 1] = static_cast<double>(acc += count[i]);
    for (double& c : cdf) c /= static_cast<double>(acc);
  }

  int bin_of(double x) const {
    int k = std::clamp(static_cast<int>((x - lo) * norm), 0, bins - 1);
    if (x < edges[k] && k > 0) --k;
    else if (k != bins - 1 && x >= edges[k + 1]) ++k;
    return k;
  }

  double cdf_at(double x) const {
    const int k = bin_of(x);
    const double t = std::clamp((x - edges[k]) / (edges[k + 1] - edges[k]), 0.0, 1.0);
    return cdf[k] + t * (cdf[k + 1] - cdf[k]);
  }

  // Inverse of cdf_at: u lies in bin k with cdf[k] <= u < cdf[k+1] (the first knot ABOVE u), so
  // a point of an occupied bin comes back where it was when both distributions are the same.
  double inverse(double u) const {
    const size_t m = static_cast<size_t>(std::upper_bound(cdf.begin(), cdf.end(), u) - cdf.begin());
    if (m == 0) return edges.front();
    if (m > static_cast<size_t>(bins)) return edges.back();
    const size_t k = m - 1;
    return edges[k] + (u - cdf[k]) / (cdf[k + 1] - cdf[k]) * (edges[k + 1] - edges[k]);
  }
};

void check_float(const char* fn, const cv::Mat& image, const cv::Mat& reference, bool same_size) {
  if (image.empty() || reference.empty()) throw std::invalid_argument(std::string(fn) + ": empty image");
  if (image.depth() != CV_32F || reference.depth() != CV_32F)
    throw std::invalid_argument(std::string(fn) + ": images must be float32 (CV_32F)");
  if (image.channels() != reference.channels())
    throw std::invalid_argument(std::string(fn) + ": channel counts differ");
  if (same_size && image.size() != reference.size())
    throw std::invalid_argument(std::string(fn) + ": image sizes differ");
}

// Sorted order of v; ties by index so the result does not depend on the sort implementation.
std::vector<int> argsort(const std::vector<float>& v) {
  std::vector<int> id(v.size());
  std::iota(id.begin(), id.end(), 0);
  std::sort(id.begin(), id.end(), [&v](int a, int b) { return v[a] < v[b] || (v[a] == v[b] && a < b); });
  return id;
}

// numpy's clip(x, 0, 255).astype(uint8): truncation, not rounding.
cv::Mat to_u8_truncate(const cv::Mat& f, double scale) {
  cv::Mat out(f.size(), CV_MAKETYPE(CV_8U, f.channels()));
  const int n = f.cols * f.channels();
  for (int y = 0; y < f.rows; ++y) {
    const float* p = f.ptr<float>(y);
    uint8_t* q = out.ptr<uint8_t>(y);
    for (int x = 0; x < n; ++x) q[x] = static_cast<uint8_t>(std::clamp(static_cast<double>(p[x]) * scale, 0.0, 255.0));
  }
  return out;
}

}  // namespace

cv::Mat idt(const cv::Mat& image, const cv::Mat& reference, int bins, int n_rot, uint64_t seed) {
  check_float("idt", image, reference, false);
  if (image.channels() != 3) throw std::invalid_argument("idt: images must be 3-channel");
  if (bins < 1 || n_rot < 1) throw std::invalid_argument("idt: bins and n_rot must be >= 1");
  const cv::Mat i0 = image.isContinuous() ? image : image.clone();
  const cv::Mat i1 = reference.isContinuous() ? reference : reference.clone();
  const size_t n0 = i0.total(), n1 = i1.total();
  const float* p0 = i0.ptr<float>();
  const float* p1 = i1.ptr<float>();

  std::vector<double> d0(p0, p0 + 3 * n0);  // points, interleaved like the image
  Normal rng(seed);
  const double relaxation = 1.0 / n_rot;
  std::vector<float> a0(n0), a1(n1);
  std::vector<double> disp(3 * n0);

  for (int it = 0; it < n_rot; ++it) {
    double r[3][3];
    random_rotation(rng, r);
    std::fill(disp.begin(), disp.end(), 0.0);
    for (int j = 0; j < 3; ++j) {
      // DFL rotates in float32; the rotated coordinates are kept in float32 here too.
      for (size_t i = 0; i < n0; ++i)
        a0[i] = static_cast<float>(r[j][0] * d0[3 * i] + r[j][1] * d0[3 * i + 1] + r[j][2] * d0[3 * i + 2]);
      for (size_t i = 0; i < n1; ++i)
        a1[i] = static_cast<float>(r[j][0] * p1[3 * i] + r[j][1] * p1[3 * i + 1] + r[j][2] * p1[3 * i + 2]);
      const auto [mn0, mx0] = std::minmax_element(a0.begin(), a0.end());
      const auto [mn1, mx1] = std::minmax_element(a1.begin(), a1.end());
      const double lo = std::min(*mn0, *mn1), hi = std::max(*mx0, *mx1);
      const Histogram h0(a0, lo, hi, bins), h1(a1, lo, hi, bins);
      for (size_t i = 0; i < n0; ++i) {
        // 1-D transfer: the image's CDF value, then the reference's inverse CDF. DFL composes
        // the two through the upper bin edges with np.interp(left=0), which drags atoms (the
        // zeros of the -m modes) across empty bins and sends the lowest bin to 0; composing per
        // point keeps identical distributions fixed (docs/merge.md).
        const float mapped = static_cast<float>(h1.inverse(h0.cdf_at(a0[i])));
        const double delta = static_cast<double>(mapped) - a0[i];
        // Rotate the displacement back: r^-1 = r^T.
        for (int c = 0; c < 3; ++c) disp[3 * i + c] += r[j][c] * delta;
      }
    }
    for (size_t k = 0; k < d0.size(); ++k) d0[k] = static_cast<float>(d0[k] + relaxation * disp[k]);
  }

  cv::Mat out(i0.size(), CV_32FC3);
  float* po = out.ptr<float>();
  for (size_t k = 0; k < d0.size(); ++k) po[k] = static_cast<float>(std::clamp(d0[k], 0.0, 1.0));
  return out;
}

cv::Mat sot(const cv::Mat& image, const cv::Mat& reference, int steps, int batch_size, float reg_sigma_xy,
            float reg_sigma_v, uint64_t seed) {
  check_float("sot", image, reference, true);
  if (steps < 0 || batch_size < 1) throw std::invalid_argument("sot: steps must be >= 0 and batch_size >= 1");
  const int c = image.channels();
  const cv::Mat src = image.clone();
  const cv::Mat trg = reference.isContinuous() ? reference : reference.clone();
  const size_t n = src.total();
  cv::Mat new_src = src.clone();
  float* ns = new_src.ptr<float>();
  const float* pt = trg.ptr<float>();

  Normal rng(seed);
  std::vector<float> advect(n * static_cast<size_t>(c)), dir(static_cast<size_t>(c)), ps(n), pr(n);
  for (int step = 0; step < steps; ++step) {
    std::fill(advect.begin(), advect.end(), 0.f);
    for (int b = 0; b < batch_size; ++b) {
      double norm = 0;
      std::vector<double> d(static_cast<size_t>(c));
      for (int k = 0; k < c; ++k) {
        d[k] = static_cast<float>(rng());  // DFL draws float64 normals and casts to float32
        norm += d[k] * d[k];
      }
      norm = std::sqrt(norm);
      for (int k = 0; k < c; ++k) dir[k] = static_cast<float>(d[k] / norm);
      for (size_t i = 0; i < n; ++i) {
        float s = 0.f, t = 0.f;
        for (int k = 0; k < c; ++k) {
          s += ns[i * c + k] * dir[k];
          t += pt[i * c + k] * dir[k];
        }
        ps[i] = s;
        pr[i] = t;
      }
      const std::vector<int> ids = argsort(ps), idt_ = argsort(pr);
      for (size_t i = 0; i < n; ++i) {
        const float a = pr[idt_[i]] - ps[ids[i]];
        for (int k = 0; k < c; ++k) advect[static_cast<size_t>(ids[i]) * c + k] += a * dir[k];
      }
    }
    for (size_t k = 0; k < advect.size(); ++k) ns[k] += advect[k] / static_cast<float>(batch_size);
  }

  if (reg_sigma_xy != 0.f) {
    if (c != 1 && c != 3) throw std::invalid_argument("sot: regularisation needs 1 or 3 channels");
    cv::Mat diff = new_src - src, filt;
    cv::bilateralFilter(diff, filt, 0, reg_sigma_v, reg_sigma_xy);
    new_src = src + filt;
  }
  return new_src;
}

cv::Mat mix(const cv::Mat& image, const cv::Mat& reference, uint64_t seed) {
  check_float("mix", image, reference, true);
  if (image.channels() != 3) throw std::invalid_argument("mix: images must be 3-channel BGR");
  cv::Mat src_lab, trg_lab;
  cv::cvtColor(to_u8_truncate(image, 255.0), src_lab, cv::COLOR_BGR2Lab);
  cv::cvtColor(to_u8_truncate(reference, 255.0), trg_lab, cv::COLOR_BGR2Lab);

  // Lightness: lct on L/255.
  cv::Mat src_l, trg_l, src_lf, trg_lf;
  cv::extractChannel(src_lab, src_l, 0);
  cv::extractChannel(trg_lab, trg_l, 0);
  src_l.convertTo(src_lf, CV_32F, 1.0 / 255.0);
  trg_l.convertTo(trg_lf, CV_32F, 1.0 / 255.0);
  const cv::Mat light = to_u8_truncate(lct(src_lf, trg_lf), 255.0);

  // Chroma: sot between the two images re-rendered at L = 100 (in 8-bit Lab units).
  auto chroma_bgr = [](cv::Mat lab) {
    cv::Mat l100(lab.size(), CV_8UC1, cv::Scalar(100)), bgr, f;
    cv::insertChannel(l100, lab, 0);
    cv::cvtColor(lab, bgr, cv::COLOR_Lab2BGR);
    bgr.convertTo(f, CV_32F);
    return f;
  };
  const cv::Mat moved = sot(chroma_bgr(src_lab.clone()), chroma_bgr(trg_lab.clone()), 10, 5, 16.f, 5.f, seed);

  cv::Mat lab;
  cv::cvtColor(to_u8_truncate(moved, 1.0), lab, cv::COLOR_BGR2Lab);
  cv::insertChannel(light, lab, 0);
  cv::Mat bgr, out;
  cv::cvtColor(lab, bgr, cv::COLOR_Lab2BGR);
  bgr.convertTo(out, CV_32F, 1.0 / 255.0);
  return out;
}

cv::Mat hist_match(const cv::Mat& image, const cv::Mat& reference, double threshold) {
  check_float("hist_match", image, reference, false);
  const int ch = image.channels();
  std::vector<cv::Mat> src, ref, out;
  cv::split(image, src);
  cv::split(reference, ref);
  out.resize(src.size());
  for (int c = 0; c < ch; ++c) {
    if (c >= 3) {
      out[c] = src[c].clone();
      continue;
    }
    const cv::Mat s = src[c].isContinuous() ? src[c] : src[c].clone();
    const cv::Mat t = ref[c].isContinuous() ? ref[c] : ref[c].clone();
    const float* ps = s.ptr<float>();
    const float* pt = t.ptr<float>();
    const size_t ns = s.total(), nt = t.total();

    // np.unique(source, return_inverse, return_counts) through a sorted index.
    std::vector<int> order(ns);
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(), [ps](int a, int b) { return ps[a] < ps[b]; });
    std::vector<float> t_sorted(pt, pt + nt);
    std::sort(t_sorted.begin(), t_sorted.end());
    std::vector<double> t_values, t_quant;
    for (size_t i = 0; i < nt; ++i) {
      if (i + 1 < nt && t_sorted[i + 1] == t_sorted[i]) continue;  // keep the last of a run: its cumulative count
      t_values.push_back(t_sorted[i]);
      t_quant.push_back(255.0 * static_cast<double>(i + 1) / static_cast<double>(nt));
    }
    cv::Mat o(s.size(), CV_32F);
    float* po = o.ptr<float>();
    size_t i = 0;
    while (i < ns) {
      size_t j = i;
      while (j + 1 < ns && ps[order[j + 1]] == ps[order[i]]) ++j;
      const double q = threshold * static_cast<double>(j + 1) / static_cast<double>(ns);
      const float v = static_cast<float>(np_interp(q, t_quant, t_values, t_values.front(), t_values.back()));
      for (size_t k = i; k <= j; ++k) po[order[k]] = v;
      i = j + 1;
    }
    out[c] = o;
  }
  cv::Mat merged;
  cv::merge(out, merged);
  return merged;
}

}  // namespace facet::merge
