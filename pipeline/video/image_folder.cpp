// Image-folder frame source, the frame selector and open_frame_source (see frame_source.h).
#include "pipeline/video/image_folder.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>

#include <opencv2/imgcodecs.hpp>

#include "engine/core/error.h"
#include "pipeline/video/video_reader.h"

namespace facet::video {

namespace fs = std::filesystem;

bool natural_less(const std::string& a, const std::string& b) {
  size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    const bool da = std::isdigit(static_cast<unsigned char>(a[i])), db = std::isdigit(static_cast<unsigned char>(b[j]));
    if (da && db) {
      size_t ie = i, je = j;
      while (ie < a.size() && std::isdigit(static_cast<unsigned char>(a[ie]))) ++ie;
      while (je < b.size() && std::isdigit(static_cast<unsigned char>(b[je]))) ++je;
      // Compare by value: strip leading zeros, then length, then digits.
      size_t is = i, js = j;
      while (is + 1 < ie && a[is] == '0') ++is;
      while (js + 1 < je && b[js] == '0') ++js;
      if (ie - is != je - js) return ie - is < je - js;
      const int c = a.compare(is, ie - is, b, js, je - js);
      if (c != 0) return c < 0;
      if (ie - i != je - j) return ie - i < je - j;  // "01" after "1" so the order is total
      i = ie, j = je;
    } else {
      if (a[i] != b[j]) return static_cast<unsigned char>(a[i]) < static_cast<unsigned char>(b[j]);
      ++i, ++j;
    }
  }
  return a.size() - i < b.size() - j;
}

static bool is_image_name(const std::string& name) {
  const size_t dot = name.find_last_of('.');
  if (dot == std::string::npos) return false;
  std::string ext = name.substr(dot + 1);
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  for (const char* e : {"png", "jpg", "jpeg", "bmp", "tif", "tiff", "webp"})
    if (ext == e) return true;
  return false;
}

std::vector<std::string> list_image_files(const std::string& dir) {
  FACET_CHECK(fs::is_directory(dir), dir, ": not a folder");
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (!name.empty() && name[0] != '.' && e.is_regular_file() && is_image_name(name)) names.push_back(name);
  }
  std::sort(names.begin(), names.end(), natural_less);
  return names;
}

FrameSelector::FrameSelector(const FrameSelection& s) : s_(s) {
  FACET_CHECK(s.every_nth >= 1, "frame selection: every_nth must be >= 1, got ", s.every_nth);
  FACET_CHECK(s.first_frame >= 0, "frame selection: first frame must be >= 0, got ", s.first_frame);
  FACET_CHECK(s.end_frame < 0 || s.end_frame > s.first_frame, "frame selection: frame range [", s.first_frame, ", ",
              s.end_frame, ") is empty");
  FACET_CHECK(s.start_time >= 0, "frame selection: start time must be >= 0, got ", s.start_time);
  FACET_CHECK(s.end_time < 0 || s.end_time > s.start_time, "frame selection: time range [", s.start_time, ", ",
              s.end_time, ") s is empty");
}

bool FrameSelector::accept(int64_t index, double time) {
  // A tiny tolerance so that a frame whose time is 1.9999999 s is treated as 2.0 s.
  constexpr double eps = 1e-6;
  if (index < s_.first_frame || (s_.end_frame >= 0 && index >= s_.end_frame)) return false;
  if (time < s_.start_time - eps || (s_.end_time >= 0 && time >= s_.end_time - eps)) return false;
  if (anchor_ < 0) anchor_ = index;
  return (index - anchor_) % s_.every_nth == 0;
}

bool FrameSelector::done(int64_t index, double time) const {
  return (s_.end_frame >= 0 && index >= s_.end_frame) || (s_.end_time >= 0 && time >= s_.end_time - 1e-6);
}

ImageFolderReader::ImageFolderReader(const std::string& dir, const SourceOptions& opt)
    : dir_(dir), selector_(opt.select) {
  FACET_CHECK(fs::exists(dir), dir, ": no such folder");
  files_ = list_image_files(dir);
  FACET_CHECK(!files_.empty(), dir, ": folder has no images (png, jpg, jpeg, bmp, tif, tiff, webp)");
  FACET_CHECK(opt.folder_fps.valid(), dir, ": frame rate for an image folder must be positive");
  const std::string first = (fs::path(dir) / files_[0]).string();
  const cv::Mat img = cv::imread(first, cv::IMREAD_COLOR);
  FACET_CHECK(!img.empty(), first, ": cannot decode the first image of the folder");
  info_.path = dir;
  info_.fps = opt.folder_fps;
  info_.time_base = {opt.folder_fps.den, opt.folder_fps.num};
  info_.frame_count = int64_t(files_.size());
  info_.duration = double(files_.size()) / opt.folder_fps.value();
  info_.width = info_.coded_width = img.cols;
  info_.height = info_.coded_height = img.rows;
  info_.codec = "image";
}

bool ImageFolderReader::next(Frame& out) {
  while (pos_ < files_.size()) {
    const int64_t index = int64_t(pos_);
    const double time = double(index) / info_.fps.value();
    const std::string name = files_[pos_++];
    if (selector_.done(index, time)) {
      pos_ = files_.size();
      return false;
    }
    if (!selector_.accept(index, time)) continue;
    const std::string path = (fs::path(dir_) / name).string();
    cv::Mat img = cv::imread(path, cv::IMREAD_COLOR);
    if (img.empty()) {
      warnings_.push_back(path + ": cannot decode image, skipped");
      continue;
    }
    out.image = img;
    out.index = index;
    out.pts = index;
    out.time = time;
    return true;
  }
  return false;
}

std::unique_ptr<FrameSource> open_frame_source(const std::string& path, const SourceOptions& opt) {
  if (fs::is_directory(path)) return std::make_unique<ImageFolderReader>(path, opt);
  return std::make_unique<VideoReader>(path, opt);
}

}  // namespace facet::video
