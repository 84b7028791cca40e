// DeepFaceLab face set import (see faceset_import_dfl.h).
#include "pipeline/tools/faceset_import_dfl.h"

#include <filesystem>

#include "engine/core/error.h"
#include "engine/io/atomic_file.h"
#include "engine/io/read_file.h"
#include "pipeline/faces/alignments.h"
#include "pipeline/faces/dfl_face.h"
#include "pipeline/faces/image_chunks.h"
#include "pipeline/video/image_folder.h"

namespace facet::tools {

namespace fs = std::filesystem;

namespace {

std::string folder_name(const std::string& dir) {
  fs::path p = fs::path(dir).lexically_normal();
  if (p.filename().empty()) p = p.parent_path();
  return p.filename().string();
}

}  // namespace

ImportDflResult import_dfl_face_set(const ImportDflOptions& opt) {
  std::error_code ec;
  FACET_CHECK(fs::is_directory(opt.src_dir, ec), opt.src_dir, ": DeepFaceLab face folder does not exist or is not a folder");
  FACET_CHECK(!opt.dst_dir.empty(), "import-dfl: no destination folder given");
  FACET_CHECK(!(fs::exists(opt.dst_dir, ec) && fs::equivalent(opt.src_dir, opt.dst_dir, ec)), opt.dst_dir,
              ": the destination is the source folder; import into another folder");
  faces::FaceSet set = faces::load_face_set(opt.src_dir);
  ImportDflResult r;
  r.skipped = set.skipped;

  faces::Alignments al;
  if (!opt.frames_dir.empty()) {
    const std::vector<std::string> frames = video::list_image_files(opt.frames_dir);
    FACET_CHECK(!frames.empty(), opt.frames_dir, ": has no frame images (png, jpg, ...)");
    al = faces::alignments_from_frame_files(set, frames, folder_name(opt.frames_dir), &r.unmatched);
  }

  fs::create_directories(opt.dst_dir, ec);
  FACET_CHECK(fs::is_directory(opt.dst_dir, ec), opt.dst_dir, ": cannot create the folder");
  for (const faces::FaceSetEntry& e : set.faces) {
    const std::vector<uint8_t> bytes = read_file_bytes(e.path);
    const std::vector<uint8_t> out = faces::embed_image_metadata(bytes, faces::face_metadata_to_json(e.meta), e.path);
    write_string_atomically((fs::path(opt.dst_dir) / e.filename).string(),
                            std::string(reinterpret_cast<const char*>(out.data()), out.size()));
    ++r.imported;
    r.with_xseg_mask += !e.meta.xseg_mask.empty();
    r.with_polygons += !e.meta.seg_polygons.empty();
  }
  if (!opt.frames_dir.empty()) {
    r.alignments_path = (fs::path(opt.dst_dir) / (fs::path(al.source).stem().string() + ".alignments.json")).string();
    faces::save_alignments(r.alignments_path, al);
  }
  return r;
}

}  // namespace facet::tools
