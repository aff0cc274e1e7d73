//===- Metrics.h - Per-epoch metrics: records, CSV, table -------*- C++ -*-===//
//
// One EpochRecord per finished epoch is the single source for every view of
// a run: the log line, the summary table, metrics.csv, the TensorBoard
// scalars and report.html. The history also travels inside checkpoints
// (as JSON metadata) so a resumed run's files cover the whole run.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_RUNTIME_MONITOR_METRICS_H
#define DLC_RUNTIME_MONITOR_METRICS_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace dlc::runtime {

/// Mean loss and accuracy over a set of samples.
struct Metric {
  double loss = 0;
  double accuracy = 0;
};

struct EpochRecord {
  /// 1-based epoch number.
  int64_t epoch = 0;
  /// Updates applied at the end of the epoch.
  int64_t step = 0;
  Metric train;
  std::optional<Metric> validation, test;
  /// The learning rate of the epoch's last update.
  double learningRate = 0;
  /// Training throughput and wall time of the epoch (training only).
  double imagesPerSecond = 0;
  double seconds = 0;
};

/// metrics.csv: a header and one row per epoch; missing values are empty.
std::string formatMetricsCsv(llvm::ArrayRef<EpochRecord> history);

/// The summary table printed at the end of training.
void printEpochTable(llvm::raw_ostream &os,
                     llvm::ArrayRef<EpochRecord> history);

/// The log text of an epoch: "epoch 3/10  loss 0.3121  acc 88.52% ...",
/// broken into lines of at most 79 columns (continuations indented).
std::string formatEpochLine(const EpochRecord &record, int64_t epochs);

/// The history as JSON (exact: doubles are printed with 17 digits).
std::string historyToJson(llvm::ArrayRef<EpochRecord> history);
llvm::Expected<std::vector<EpochRecord>> historyFromJson(llvm::StringRef json);

} // namespace dlc::runtime

#endif // DLC_RUNTIME_MONITOR_METRICS_H
