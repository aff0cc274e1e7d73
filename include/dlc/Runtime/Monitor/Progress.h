//===- Progress.h - Progress bar on a terminal, log lines else --*- C++ -*-===//
//
// On a terminal, one line redrawn in place (carriage return + erase line),
// at most ten times a second: epoch, batch, running loss and accuracy,
// images/s and the epoch's ETA. Elsewhere (CI logs, pipes), a plain line
// every `logEvery` steps. Epoch summaries go through here too, so they
// never collide with a half-drawn bar.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_RUNTIME_MONITOR_PROGRESS_H
#define DLC_RUNTIME_MONITOR_PROGRESS_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>
#include <cstdint>

namespace dlc::runtime {

class ProgressReporter {
public:
  enum class Style { Bar, Lines, Quiet };

  /// `logEvery` <= 0 picks about ten lines per epoch.
  ProgressReporter(llvm::raw_ostream &os, Style style, int64_t logEvery);

  /// Starts an epoch of `batches` batches, `firstBatch` of them already
  /// done (a resumed epoch).
  void beginEpoch(int64_t epoch, int64_t epochs, int64_t batches,
                  int64_t firstBatch);
  /// After batch `batch` (0-based) of the epoch; `step` is the global step.
  void update(int64_t batch, int64_t step, double loss, double accuracy,
              double imagesPerSecond);
  /// Prints a full line (erasing the bar first).
  void println(llvm::StringRef line);
  /// Erases the bar, if one is drawn.
  void clear();

  /// Formats seconds as m:ss or h:mm:ss.
  static std::string formatDuration(double seconds);

private:
  llvm::raw_ostream &os;
  Style style;
  int64_t logEvery, epoch = 0, epochs = 0, batches = 0, firstBatch = 0;
  bool drawn = false;
  std::chrono::steady_clock::time_point lastDraw, epochStart;
};

/// True if stdout is a terminal (the default for the progress bar).
bool stdoutIsTerminal();
/// The width in columns: $COLUMNS if set, else the terminal's, else 80.
int terminalWidth();

} // namespace dlc::runtime

#endif // DLC_RUNTIME_MONITOR_PROGRESS_H
