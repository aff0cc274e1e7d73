//===- Report.h - Self-contained HTML training report -----------*- C++ -*-===//
//
// report.html shows a run's loss and accuracy curves (train, validation,
// test) as inline SVG, the per-epoch table and the run's settings, and,
// where the run could compute them (ReportAnalysis), the confusion matrix,
// per-class accuracy, test images with their predictions, the first
// convolution's filters and each convolution's feature maps; images are
// inline PNG data URIs. It has no scripts, stylesheets or fonts to fetch,
// so it opens anywhere, offline. It is rewritten after every epoch; reload
// to follow a run.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_RUNTIME_MONITOR_REPORT_H
#define DLC_RUNTIME_MONITOR_REPORT_H

#include "dlc/Runtime/Monitor/Metrics.h"

#include <optional>
#include <utility>

namespace dlc::runtime {

/// An 8-bit image, row major, H x W x C with C = 1 (grey) or 3 (RGB).
struct ReportImage {
  int64_t height = 0, width = 0, channels = 1;
  std::vector<uint8_t> pixels;
};

/// Maps `values` (H x W x C floats, C = 1 or 3) linearly so that their
/// minimum is 0 and their maximum 255 (all 128 when they are equal).
ReportImage imageFromValues(llvm::ArrayRef<float> values, int64_t height,
                            int64_t width, int64_t channels);

/// The image as a PNG file (zlib-compressed, 8-bit grey or RGB).
std::vector<uint8_t> encodePng(const ReportImage &image);

/// What the model does on held-out data, and what its convolutions learned.
struct ReportAnalysis {
  /// "test" or "validation": the data the predictions are of.
  std::string split;
  std::vector<std::string> classNames;
  /// confusion[t * classes + p]: samples of class t predicted as p.
  std::vector<int64_t> confusion;
  struct Sample {
    ReportImage image;
    int32_t label = 0, predicted = 0;
    /// The softmax probability of `predicted`.
    double confidence = 0;
  };
  /// Mistakes first (most confident first), then correct predictions.
  std::vector<Sample> samples;
  /// The first convolution's filters, one image each; `filterTitle` says
  /// which tensor they are.
  std::string filterTitle;
  std::vector<ReportImage> filters;
  /// Each convolution's output on `featureInput`, one image per channel.
  struct FeatureMaps {
    std::string name;
    int64_t height = 0, width = 0, channels = 0;
    std::vector<ReportImage> images;
  };
  ReportImage featureInput;
  std::string featureInputCaption;
  std::vector<FeatureMaps> featureMaps;
};

struct ReportInfo {
  std::string modelName;
  /// "running", "finished", "interrupted", "stopped: loss is NaN ...".
  std::string status;
  /// (label, value) rows shown under the title: data, seed, schedule...
  std::vector<std::pair<std::string, std::string>> details;
  /// The model summary table (Summary.h); "" when the model has none.
  std::string modelSummary;
  /// Predictions and what the convolutions learned (none: not shown).
  std::optional<ReportAnalysis> analysis;
};

/// Renders the whole page.
std::string renderHtmlReport(const ReportInfo &info,
                             llvm::ArrayRef<EpochRecord> history);

} // namespace dlc::runtime

#endif // DLC_RUNTIME_MONITOR_REPORT_H
