// `facet faceset`: inspect and tidy a face set folder (pipeline/tools/faceset_*.h; docs/cli.md).
// info: counts, face types, sizes, sources and skipped files; sort: DeepFaceLab's sorter orders
// (blur, yaw, pitch, hist, face-size), printed or applied as a numeric name prefix; dedupe:
// near-duplicate faces, listed or moved to <dir>/_removed. Nothing is changed without --apply.
// import-dfl: a DeepFaceLab aligned folder to a facet face set (+ alignments file for merge).
#include <cstdio>
#include <memory>

#include "bin/commands.h"
#include "pipeline/tools/faceset_dedupe.h"
#include "pipeline/tools/faceset_import_dfl.h"
#include "pipeline/tools/faceset_info.h"
#include "pipeline/tools/faceset_sort.h"

namespace facet::cli {

namespace {

struct FacesetArgs {
  std::string info_dir, sort_dir, dedupe_dir, by = "blur";
  bool check = false, all = false, json = false, sort_apply = false, reverse = false, dedupe_apply = false;
  double threshold = tools::kDefaultDedupeThreshold;
  tools::ImportDflOptions import;
  CLI::App *info = nullptr, *sort = nullptr, *dedupe = nullptr, *import_dfl = nullptr;
};

void print_skipped(Console& console, const std::vector<faces::SkippedFile>& skipped) {
  if (skipped.empty()) return;
  console.warn(std::to_string(skipped.size()) + " files skipped:");
  for (const auto& s : skipped) console.info("  " + s.filename + ": " + s.reason);
}

}  // namespace

Action add_faceset(CLI::App& app, Console& console) {
  auto a = std::make_shared<FacesetArgs>();
  CLI::App* fs = app.add_subcommand("faceset", "Face set tools: info, sort (like DeepFaceLab's sorter), dedupe, import-dfl");
  fs->require_subcommand(1);

  a->info = fs->add_subcommand("info", "Faces, face types, sizes, sources and skipped files of a face set");
  a->info->add_option("dir", a->info_dir, "Face set folder")->required();
  a->info->add_flag("--check", a->check, "Also decode every image to find damaged ones (slower)");
  a->info->add_flag("--all", a->all, "List every skipped file (default: the first 20)");
  a->info->add_flag("--json", a->json, "Print JSON");

  a->sort = fs->add_subcommand("sort", "Order a face set; print the order, or rename the files with --apply");
  a->sort->add_option("dir", a->sort_dir, "Face set folder")->required();
  a->sort->add_option("--by", a->by,
                      "blur: sharpest first; yaw, pitch: head pose, largest first; hist: similar colours together; "
                      "face-size: largest detector box first")
      ->capture_default_str()
      ->check(CLI::IsMember({"blur", "yaw", "pitch", "hist", "face-size"}));
  a->sort->add_flag("--reverse", a->reverse, "Reverse the order");
  a->sort->add_flag("--apply", a->sort_apply,
                    "Rename the files with a numeric prefix in this order (metadata and alignments kept)");

  a->dedupe = fs->add_subcommand("dedupe", "Find near-duplicate faces; list them, or move them to DIR/_removed");
  a->dedupe->add_option("dir", a->dedupe_dir, "Face set folder")->required();
  a->dedupe->add_option("--threshold", a->threshold,
                        "Largest mean absolute difference of 32x32 thumbnails (0..1) that counts as a duplicate")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 0.999));
  a->dedupe->add_flag("--apply", a->dedupe_apply, "Move the duplicates to DIR/_removed (nothing is deleted)");

  a->import_dfl = fs->add_subcommand(
      "import-dfl", "Copy a DeepFaceLab aligned folder into a facet face set (JPEGs kept byte for byte, facet "
                    "metadata added); with --frames, also write the alignments file facet merge needs");
  a->import_dfl->add_option("src", a->import.src_dir, "DeepFaceLab aligned folder, e.g. data_dst/aligned")->required();
  a->import_dfl->add_option("dst", a->import.dst_dir, "facet face set folder to write")->required();
  a->import_dfl->add_option("--frames", a->import.frames_dir,
                            "The frame folder the faces were extracted from (e.g. data_dst): faces are matched to "
                            "frames by DFL's source_filename and DST/<folder>.alignments.json is written");

  return [a, &console]() {
    char line[1024];
    if (a->info->parsed()) {
      const tools::FaceSetSummary s = tools::summarize_face_set(a->info_dir, a->check);
      console.result(a->json ? tools::face_set_summary_json(s) : tools::format_face_set_summary(s, a->all ? -1 : 20));
      return 0;
    }
    if (a->sort->parsed()) {
      const tools::SortKey key = tools::parse_sort_key(a->by);
      const auto bar = console.progress("faceset sort", 0, "faces");
      const tools::SortResult r = tools::sort_face_set(a->sort_dir, key, a->reverse, [&](int64_t done, int64_t total) {
        bar->set_total(total), bar->update(done);
      });
      bar->finish(int64_t(r.order.size()));
      print_skipped(console, r.skipped);
      const char* unit = key == tools::SortKey::Blur       ? "sharpness"
                         : key == tools::SortKey::Hist     ? "distance to previous"
                         : key == tools::SortKey::FaceSize ? "box area (px^2)"
                                                           : "degrees";
      const bool angle = key == tools::SortKey::Yaw || key == tools::SortKey::Pitch;
      if (!a->sort_apply) {
        console.result(std::string("# rank  ") + unit + "  file");
        for (size_t i = 0; i < r.order.size(); ++i) {
          std::snprintf(line, sizeof line, "%6zu  %12.4f  %s", i,
                        angle ? r.order[i].value * 57.29577951308232 : r.order[i].value, r.order[i].filename.c_str());
          console.result(line);
        }
        std::snprintf(line, sizeof line, "# %zu faces sorted by %s; nothing renamed (use --apply)", r.order.size(),
                      a->by.c_str());
        console.result(line);
        return 0;
      }
      const auto plan = tools::plan_sort_renames(r.order);
      const tools::RenameReport rep = tools::apply_renames(a->sort_dir, plan);
      for (const auto& w : rep.warnings) console.warn(w);
      std::string done = std::to_string(r.order.size()) + " faces sorted by " + a->by + ": " +
                         std::to_string(rep.renamed) + " files renamed";
      if (!rep.alignments_updated.empty()) {
        done += "; updated";
        for (const auto& f : rep.alignments_updated) done += " " + f;
      }
      console.result(done);
      return 0;
    }
    if (a->dedupe->parsed()) {
      const auto bar = console.progress("faceset dedupe", 0, "faces");
      const tools::DedupeResult r = tools::find_duplicates(a->dedupe_dir, a->threshold, [&](int64_t done, int64_t total) {
        bar->set_total(total), bar->update(done);
      });
      bar->finish(r.faces);
      print_skipped(console, r.skipped);
      console.result("# distance  duplicate  of");
      for (const auto& d : r.duplicates) {
        std::snprintf(line, sizeof line, "%.5f  %s  %s", d.distance, d.filename.c_str(), d.kept.c_str());
        console.result(line);
      }
      if (!a->dedupe_apply) {
        std::snprintf(line, sizeof line, "# %zu near-duplicates among %lld faces (threshold %g); nothing moved (use --apply)",
                      r.duplicates.size(), static_cast<long long>(r.faces), a->threshold);
        console.result(line);
        return 0;
      }
      const auto moved = tools::move_duplicates(a->dedupe_dir, r.duplicates);
      std::snprintf(line, sizeof line, "# %zu near-duplicates among %lld faces moved to %s/_removed", moved.size(),
                    static_cast<long long>(r.faces), a->dedupe_dir.c_str());
      console.result(line);
      return 0;
    }
    if (a->import_dfl->parsed()) {
      const tools::ImportDflResult r = tools::import_dfl_face_set(a->import);
      for (const auto& s : r.skipped) console.error(s.filename + ": " + s.reason);
      if (!r.unmatched.empty())
        console.warn(std::to_string(r.unmatched.size()) + " face(s) name a source frame that is not in " +
                     a->import.frames_dir + " (first: " + r.unmatched.front() + "); they are imported but not merged");
      std::snprintf(line, sizeof line, "%lld faces imported into %s (%lld with an XSeg mask, %lld with XSeg polygons)",
                    static_cast<long long>(r.imported), a->import.dst_dir.c_str(),
                    static_cast<long long>(r.with_xseg_mask), static_cast<long long>(r.with_polygons));
      console.result(line);
      if (!r.alignments_path.empty()) console.result("alignments: " + r.alignments_path);
      if (!r.skipped.empty()) {
        console.error(std::to_string(r.skipped.size()) + " file(s) in " + a->import.src_dir +
                      " could not be imported (listed above)");
        return 1;
      }
      return 0;
    }
    return 2;
  };
}

}  // namespace facet::cli
