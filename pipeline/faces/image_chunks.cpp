// PNG chunk / JPEG APP15 metadata splicing (see image_chunks.h). PNG layout: 8-byte signature,
// then chunks of [length u32 BE][type 4][data][crc u32 BE over type+data], IHDR first, IEND last.
// JPEG layout: SOI (FFD8), marker segments [FF xx][length u16 BE incl. itself][data] up to SOS
// (FFDA), entropy-coded data, EOI (FFD9).
#include "pipeline/faces/image_chunks.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstring>
#include <map>

#include "engine/core/error.h"

namespace facet::faces {

namespace {

constexpr uint8_t kPngSig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
constexpr char kPngType[5] = "fcTm";
constexpr char kJpegSig[6] = {'f', 'a', 'c', 'e', 't', '\0'};
constexpr size_t kJpegMaxChunk = 65535 - 2 - sizeof(kJpegSig) - 2;

uint32_t be32(const uint8_t* p) { return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3]; }
void put_be32(std::vector<uint8_t>& v, uint32_t x) {
  for (int s = 24; s >= 0; s -= 8) v.push_back(uint8_t(x >> s));
}

struct PngChunk {
  size_t offset;  // of the length field
  size_t length;  // data length
  std::string type;
  size_t total() const { return 12 + length; }
};

// Walks and verifies every chunk; throws on any structural problem.
std::vector<PngChunk> png_chunks(const std::vector<uint8_t>& b, const std::string& what) {
  FACET_CHECK(b.size() >= 8 && std::memcmp(b.data(), kPngSig, 8) == 0, what, ": not a PNG file (bad signature)");
  std::vector<PngChunk> out;
  size_t pos = 8;
  while (true) {
    FACET_CHECK(pos + 12 <= b.size(), what, ": PNG is truncated (chunk header at byte ", pos, " runs past the end, ",
                "no IEND)");
    const size_t len = be32(&b[pos]);
    FACET_CHECK(len <= 0x7FFFFFFFu && pos + 12 + len <= b.size(), what, ": PNG is truncated (chunk at byte ", pos,
                " of length ", len, " runs past the end of the ", b.size(), "-byte file)");
    PngChunk c{pos, len, std::string(reinterpret_cast<const char*>(&b[pos + 4]), 4)};
    const uint32_t crc = png_crc32(&b[pos + 4], 4 + len);
    FACET_CHECK(crc == be32(&b[pos + 8 + len]), what, ": PNG chunk '", c.type, "' at byte ", pos, " has a bad CRC (corrupt)");
    FACET_CHECK(!out.empty() || c.type == "IHDR", what, ": PNG does not start with IHDR (corrupt)");
    out.push_back(c);
    pos += c.total();
    if (c.type == "IEND") break;
  }
  return out;
}

std::vector<uint8_t> png_embed(const std::vector<uint8_t>& b, const std::string& payload, const std::string& what) {
  const auto chunks = png_chunks(b, what);
  std::vector<uint8_t> out(b.begin(), b.begin() + 8);
  for (const PngChunk& c : chunks) {
    if (c.type == kPngType) continue;  // replaced
    if (c.type == "IEND") {
      const size_t start = out.size();
      put_be32(out, uint32_t(payload.size()));
      out.insert(out.end(), kPngType, kPngType + 4);
      out.insert(out.end(), payload.begin(), payload.end());
      put_be32(out, png_crc32(&out[start + 4], 4 + payload.size()));
    }
    out.insert(out.end(), b.begin() + c.offset, b.begin() + c.offset + c.total());
  }
  return out;
}

std::optional<std::string> png_extract(const std::vector<uint8_t>& b, const std::string& what) {
  for (const PngChunk& c : png_chunks(b, what))
    if (c.type == kPngType) return std::string(reinterpret_cast<const char*>(&b[c.offset + 8]), c.length);
  return std::nullopt;
}

struct JpegSegment {
  size_t offset;  // of the FF marker byte
  uint8_t marker;
  size_t length;  // the length field (includes its own 2 bytes); 0 for standalone markers
  size_t total() const { return 2 + length; }
};

bool ours(const std::vector<uint8_t>& b, const JpegSegment& s) {
  return s.marker == 0xEF && s.length >= 2 + sizeof(kJpegSig) + 2 &&
         std::memcmp(&b[s.offset + 4], kJpegSig, sizeof(kJpegSig)) == 0;
}

// Segments from SOI up to and including SOS; verifies that an EOI ends the file.
std::vector<JpegSegment> jpeg_segments(const std::vector<uint8_t>& b, const std::string& what) {
  FACET_CHECK(b.size() >= 4 && b[0] == 0xFF && b[1] == 0xD8, what, ": not a JPEG file (no SOI marker)");
  std::vector<JpegSegment> out;
  size_t pos = 2;
  while (true) {
    FACET_CHECK(pos + 2 <= b.size(), what, ": JPEG is truncated (headers end at byte ", pos, ")");
    FACET_CHECK(b[pos] == 0xFF, what, ": JPEG is corrupt (expected a marker at byte ", pos, ")");
    const uint8_t m = b[pos + 1];
    if (m == 0xFF) {  // fill byte
      ++pos;
      continue;
    }
    if (m == 0x01 || (m >= 0xD0 && m <= 0xD7)) {
      out.push_back({pos, m, 0});
      pos += 2;
      continue;
    }
    FACET_CHECK(m != 0xD9, what, ": JPEG ends (EOI) before any image data");
    FACET_CHECK(pos + 4 <= b.size(), what, ": JPEG is truncated (segment header at byte ", pos, ")");
    const size_t len = size_t(b[pos + 2]) << 8 | b[pos + 3];
    FACET_CHECK(len >= 2 && pos + 2 + len <= b.size(), what, ": JPEG is truncated (segment 0xFF",
                std::hex, int(m), std::dec, " at byte ", pos, " runs past the end)");
    out.push_back({pos, m, len});
    pos += 2 + len;
    if (m == 0xDA) break;  // SOS: entropy-coded data follows
  }
  // The scan data runs to EOI; a truncated file has none. Allow a little trailing padding.
  const size_t min_end = std::max(pos, b.size() > 64 ? b.size() - 64 : size_t(0));
  size_t end = b.size();
  while (end > min_end && b[end - 1] != 0xD9) --end;
  FACET_CHECK(end >= pos + 2 && b[end - 1] == 0xD9 && b[end - 2] == 0xFF, what,
              ": JPEG is truncated (no EOI marker at the end of the file)");
  return out;
}

std::vector<uint8_t> jpeg_embed(const std::vector<uint8_t>& b, const std::string& payload, const std::string& what) {
  const auto segs = jpeg_segments(b, what);
  const size_t n_chunks = std::max<size_t>(1, (payload.size() + kJpegMaxChunk - 1) / kJpegMaxChunk);
  FACET_CHECK(n_chunks <= 255, what, ": metadata of ", payload.size(), " bytes is too large for JPEG APP15 segments");
  // Insert after the leading run of APPn (E0..EF) segments, like DFL.
  size_t insert_at = 2;
  for (const JpegSegment& s : segs) {
    if (s.marker < 0xE0 || s.marker > 0xEF) break;
    insert_at = s.offset + s.total();
  }
  std::vector<uint8_t> out;
  out.reserve(b.size() + payload.size() + 16 * n_chunks);
  auto copy_skipping_ours = [&](size_t from, size_t to) {
    for (const JpegSegment& s : segs) {
      if (!ours(b, s) || s.offset < from || s.offset >= to) continue;
      out.insert(out.end(), b.begin() + from, b.begin() + s.offset);
      from = s.offset + s.total();
    }
    out.insert(out.end(), b.begin() + from, b.begin() + to);
  };
  copy_skipping_ours(0, insert_at);
  for (size_t i = 0; i < n_chunks; ++i) {
    const size_t off = i * kJpegMaxChunk, n = std::min(kJpegMaxChunk, payload.size() - std::min(off, payload.size()));
    const size_t len = 2 + sizeof(kJpegSig) + 2 + n;
    out.insert(out.end(), {0xFF, 0xEF, uint8_t(len >> 8), uint8_t(len & 0xFF)});
    out.insert(out.end(), kJpegSig, kJpegSig + sizeof(kJpegSig));
    out.push_back(uint8_t(i + 1));
    out.push_back(uint8_t(n_chunks));
    out.insert(out.end(), payload.begin() + off, payload.begin() + off + n);
  }
  copy_skipping_ours(insert_at, b.size());
  return out;
}

std::optional<std::string> jpeg_extract(const std::vector<uint8_t>& b, const std::string& what) {
  std::map<int, std::string> parts;
  int count = 0;
  for (const JpegSegment& s : jpeg_segments(b, what)) {
    if (!ours(b, s)) continue;
    const size_t head = s.offset + 4 + sizeof(kJpegSig);
    const int seq = b[head], n = b[head + 1];
    FACET_CHECK(seq >= 1 && n >= 1 && seq <= n && (count == 0 || count == n) && !parts.count(seq), what,
                ": facet APP15 metadata segments are inconsistent (corrupt)");
    count = n;
    parts[seq] = std::string(reinterpret_cast<const char*>(&b[head + 2]), s.offset + s.total() - head - 2);
  }
  if (parts.empty()) return std::nullopt;
  FACET_CHECK(int(parts.size()) == count, what, ": facet metadata has ", parts.size(), " of ", count,
              " APP15 segments (corrupt)");
  std::string out;
  for (auto& [seq, p] : parts) out += p;
  return out;
}

}  // namespace

uint32_t png_crc32(const uint8_t* data, size_t n, uint32_t crc) {
  static const std::array<uint32_t, 256> table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  crc = ~crc;
  for (size_t i = 0; i < n; ++i) crc = table[(crc ^ data[i]) & 0xFF] ^ (crc >> 8);
  return ~crc;
}

std::optional<std::string> extract_foreign_jpeg_app15(const std::vector<uint8_t>& b, const std::string& what) {
  for (const JpegSegment& s : jpeg_segments(b, what))
    if (s.marker == 0xEF && !ours(b, s))
      return std::string(reinterpret_cast<const char*>(&b[s.offset + 4]), s.length - 2);
  return std::nullopt;
}

std::pair<int, int> jpeg_dimensions(const std::vector<uint8_t>& b, const std::string& what) {
  for (const JpegSegment& s : jpeg_segments(b, what)) {
    const bool sof = s.marker >= 0xC0 && s.marker <= 0xCF && s.marker != 0xC4 && s.marker != 0xC8 && s.marker != 0xCC;
    if (!sof) continue;
    FACET_CHECK(s.length >= 8, what, ": JPEG frame header (SOF) is too short (corrupt)");
    const uint8_t* p = &b[s.offset + 4];  // precision, height u16, width u16
    return {int(p[3]) << 8 | p[4], int(p[1]) << 8 | p[2]};
  }
  throw Error(what + ": JPEG has no frame header (SOF) before its image data (corrupt)");
}

ImageFormat sniff_image_format(const std::vector<uint8_t>& b) {
  if (b.size() >= 8 && std::memcmp(b.data(), kPngSig, 8) == 0) return ImageFormat::Png;
  if (b.size() >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF) return ImageFormat::Jpeg;
  return ImageFormat::Unknown;
}

ImageFormat image_format_from_extension(const std::string& path) {
  const size_t dot = path.find_last_of('.');
  if (dot == std::string::npos) return ImageFormat::Unknown;
  std::string ext = path.substr(dot + 1);
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  if (ext == "png") return ImageFormat::Png;
  if (ext == "jpg" || ext == "jpeg") return ImageFormat::Jpeg;
  return ImageFormat::Unknown;
}

std::vector<uint8_t> embed_image_metadata(const std::vector<uint8_t>& image, const std::string& payload,
                                          const std::string& what) {
  switch (sniff_image_format(image)) {
    case ImageFormat::Png: return png_embed(image, payload, what);
    case ImageFormat::Jpeg: return jpeg_embed(image, payload, what);
    default: throw Error(what + ": not a PNG or JPEG image");
  }
}

std::optional<std::string> extract_image_metadata(const std::vector<uint8_t>& image, const std::string& what) {
  switch (sniff_image_format(image)) {
    case ImageFormat::Png: return png_extract(image, what);
    case ImageFormat::Jpeg: return jpeg_extract(image, what);
    default: throw Error(what + ": not a PNG or JPEG image (unrecognised or empty file)");
  }
}

}  // namespace facet::faces
