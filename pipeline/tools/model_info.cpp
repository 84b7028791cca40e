// Model folder report (see model_info.h).
#include "pipeline/tools/model_info.h"

#include <cctype>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "engine/core/error.h"
#include "engine/io/read_file.h"
#include "pipeline/common/time_text.h"
#include "pipeline/faces/face_type.h"
#include "pipeline/train/trainer.h"

namespace facet::tools {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

namespace {

std::string grouped(int64_t v) {
  std::string s = std::to_string(v), out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i > 0 && (s.size() - i) % 3 == 0 && s[i - 1] != '-') out += ',';
    out += s[i];
  }
  return out;
}

int64_t size_or_zero(const fs::path& p) {
  std::error_code ec;
  const auto n = fs::file_size(p, ec);
  return ec ? 0 : int64_t(n);
}

// The last row of loss_history.csv within its committed size (the trainer may have appended rows
// of iterations that were never saved). Read only: LossHistory::open would truncate the file.
void read_last_loss(ModelInfo& m, const std::string& path, int64_t valid_bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in.good()) return;
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (valid_bytes > 0 && int64_t(text.size()) > valid_bytes) text.resize(size_t(valid_bytes));
  std::istringstream ls(text);
  std::string line;
  while (std::getline(ls, line)) {
    if (line.empty() || !std::isdigit(static_cast<unsigned char>(line[0]))) continue;  // header
    long long it = 0;
    double s = 0, d = 0;
    if (std::sscanf(line.c_str(), "%lld,%lf,%lf", &it, &s, &d) == 3) {
      ++m.loss_rows;
      m.has_last_loss = true;
      m.last_loss_iteration = it;
      m.last_src_loss = s;
      m.last_dst_loss = d;
    }
  }
}

std::string yes_no(bool b) { return b ? "yes" : "no"; }

}  // namespace

ModelInfo read_model_info(const std::string& dir) {
  FACET_CHECK(fs::is_directory(dir), dir, ": not a folder");
  const train::ModelFolder folder(dir);
  FACET_CHECK(folder.has_options(), dir, ": not a model folder (no options.json)");
  ModelInfo m;
  m.dir = dir;
  m.options_raw = read_text_file(folder.options_path());
  try {
    m.record = train::model_record_from_json(m.options_raw, folder.options_path());
    m.record_ok = true;
  } catch (const Error& e) {
    m.warnings.push_back(e.what());
  }
  if (m.record_ok) {
    const models::SaehdOptions& n = m.record.spec.net;
    m.params = models::saehd_param_counts(n);
    m.flops = models::saehd_flops(n);
    if (models::parse_archi(n.archi).is_df())
      m.part_params = {{"encoder", m.params.encoder}, {"inter", m.params.inter},
                       {"decoder_src", m.params.decoder}, {"decoder_dst", m.params.decoder}};
    else
      m.part_params = {{"encoder", m.params.encoder}, {"inter_AB", m.params.inter},
                       {"inter_B", m.params.inter}, {"decoder", m.params.decoder}};
  }

  m.has_state = folder.has_checkpoint();
  int64_t loss_bytes = -1;
  if (m.has_state) {
    std::string text;
    try {
      text = read_text_file(folder.state_path());
      m.state = train::train_state_from_json(text, folder.state_path());
      m.state_ok = true;
      m.iteration = m.state.iteration;
      loss_bytes = m.state.loss_csv_bytes;
    } catch (const Error& e) {
      m.warnings.push_back(e.what());
      // Still show the iteration when the file has one.
      try {
        const json j = json::parse(text);
        if (j.contains("iteration") && j["iteration"].is_number_integer()) m.iteration = j["iteration"].get<int64_t>();
      } catch (const json::exception&) {
      }
    }
  }
  if (m.state_ok) {
    m.weights_present = fs::exists(folder.file(m.state.weights_file));
    m.weights_bytes = size_or_zero(folder.file(m.state.weights_file));
    m.optimizer_bytes = size_or_zero(folder.file(m.state.optimizer_file));
    if (!m.weights_present)
      m.warnings.push_back(folder.file(m.state.weights_file) + ": missing (state.json names it as the latest weights)");
  }
  read_last_loss(m, folder.loss_csv_path(), loss_bytes);
  std::error_code ec;
  if (fs::is_directory(folder.backups_dir()))
    for (const auto& de : fs::directory_iterator(folder.backups_dir(), ec)) m.backups += de.is_directory();
  if (fs::is_directory(folder.previews_dir()))
    for (const auto& de : fs::directory_iterator(folder.previews_dir(), ec)) m.previews += de.is_regular_file();
  return m;
}

std::string format_model_info(const ModelInfo& m, bool layers) {
  char buf[512];
  std::string out;
  auto line = [&](const char* key, const std::string& value) {
    std::snprintf(buf, sizeof buf, "%-16s %s\n", key, value.c_str());
    out += buf;
  };
  line("model:", m.dir);
  if (!m.record_ok) {
    out += "options.json could not be interpreted; as stored:\n" + m.options_raw;
    if (!m.options_raw.empty() && m.options_raw.back() != '\n') out += "\n";
  } else {
    const train::ModelRecord& r = m.record;
    const models::SaehdOptions& n = r.spec.net;
    std::string ft = n.face_type;
    try {
      ft = faces::face_type_name(faces::parse_face_type(n.face_type)) + " (" + n.face_type + ")";
    } catch (const Error&) {
    }
    line("architecture:", "SAEHD " + models::parse_archi(n.archi).str() +
                              (r.spec.preset.empty() ? "" : " (preset " + r.spec.preset + ")"));
    line("resolution:", std::to_string(n.resolution) + " px");
    line("face type:", ft);
    std::snprintf(buf, sizeof buf, "ae %d, e %d, d %d, d_mask %d", n.ae_dims, n.e_dims, n.d_dims, n.d_mask_dims);
    line("dims:", buf);
    line("optimizer:", r.spec.optimizer + ", seed " + std::to_string(r.spec.seed));
    if (!r.created_utc.empty()) line("created:", r.created_utc);
    out += "parameters:\n";
    for (const auto& [part, count] : m.part_params) {
      std::snprintf(buf, sizeof buf, "  %-14s %13s\n", part.c_str(), grouped(count).c_str());
      out += buf;
    }
    std::snprintf(buf, sizeof buf, "  %-14s %13s  (%.2fM)\n", "total", grouped(m.params.total).c_str(),
                  m.params.total / 1e6);
    out += buf;
    std::snprintf(buf, sizeof buf, "%.3f GFLOP per training image (forward %.3f, swap at merge %.3f); %.2f GFLOP per "
                  "iteration at batch %d per side\n", m.flops.training_per_image / 1e9, m.flops.forward_per_image / 1e9,
                  m.flops.swap_per_image / 1e9, 2.0 * r.settings.batch * m.flops.training_per_image / 1e9,
                  r.settings.batch);
    line("FLOPs:", std::string(buf, strlen(buf) - 1));
  }

  out += "training:\n";
  if (!m.has_state) {
    out += "  no checkpoint yet (state.json missing): iteration 0\n";
  } else {
    std::string it = std::to_string(m.iteration);
    if (m.record_ok && m.record.settings.target_iter > 0) it += " of " + std::to_string(m.record.settings.target_iter);
    std::snprintf(buf, sizeof buf, "  %-14s %s\n", "iteration", it.c_str());
    out += buf;
    if (m.state_ok) {
      const train::TrainState& s = m.state;
      std::snprintf(buf, sizeof buf, "  %-14s %s\n", "trained for", format_duration(s.train_seconds).c_str());
      out += buf;
      if (!s.saved_utc.empty()) out += "  saved          " + s.saved_utc + "\n";
      if (!s.precision.empty()) out += "  precision      " + s.precision + " compute (last run), f32 weights\n";
      std::snprintf(buf, sizeof buf, "  %-14s %lld src, %lld dst\n", "faces", static_cast<long long>(s.src_faces),
                    static_cast<long long>(s.dst_faces));
      out += buf;
      std::snprintf(buf, sizeof buf, "  %-14s %s (%.1f MB), %s (%.1f MB)\n", "checkpoint", s.weights_file.c_str(),
                    m.weights_bytes / 1e6, s.optimizer_file.c_str(), m.optimizer_bytes / 1e6);
      out += buf;
      if (s.nan_skipped) {
        std::snprintf(buf, sizeof buf, "  %-14s %lld\n", "NaN skipped", static_cast<long long>(s.nan_skipped));
        out += buf;
      }
    }
    if (m.has_last_loss) {
      std::snprintf(buf, sizeof buf, "  %-14s src %.4f, dst %.4f (iteration %lld; %lld rows in loss_history.csv)\n",
                    "last loss", m.last_src_loss, m.last_dst_loss, static_cast<long long>(m.last_loss_iteration),
                    static_cast<long long>(m.loss_rows));
      out += buf;
    }
    std::snprintf(buf, sizeof buf, "  %-14s %d backups, %d previews\n", "kept", m.backups, m.previews);
    out += buf;
  }

  if (m.record_ok) {
    const train::TrainSettings& s = m.record.settings;
    out += "options (change on resume with `facet train`):\n";
    std::snprintf(buf, sizeof buf,
                  "  batch %d, lr %g, lr_dropout %s, clipgrad %s, target_iter %lld\n"
                  "  random_warp %s, src_flip %s, dst_flip %s, augment %s, random_hsv_power %g, ct_mode %s\n"
                  "  masked_training %s, eyes_mouth_prio %s\n"
                  "  autosave every %g min, backups %d, preview every %lld, status every %lld\n",
                  s.batch, s.lr, yes_no(s.lr_dropout).c_str(), yes_no(s.clipgrad).c_str(),
                  static_cast<long long>(s.target_iter), yes_no(s.random_warp).c_str(), yes_no(s.src_flip).c_str(),
                  yes_no(s.dst_flip).c_str(), yes_no(s.augment).c_str(), s.random_hsv_power, s.ct_mode.c_str(),
                  yes_no(s.masked_training).c_str(),
                  yes_no(s.eyes_mouth_prio).c_str(), s.autosave_min, s.backups,
                  static_cast<long long>(s.preview_every), static_cast<long long>(s.status_every));
    out += buf;
    if (!m.record.changes.empty()) {
      out += "option changes:\n";
      for (const train::OptionChange& c : m.record.changes) {
        std::snprintf(buf, sizeof buf, "  at iteration %lld: %s %s -> %s\n", static_cast<long long>(c.iteration),
                      c.option.c_str(), c.from.c_str(), c.to.c_str());
        out += buf;
      }
    }
  }
  for (const std::string& w : m.warnings) out += "warning: " + w + "\n";
  if (layers && m.record_ok) out += "\n" + train::architecture_summary(m.record);
  return out;
}

std::string model_info_json(const ModelInfo& m) {
  json j = {{"dir", m.dir}, {"iteration", m.iteration}, {"has_checkpoint", m.has_state}, {"warnings", m.warnings}};
  if (m.record_ok) {
    j["options"] = json::parse(train::model_record_to_json(m.record));
    json parts = json::object();
    for (const auto& [part, count] : m.part_params) parts[part] = count;
    j["parameters"] = {{"parts", parts}, {"total", m.params.total}};
    j["gflop_per_training_image"] = m.flops.training_per_image / 1e9;
    j["gflop_forward_per_image"] = m.flops.forward_per_image / 1e9;
    j["gflop_swap_per_image"] = m.flops.swap_per_image / 1e9;
  }
  if (m.state_ok)
    j["checkpoint"] = {{"weights", m.state.weights_file}, {"weights_bytes", m.weights_bytes},
                       {"train_seconds", m.state.train_seconds}, {"saved_utc", m.state.saved_utc},
                       {"src_faces", m.state.src_faces}, {"dst_faces", m.state.dst_faces}};
  if (m.state_ok && !m.state.precision.empty()) j["checkpoint"]["precision"] = m.state.precision;
  if (m.has_last_loss)
    j["last_loss"] = {{"iteration", m.last_loss_iteration}, {"src", m.last_src_loss}, {"dst", m.last_dst_loss}};
  return j.dump(1) + "\n";
}

}  // namespace facet::tools
