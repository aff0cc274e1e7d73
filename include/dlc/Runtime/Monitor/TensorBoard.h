//===- TensorBoard.h - TensorBoard logs as Keras writes them ----*- C++ -*-===//
//
// Keras's TensorBoard callback writes one run per data split, so that
// TensorBoard draws train and validation on one chart: `<dir>/train` and
// `<dir>/validation`, with the tags `epoch_loss`, `epoch_accuracy` (and
// `epoch_learning_rate` in train). dlc does the same, plus `<dir>/test`
// for the test split, and Keras's options:
//
//   update_freq     `batch_loss`, `batch_accuracy` and `batch_learning_rate`
//                   in train every N steps (step = the global step);
//   histogram_freq  a histogram of every parameter every N epochs (tag =
//                   the tensor's name, e.g. `conv2d/kernel`, in train).
//
// Epoch points use step = the 1-based epoch (as metrics.csv). The model
// summary is a text summary (`model_summary`) of the train run. Each run's
// event file is created with its first point, so a run that writes
// nothing (a failed set-up, "Nothing to train") leaves no empty file.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_RUNTIME_MONITOR_TENSORBOARD_H
#define DLC_RUNTIME_MONITOR_TENSORBOARD_H

#include "dlc/Runtime/Monitor/EventFile.h"
#include "dlc/Runtime/Monitor/Metrics.h"

#include <memory>

namespace dlc::runtime {

struct TensorBoardOptions {
  /// Batch-level points every N steps; 0 = at epoch ends only.
  int64_t updateFreq = 0;
  /// Parameter histograms every N epochs; 0 = none.
  int64_t histogramFreq = 0;
};

/// Reads --tensorboard-update-freq: `epoch` (0), `batch` (1) or N >= 1.
llvm::Expected<int64_t> parseUpdateFreq(llvm::StringRef text);

class TensorBoardLogger {
public:
  /// Logs into `dir` (nothing when empty); `summary` is the model summary
  /// table, written as text with the first point of the train run.
  void open(llvm::StringRef dir, const TensorBoardOptions &options,
            llvm::StringRef summary = "");

  llvm::Error logEpoch(const EpochRecord &record);
  /// After global step `step` (1-based); writes when update_freq says so.
  llvm::Error logBatch(int64_t step, double loss, double accuracy,
                       double learningRate);
  /// Whether histograms are due at the end of (1-based) `epoch`.
  bool wantsHistograms(int64_t epoch) const;
  llvm::Error logHistogram(int64_t epoch, llvm::StringRef tag,
                           llvm::ArrayRef<float> values);

  /// The event file of `run` ("train", ...), "" before its first point.
  std::string getPath(llvm::StringRef run) const;

private:
  enum Run { Train, Validation, Test, NumRuns };
  llvm::Expected<EventFileWriter *> writer(Run run);

  std::string dir;
  TensorBoardOptions options;
  std::string summary;
  std::unique_ptr<EventFileWriter> writers[NumRuns];
};

} // namespace dlc::runtime

#endif // DLC_RUNTIME_MONITOR_TENSORBOARD_H
