//===- Report.h - Self-contained HTML training report -----------*- C++ -*-===//
//
// report.html shows a run's loss and accuracy curves (train, validation,
// test) as inline SVG, the per-epoch table and the run's settings. It has
// no scripts, stylesheets or fonts to fetch, so it opens anywhere, offline.
// It is rewritten after every epoch; reload to follow a run.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_RUNTIME_MONITOR_REPORT_H
#define DLC_RUNTIME_MONITOR_REPORT_H

#include "dlc/Runtime/Monitor/Metrics.h"

#include <utility>

namespace dlc::runtime {

struct ReportInfo {
  std::string modelName;
  /// "running", "finished", "interrupted", "stopped: loss is NaN ...".
  std::string status;
  /// (label, value) rows shown under the title: data, seed, schedule...
  std::vector<std::pair<std::string, std::string>> details;
  /// The model summary table (Summary.h); "" when the model has none.
  std::string modelSummary;
};

/// Renders the whole page.
std::string renderHtmlReport(const ReportInfo &info,
                             llvm::ArrayRef<EpochRecord> history);

} // namespace dlc::runtime

#endif // DLC_RUNTIME_MONITOR_REPORT_H
