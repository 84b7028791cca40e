// `facet faceset import-dfl`: turns a DeepFaceLab aligned folder (DFLJPG faces, dfl_face.h) into a
// facet face set. Each face keeps its JPEG bytes untouched (DFL's own APP15 segment included)
// and gains facet's metadata (DFL's loader unpickles every APP15 segment, so DFL itself does not
// read the copies; the originals are left as they were); with the destination's frame folder given,
// every face is matched to its frame by DFL's source_filename and an alignments file for
// `facet merge` is written beside the faces. Training reads DFL folders directly; the import is
// for merge, and for keeping a face set that facet's tools (sort, dedupe) then maintain.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "pipeline/faces/face_set.h"

namespace facet::tools {

struct ImportDflOptions {
  std::string src_dir;     // DFL aligned folder (e.g. data_dst/aligned)
  std::string dst_dir;     // facet face set to write (created; existing faces of the same name replaced)
  std::string frames_dir;  // optional: the frames the faces were extracted from (e.g. data_dst)
};

struct ImportDflResult {
  int64_t imported = 0;
  int64_t with_xseg_mask = 0, with_polygons = 0;
  std::vector<faces::SkippedFile> skipped;  // unreadable, corrupt, or not a face: named with the reason
  std::vector<std::string> unmatched;       // faces whose source frame is not in frames_dir
  std::string alignments_path;              // written when frames_dir is given
};

// Throws facet::Error naming the folder when src is missing, dst is src, or dst cannot be written.
// Broken files do not stop the import: they are listed in `skipped`.
ImportDflResult import_dfl_face_set(const ImportDflOptions& opt);

}  // namespace facet::tools
