// Merge outputs: resumable PNG frame folders and all-or-nothing video files (see merge_output.h).
#include "pipeline/merge/merge_output.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <system_error>
#include <vector>

#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>

#include "engine/core/error.h"
#include "engine/io/atomic_file.h"
#include "engine/io/read_file.h"

namespace facet::merge {

namespace fs = std::filesystem;

namespace {

constexpr const char* kManifest = "facet_merge.json";

std::string lower(std::string s) {
  for (char& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool is_frame_file(const std::string& name) {
  if (name.size() < 10 || lower(name.substr(name.size() - 4)) != ".png") return false;
  return std::all_of(name.begin(), name.end() - 4, [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
}

bool is_temp_file(const std::string& name) { return name.find(".png.tmp") != std::string::npos; }

// A PNG ends with the IEND chunk: length 0, "IEND", CRC AE 42 60 82.
bool png_complete(const std::string& path) {
  static const unsigned char kIend[12] = {0, 0, 0, 0, 'I', 'E', 'N', 'D', 0xAE, 0x42, 0x60, 0x82};
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return false;
  unsigned char tail[12];
  const bool ok = std::fseek(f, -12, SEEK_END) == 0 && std::fread(tail, 1, 12, f) == 12 &&
                  std::memcmp(tail, kIend, 12) == 0;
  std::fclose(f);
  return ok;
}

class PngSink final : public FrameSink {
 public:
  PngSink(const std::string& dir, const std::string& manifest, bool force) : dir_(dir) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    FACET_CHECK(!ec && fs::is_directory(dir), "cannot create the output folder ", dir, ": ",
                ec ? ec.message() : "a file of that name exists");
    const std::string mpath = (fs::path(dir) / kManifest).string();
    std::vector<std::string> frames, temps;
    for (const auto& e : fs::directory_iterator(dir)) {
      const std::string name = e.path().filename().string();
      if (is_frame_file(name)) frames.push_back(name);
      else if (is_temp_file(name)) temps.push_back(name);
    }
    for (const std::string& t : temps) fs::remove(fs::path(dir) / t, ec);  // torn writes of a killed run
    const bool have_manifest = fs::exists(mpath);
    bool same = false;
    if (have_manifest) {
      try {
        same = nlohmann::json::parse(read_text_file(mpath)) == nlohmann::json::parse(manifest);
      } catch (const std::exception&) {
        same = false;
      }
    }
    if (!same && (have_manifest || !frames.empty())) {
      if (!force)
        throw Error(dir + " already holds " + std::to_string(frames.size()) + " merged frames " +
                    (have_manifest ? "of a merge with another input, model or settings (see " + mpath + ")"
                                   : "without a facet_merge.json manifest") +
                    ": use --force to delete them and start over, or another output folder");
      for (const std::string& f : frames) fs::remove(fs::path(dir) / f, ec);
      fs::remove(mpath, ec);
    }
    write_string_atomically(mpath, manifest);
  }

  bool done(int64_t index) const override {
    return png_complete((fs::path(dir_) / merged_frame_name(index)).string());
  }

  void write(int64_t index, int64_t, const cv::Mat& image) override {
    std::vector<uint8_t> png;
    FACET_CHECK(cv::imencode(".png", image, png, {cv::IMWRITE_PNG_COMPRESSION, 1}), "PNG encoding of frame ", index,
                " failed");
    const std::string path = (fs::path(dir_) / merged_frame_name(index)).string();
    const std::string tmp = path + ".tmp";
    std::FILE* f = std::fopen(tmp.c_str(), "wb");
    FACET_CHECK(f, "cannot write ", tmp, ": ", std::strerror(errno));
    const bool ok = std::fwrite(png.data(), 1, png.size(), f) == png.size();
    const int err = errno;
    const bool closed = std::fclose(f) == 0;
    if (!ok || !closed) {
      std::remove(tmp.c_str());
      throw Error("writing " + tmp + " failed: " + std::strerror(err));
    }
    // The rename makes the frame appear complete or not at all (no fsync: this guards against an
    // interrupted process, which is what resume is for).
    if (std::rename(tmp.c_str(), path.c_str()) != 0) {
      const int e = errno;
      std::remove(tmp.c_str());
      throw Error("cannot rename " + tmp + " to " + path + ": " + std::strerror(e));
    }
  }

  void finish() override {}
  void abandon() override {}
  const std::string& path() const override { return dir_; }

 private:
  std::string dir_;
};

class VideoSink final : public FrameSink {
 public:
  VideoSink(const std::string& path, int w, int h, const video::VideoWriterOptions& opt)
      : path_(path), partial_(partial_video_path(path)) {
    std::error_code ec;
    fs::remove(partial_, ec);
    writer_ = std::make_unique<video::VideoWriter>(partial_, w, h, opt);
  }
  ~VideoSink() override {
    if (writer_) abandon();
  }
  bool done(int64_t) const override { return false; }
  void write(int64_t, int64_t pts, const cv::Mat& image) override { writer_->write(image, pts); }
  void finish() override {
    writer_->finish();
    warnings_ = writer_->warnings();
    writer_.reset();
    std::error_code ec;
    fs::rename(partial_, path_, ec);
    FACET_CHECK(!ec, "cannot rename ", partial_, " to ", path_, ": ", ec.message());
  }
  void abandon() override {
    try {
      writer_.reset();
    } catch (...) {
    }
    std::error_code ec;
    fs::remove(partial_, ec);
  }
  const std::string& path() const override { return path_; }
  std::vector<std::string> warnings() const override { return warnings_; }

 private:
  std::string path_, partial_;
  std::unique_ptr<video::VideoWriter> writer_;
  std::vector<std::string> warnings_;
};

}  // namespace

bool is_video_path(const std::string& path) {
  const std::string ext = lower(fs::path(path).extension().string());
  for (const char* v : {".mp4", ".mkv", ".mov", ".avi", ".webm", ".m4v"})
    if (ext == v) return true;
  return false;
}

std::string merged_frame_name(int64_t index) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%06lld.png", static_cast<long long>(index));
  return buf;
}

std::string partial_video_path(const std::string& path) {
  const fs::path p(path);
  return (p.parent_path() / (p.stem().string() + ".partial" + p.extension().string())).string();
}

void check_output_writable(const std::string& path, bool video) {
  FACET_CHECK(!path.empty(), "no output given");
  std::error_code ec;
  if (video) {
    fs::path parent = fs::path(path).parent_path();
    if (parent.empty()) parent = ".";
    FACET_CHECK(fs::is_directory(parent, ec), "cannot write the output video ", path, ": its folder ",
                parent.string(), fs::exists(parent, ec) ? " is not a folder" : " does not exist");
    FACET_CHECK(::access(parent.c_str(), W_OK) == 0, "cannot write the output video ", path, ": folder ",
                parent.string(), " is not writable (", std::strerror(errno), ")");
    FACET_CHECK(!fs::is_directory(path, ec), "cannot write the output video ", path, ": it is a folder");
    return;
  }
  fs::create_directories(path, ec);
  FACET_CHECK(!ec && fs::is_directory(path), "cannot create the output folder ", path, ": ",
              ec ? ec.message() : "a file of that name exists");
  FACET_CHECK(::access(path.c_str(), W_OK) == 0, "cannot write into the output folder ", path, " (",
              std::strerror(errno), ")");
}

std::unique_ptr<FrameSink> open_png_sink(const std::string& dir, const std::string& manifest, bool force) {
  return std::make_unique<PngSink>(dir, manifest, force);
}

std::unique_ptr<FrameSink> open_video_sink(const std::string& path, int width, int height,
                                           const video::VideoWriterOptions& opt) {
  return std::make_unique<VideoSink>(path, width, height, opt);
}

}  // namespace facet::merge
