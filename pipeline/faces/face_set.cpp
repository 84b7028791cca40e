// Face set folder loading (see face_set.h).
#include "pipeline/faces/face_set.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include <opencv2/imgcodecs.hpp>

#include "engine/core/error.h"
#include "engine/io/read_file.h"
#include "pipeline/video/image_folder.h"

namespace facet::faces {

namespace fs = std::filesystem;

FaceSet load_face_set(const std::string& dir, const FaceSetOptions& opt) {
  FACET_CHECK(fs::exists(dir), dir, ": face set folder does not exist");
  FACET_CHECK(fs::is_directory(dir), dir, ": is not a folder (a face set is a folder of face images)");
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (name.empty() || name[0] == '.' || !e.is_regular_file()) continue;
    if (image_format_from_extension(name) != ImageFormat::Unknown) names.push_back(name);
  }
  std::sort(names.begin(), names.end(), video::natural_less);

  FaceSet set;
  set.dir = dir;
  for (const std::string& name : names) {
    const std::string path = (fs::path(dir) / name).string();
    try {
      const std::vector<uint8_t> bytes = read_file_bytes(path);
      std::optional<FaceMetadata> meta = face_metadata_from_image(bytes, name);
      if (!meta) {
        set.skipped.push_back({name, "no facet or DeepFaceLab face metadata (not an extracted face?)"});
        continue;
      }
      FaceSetEntry entry{path, name, std::move(*meta)};
      if (opt.decode_pixels) {
        const cv::Mat img = cv::imdecode(bytes, cv::IMREAD_UNCHANGED);
        FACET_CHECK(!img.empty(), name, ": image data cannot be decoded (corrupt)");
      }
      set.faces.push_back(std::move(entry));
    } catch (const Error& e) {
      set.skipped.push_back({name, e.what()});
    } catch (const cv::Exception& e) {
      set.skipped.push_back({name, std::string("OpenCV: ") + e.what()});
    }
  }
  return set;
}

std::string face_image_name(const std::string& source_filename, int64_t frame, int face_index, const std::string& ext) {
  const std::string stem = fs::path(source_filename).stem().string();
  char num[32];
  if (frame >= 0) {
    std::snprintf(num, sizeof num, "%06lld", static_cast<long long>(frame));
  } else {
    std::snprintf(num, sizeof num, "unknown");
  }
  return (stem.empty() ? std::string("face") : stem) + "_" + num + "_" + std::to_string(face_index) + "." + ext;
}

}  // namespace facet::faces
