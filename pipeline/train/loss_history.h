// The loss history of a model folder: one CSV row per iteration (iteration,src_loss,dst_loss;
// the batch means DFL prints) appended as the trainer reads its losses, and a loss-curve PNG
// drawn from it with OpenCV. On resume the CSV is cut back to the size recorded in the
// checkpoint, so rows of iterations that were trained but never saved (and will be trained
// again) do not appear twice.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <opencv2/core/mat.hpp>

namespace facet::train {

struct LossRow {
  int64_t iteration;  // 1-based: the loss of the batch that iteration trained on
  float src, dst;     // batch means; NaN/Inf kept as read (the step was skipped)
};

// The two series' names: the CSV's columns are iteration,<first>_loss,<second>_loss and the
// curve's legend. SAEHD's are src and dst; a mask model's are its training batches and its
// un-augmented preview faces.
struct LossSeriesNames {
  std::string first = "src", second = "dst";
};

class LossHistory {
 public:
  // Opens `path`. valid_bytes < 0: start a new file (header only). Otherwise the file is cut to
  // valid_bytes and its rows are read back (a missing file starts empty).
  void open(const std::string& path, int64_t valid_bytes, const LossSeriesNames& names = {});
  void append(const std::vector<LossRow>& rows);  // written and flushed
  int64_t bytes() const { return bytes_; }
  const std::vector<LossRow>& rows() const { return rows_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  int64_t bytes_ = 0;
  std::vector<LossRow> rows_;
};

// Loss against iteration, log-scaled loss axis, src and dst curves (bucket means when there are
// more iterations than pixels), a dashed line at the target iteration when > 0.
cv::Mat draw_loss_curve(const std::vector<LossRow>& rows, int64_t target_iter = 0, int width = 900, int height = 420,
                        const LossSeriesNames& names = {});
void write_loss_curve(const std::string& png_path, const std::vector<LossRow>& rows, int64_t target_iter = 0,
                      const LossSeriesNames& names = {});

}  // namespace facet::train
