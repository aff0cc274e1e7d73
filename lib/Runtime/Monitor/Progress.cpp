//===- Progress.cpp - Progress bar on a terminal, log lines else ----------===//
//
// The ETA uses the epoch's own average step time since it (re)started, so
// it is not skewed by the evaluation passes between epochs.
//
//===----------------------------------------------------------------------===//

#include "dlc/Runtime/Monitor/Progress.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/FormatVariadic.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <sys/ioctl.h>
#include <unistd.h>

using namespace dlc::runtime;

bool dlc::runtime::stdoutIsTerminal() { return ::isatty(STDOUT_FILENO); }

int dlc::runtime::terminalWidth() {
  // COLUMNS first, as shells and Python's shutil do: it lets a user (or a
  // test on a pseudo-terminal of unknown size) set the width.
  if (const char *columns = std::getenv("COLUMNS")) {
    int value = 0;
    if (!llvm::StringRef(columns).getAsInteger(10, value) && value > 0)
      return value;
  }
  struct winsize ws{};
  if (::ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
    return ws.ws_col;
  return 80;
}

ProgressReporter::ProgressReporter(llvm::raw_ostream &os, Style style,
                                   int64_t logEvery)
    : os(os), style(style), logEvery(logEvery) {}

std::string ProgressReporter::formatDuration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0)
    return "?";
  int64_t s = std::llround(seconds);
  if (s >= 3600)
    return llvm::formatv("{0}:{1:d2}:{2:d2}", s / 3600, (s / 60) % 60, s % 60);
  return llvm::formatv("{0}:{1:d2}", s / 60, s % 60);
}

void ProgressReporter::beginEpoch(int64_t epochNumber, int64_t totalEpochs,
                                  int64_t batchCount, int64_t first) {
  epoch = epochNumber;
  epochs = totalEpochs;
  batches = batchCount;
  firstBatch = first;
  epochStart = std::chrono::steady_clock::now();
  lastDraw = {};
}

void ProgressReporter::update(int64_t batch, int64_t step, double loss,
                              double accuracy, double imagesPerSecond) {
  if (style == Style::Quiet)
    return;
  auto now = std::chrono::steady_clock::now();
  int64_t done = batch + 1;
  double elapsed = std::chrono::duration<double>(now - epochStart).count();
  double perBatch = elapsed / std::max<int64_t>(1, done - firstBatch);
  double eta = perBatch * (batches - done);

  if (style == Style::Lines) {
    int64_t every =
        logEvery > 0 ? logEvery : std::max<int64_t>(1, batches / 10);
    // The last batch is followed by the epoch's summary line instead.
    if (done % every != 0 || done == batches)
      return;
    // Batches as the bar shows them, and no step count: a long run's line
    // passed 80 columns (the checkpoints and the interrupt name the step).
    os << llvm::formatv("epoch {0}/{1}  {2}/{3}  loss {4:F4}  "
                        "acc {5:F2}%  {6:F0} img/s  ETA {7}\n",
                        epoch, epochs, done, batches, loss, 100 * accuracy,
                        imagesPerSecond, formatDuration(eta));
    os.flush();
    return;
  }

  // Redraw at most every 100 ms, and always for the last batch.
  if (done != batches && now - lastDraw < std::chrono::milliseconds(100))
    return;
  lastDraw = now;
  std::string prefix = llvm::formatv("epoch {0}/{1} ", epoch, epochs);
  std::string suffix = llvm::formatv(
      " {0}/{1}  loss {2:F4}  acc {3:F2}%  {4:F0} img/s  ETA {5}", done,
      batches, loss, 100 * accuracy, imagesPerSecond, formatDuration(eta));
  int width = terminalWidth() - 1;
  int barWidth =
      std::min<int>(30, width - int(prefix.size()) - int(suffix.size()) - 2);
  std::string line = prefix;
  if (barWidth >= 5) {
    int filled = int(double(done) / double(batches) * barWidth);
    line += "[" + std::string(filled, '=') + (filled < barWidth ? ">" : "") +
            std::string(std::max(0, barWidth - filled - 1), ' ') + "]";
  }
  line += suffix;
  if (int(line.size()) > width && width > 0)
    line.resize(width);
  os << "\r\x1b[2K" << line;
  os.flush();
  drawn = true;
}

void ProgressReporter::clear() {
  if (drawn) {
    os << "\r\x1b[2K";
    os.flush();
    drawn = false;
  }
}

void ProgressReporter::println(llvm::StringRef line) {
  clear();
  os << line << "\n";
  os.flush();
}
