//===- TensorBoard.cpp - TensorBoard logs as Keras writes them ------------===//
//
// See TensorBoard.h.
//
//===----------------------------------------------------------------------===//

#include "dlc/Runtime/Monitor/TensorBoard.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

using namespace dlc::runtime;

static const char *const kRunNames[] = {"train", "validation", "test"};

llvm::Expected<int64_t> dlc::runtime::parseUpdateFreq(llvm::StringRef text) {
  if (text == "epoch")
    return 0;
  if (text == "batch")
    return 1;
  int64_t n;
  if (!text.getAsInteger(10, n) && n >= 1)
    return n;
  return llvm::createStringError(
      "--tensorboard-update-freq expects epoch, batch or a number of steps "
      ">= 1, not '" +
      text + "'");
}

void TensorBoardLogger::open(llvm::StringRef dir,
                             const TensorBoardOptions &options,
                             llvm::StringRef summary) {
  this->dir = dir.str();
  this->options = options;
  this->summary = summary.str();
}

llvm::Expected<EventFileWriter *> TensorBoardLogger::writer(Run run) {
  if (dir.empty())
    return nullptr;
  if (writers[run])
    return writers[run].get();
  llvm::SmallString<256> path(dir);
  llvm::sys::path::append(path, kRunNames[run]);
  if (std::error_code ec = llvm::sys::fs::create_directories(path))
    return llvm::createStringError("cannot create '%s': %s", path.c_str(),
                                   ec.message().c_str());
  auto created = std::make_unique<EventFileWriter>();
  if (llvm::Error e = created->open(path))
    return std::move(e);
  if (run == Train && !summary.empty()) {
    // Indented four spaces: Markdown's preformatted text, so the table's
    // columns stay aligned in TensorBoard's text dashboard.
    std::string markdown;
    llvm::SmallVector<llvm::StringRef> lines;
    llvm::StringRef(summary).split(lines, '\n');
    for (llvm::StringRef line : lines)
      markdown += "    " + line.str() + "\n";
    if (llvm::Error e = created->addEvent(
            encodeTextEvent(eventWallTime(), 0, "model_summary", markdown)))
      return std::move(e);
  }
  writers[run] = std::move(created);
  return writers[run].get();
}

std::string TensorBoardLogger::getPath(llvm::StringRef run) const {
  for (int r = 0; r < NumRuns; ++r)
    if (run == kRunNames[r] && writers[r])
      return writers[r]->getPath();
  return "";
}

llvm::Error TensorBoardLogger::logEpoch(const EpochRecord &record) {
  auto write = [&](Run run,
                   llvm::ArrayRef<std::pair<std::string, float>> scalars)
      -> llvm::Error {
    llvm::Expected<EventFileWriter *> w = writer(run);
    if (!w)
      return w.takeError();
    return *w ? (*w)->addScalars(record.epoch, scalars)
              : llvm::Error::success();
  };
  if (llvm::Error e = write(
          Train, {{"epoch_loss", float(record.train.loss)},
                  {"epoch_accuracy", float(record.train.accuracy)},
                  {"epoch_learning_rate", float(record.learningRate)},
                  {"epoch_images_per_sec", float(record.imagesPerSecond)}}))
    return e;
  if (record.validation)
    if (llvm::Error e =
            write(Validation,
                  {{"epoch_loss", float(record.validation->loss)},
                   {"epoch_accuracy", float(record.validation->accuracy)}}))
      return e;
  if (record.test)
    if (llvm::Error e =
            write(Test, {{"epoch_loss", float(record.test->loss)},
                         {"epoch_accuracy", float(record.test->accuracy)}}))
      return e;
  return llvm::Error::success();
}

llvm::Error TensorBoardLogger::logBatch(int64_t step, double loss,
                                        double accuracy, double learningRate) {
  if (options.updateFreq <= 0 || step % options.updateFreq != 0)
    return llvm::Error::success();
  llvm::Expected<EventFileWriter *> w = writer(Train);
  if (!w)
    return w.takeError();
  if (!*w)
    return llvm::Error::success();
  return (*w)->addScalars(step, {{"batch_loss", float(loss)},
                                 {"batch_accuracy", float(accuracy)},
                                 {"batch_learning_rate", float(learningRate)}});
}

bool TensorBoardLogger::wantsHistograms(int64_t epoch) const {
  return !dir.empty() && options.histogramFreq > 0 &&
         epoch % options.histogramFreq == 0;
}

llvm::Error TensorBoardLogger::logHistogram(int64_t epoch, llvm::StringRef tag,
                                            llvm::ArrayRef<float> values) {
  llvm::Expected<EventFileWriter *> w = writer(Train);
  if (!w)
    return w.takeError();
  if (!*w)
    return llvm::Error::success();
  return (*w)->addEvent(
      encodeHistogramEvent(eventWallTime(), epoch, tag, Histogram::of(values)));
}
