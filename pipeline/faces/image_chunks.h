// Metadata carried inside image files, written and read at the byte level so that it does not
// depend on any codec library keeping unknown chunks. PNG: a private ancillary chunk "fcTm"
// inserted before IEND (ancillary + private + safe-to-copy, so viewers ignore it and editors may
// keep it), with its CRC. JPEG: APP15 segments (0xFFEF, where DeepFaceLab also keeps its data)
// whose payload starts with the signature "facet\0", a 1-based sequence number and a count, so a
// payload larger than one segment (64 KiB) spans several; they go after the leading APPn segments.
// Any chunk/segment of ours already present is replaced. The payload is opaque bytes here.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace facet::faces {

enum class ImageFormat { Unknown, Png, Jpeg };

ImageFormat sniff_image_format(const std::vector<uint8_t>& bytes);
// From a file name: ".png" -> Png, ".jpg"/".jpeg" -> Jpeg (case-insensitive), else Unknown.
ImageFormat image_format_from_extension(const std::string& path);

// The image bytes with `payload` stored in them. Throws facet::Error if the bytes are not a
// well-formed PNG or JPEG (the message names `what`, e.g. the file name).
std::vector<uint8_t> embed_image_metadata(const std::vector<uint8_t>& image, const std::string& payload,
                                          const std::string& what = "image");

// The stored payload, or nullopt when the image has none. Checks the container structure on the way
// (PNG: signature, chunk lengths, every CRC, IEND; JPEG: SOI, segment lengths, EOI at the end) and
// throws facet::Error naming `what` and the problem when it is broken, e.g. a truncated file.
std::optional<std::string> extract_image_metadata(const std::vector<uint8_t>& image,
                                                  const std::string& what = "image");

// The payload of the first JPEG APP15 segment that is not facet's (DeepFaceLab's DFLJPG keeps its
// pickled dict there, without a signature), or nullopt when there is none. Checks the container as
// extract_image_metadata does and throws facet::Error naming `what` when it is broken.
std::optional<std::string> extract_foreign_jpeg_app15(const std::vector<uint8_t>& jpeg, const std::string& what = "image");

// Width and height from a JPEG's SOFn segment; throws facet::Error naming `what` when there is none.
std::pair<int, int> jpeg_dimensions(const std::vector<uint8_t>& jpeg, const std::string& what = "image");

// CRC-32 as PNG uses it (ISO 3309 / zlib).
uint32_t png_crc32(const uint8_t* data, size_t n, uint32_t crc = 0);

}  // namespace facet::faces
