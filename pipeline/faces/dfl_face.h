// DeepFaceLab's aligned face files (DFLIMG/DFLJPG.py) read as facet faces: a JPEG whose APP15
// segment holds `pickle.dumps(dict)` (python_pickle.h) with face_type, landmarks, source_filename,
// source_rect, source_landmarks, image_to_face_mat, eyebrows_expand_mod, seg_ie_polys and
// xseg_mask. Face sets of such files are read wherever facet reads a face set, and
// `facet faceset import-dfl` turns them into facet face files with an alignments file for merge.
// Format and mapping: docs/formats-faceset.md.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "pipeline/faces/alignments.h"
#include "pipeline/faces/face_image.h"

namespace facet::faces {

// The DFL dict mapped to facet's metadata, from a JPEG's bytes; nullopt when the JPEG carries no
// DFL APP15 segment (no foreign APP15, or one that is not a pickle). width/height come from the
// JPEG frame header; source_frame is -1 (DFL does not store it) and face_index is 0. Throws
// facet::Error naming `what` and the problem for a broken pickle or a dict that is not a face
// (missing or misshapen landmarks, unknown face type, DFL's "mark_only" faces that are not aligned).
std::optional<FaceMetadata> read_dfl_metadata(const std::vector<uint8_t>& jpeg, const std::string& what);

// The metadata from a DFL dict already unpickled (the part above after the pickle).
struct PyValue;
FaceMetadata dfl_metadata_from_dict(const PyValue& dict, int width, int height, const std::string& what);

// DFL names the frames it extracts (data_dst/00001.png, ...) and every face remembers its frame's
// file name. Given a face set and the destination frame folder's files in frame order (the order
// facet's image-folder reader numbers frames), sets each face's source_frame to its frame's index
// and face_index to its order within the frame (by face file name), and returns the alignments
// of the folder `source`. Faces whose source_filename is not among `frame_files` are left out and
// their file names appended to `unmatched`.
Alignments alignments_from_frame_files(FaceSet& set, const std::vector<std::string>& frame_files,
                                       const std::string& source, std::vector<std::string>* unmatched);

}  // namespace facet::faces
