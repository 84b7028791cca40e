// A folder of frame images (png, jpg, jpeg, bmp, tif, tiff, webp) read as a video: files in natural
// name order ("f2" before "f10"; zero-padded names sort the same either way), frame i at
// time i / fps. An image that cannot be decoded is skipped with a warning naming it; its index is
// still used up so indices keep matching file positions.
#pragma once
#include <string>
#include <vector>

#include "pipeline/video/frame_source.h"

namespace facet::video {

// Natural order: runs of digits compare by value, everything else byte-wise.
bool natural_less(const std::string& a, const std::string& b);

// The image files of a folder in natural order (names only). Throws facet::Error if `dir` is not a folder.
std::vector<std::string> list_image_files(const std::string& dir);

class ImageFolderReader : public FrameSource {
 public:
  // Throws facet::Error when the folder is missing, has no images, or its first image is unreadable.
  explicit ImageFolderReader(const std::string& dir, const SourceOptions& opt = {});
  const VideoInfo& info() const override { return info_; }
  bool next(Frame& out) override;
  const std::vector<std::string>& warnings() const override { return warnings_; }
  bool truncated() const override { return false; }
  const std::vector<std::string>& files() const { return files_; }

 private:
  std::string dir_;
  std::vector<std::string> files_;
  VideoInfo info_;
  FrameSelector selector_;
  size_t pos_ = 0;
  std::vector<std::string> warnings_;
};

}  // namespace facet::video
