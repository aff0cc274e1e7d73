//===- Trainer.cpp - The training loop ------------------------------------===//
//
// One TrainingRun object holds everything a run needs; `train` sets it up
// (options, checkpoint, data, output directory, in the order that lets
// every user error surface before the first step) and runs the epochs.
//
//===----------------------------------------------------------------------===//

#include "dlc/Runtime/Trainer.h"
#include "dlc/Runtime/Analysis.h"
#include "dlc/Runtime/Checkpoint.h"
#include "dlc/Runtime/CheckpointMetadata.h"
#include "dlc/Runtime/Communicator.h"
#include "dlc/Runtime/Data/Dataset.h"
#include "dlc/Runtime/Data/Prefetcher.h"
#include "dlc/Runtime/Monitor/Report.h"
#include "dlc/Runtime/Monitor/TensorBoard.h"
#include "dlc/Runtime/Random.h"
#include "dlc/Runtime/Summary.h"
#include "dlc/Runtime/Support.h"

#include "llvm/ADT/ScopeExit.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/Path.h"

#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>

using namespace dlc::runtime;

//===----------------------------------------------------------------------===//
// Ctrl-C
//===----------------------------------------------------------------------===//

static volatile std::sig_atomic_t interrupted = 0;

extern "C" void dlcRuntimeOnSigint(int) { interrupted = 1; }

void dlc::runtime::requestInterrupt() { interrupted = 1; }

namespace {
/// Catches the first SIGINT while it lives: the loop finishes the current
/// step, saves a checkpoint and returns. SA_RESETHAND restores the default
/// action, so a second Ctrl-C kills the process as usual (the atomic
/// checkpoint write makes that safe too).
class InterruptScope {
public:
  InterruptScope() {
    interrupted = 0;
    struct sigaction action = {};
    action.sa_handler = dlcRuntimeOnSigint;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESETHAND;
    sigaction(SIGINT, &action, &previous);
  }
  ~InterruptScope() { sigaction(SIGINT, &previous, nullptr); }

private:
  struct sigaction previous = {};
};
} // namespace

//===----------------------------------------------------------------------===//
// Evaluation
//===----------------------------------------------------------------------===//

llvm::Expected<Metric>
dlc::runtime::evaluateSamples(Executor &executor, const BatchAssembler &batches,
                              int64_t offset, int64_t count) {
  int64_t b = executor.getModel().getBatchSize();
  llvm::SmallVector<uint32_t> rows(b);
  double lossSum = 0;
  int64_t correct = 0;
  int64_t full = count / b, tail = count % b;
  for (int64_t i = 0; i < full; ++i) {
    for (int64_t r = 0; r < b; ++r)
      rows[r] = static_cast<uint32_t>(i * b + r);
    batches.assemble(rows, offset, executor.getInput(), executor.getLabels());
    llvm::Expected<StepResult> result = executor.evaluate();
    if (!result)
      return result.takeError();
    lossSum += double(result->loss) * b;
    correct += result->correct;
  }
  if (tail) {
    // Pad with copies of the tail's first sample, then subtract what those
    // copies contributed, measured on a batch made only of that sample.
    uint32_t first = static_cast<uint32_t>(full * b);
    for (int64_t r = 0; r < b; ++r)
      rows[r] = r < tail ? first + static_cast<uint32_t>(r) : first;
    batches.assemble(rows, offset, executor.getInput(), executor.getLabels());
    llvm::Expected<StepResult> padded = executor.evaluate();
    if (!padded)
      return padded.takeError();
    std::fill(rows.begin(), rows.end(), first);
    batches.assemble(rows, offset, executor.getInput(), executor.getLabels());
    llvm::Expected<StepResult> copies = executor.evaluate();
    if (!copies)
      return copies.takeError();
    int64_t pad = b - tail;
    lossSum += double(padded->loss) * b - double(copies->loss) * pad;
    correct +=
        padded->correct - std::llround(double(copies->correct) * pad / b);
  }
  if (count == 0)
    return Metric{};
  return Metric{lossSum / count, double(correct) / count};
}

//===----------------------------------------------------------------------===//
// The run
//===----------------------------------------------------------------------===//

namespace {
using Clock = std::chrono::steady_clock;

/// Where training stands: the next batch to run is `batch` of epoch
/// `epoch` (both 0-based); `step` updates have been applied. The sums are
/// those of the epoch in progress. `batch` counts compiled batches (of the
/// compiled batch size B) whatever the number of ranks N: one global step
/// trains batches batch..batch+N-1, one per rank, so a checkpoint resumes
/// with any N.
struct Position {
  int64_t epoch = 0, batch = 0, step = 0;
  double lossSum = 0;
  int64_t correct = 0, samples = 0;
};

namespace key = dlc::runtime::metakey;

/// Where early stopping keeps the weights it may restore.
constexpr const char *kEarlyStoppingBest = "early-stopping-best.safetensors";

/// "validation loss" for val_loss and the like.
std::string describeMonitored(Monitored m) {
  return (llvm::Twine(isValidationMonitor(m) ? "validation " : "training ") +
          (m == Monitored::Loss || m == Monitored::ValLoss ? "loss"
                                                           : "accuracy"))
      .str();
}

/// "0.4321" for losses, "87.50%" for accuracies.
std::string formatMonitored(Monitored m, double value) {
  if (m == Monitored::Accuracy || m == Monitored::ValAccuracy)
    return llvm::formatv("{0:F2}%", 100 * value).str();
  return llvm::formatv("{0:F4}", value).str();
}

class TrainingRun {
public:
  TrainingRun(const CompiledModel &model, Device &device,
              const TrainOptions &options, llvm::raw_ostream &out,
              llvm::raw_ostream &err)
      : model(model), device(device), options(options), out(out), err(err),
        progress(out, options.progress, options.logEvery),
        single(createSingleProcessCommunicator()),
        comm(options.communicator ? *options.communicator : *single) {}

  llvm::Expected<TrainStatus> run();

private:
  llvm::Error setUp();
  llvm::Error restore(const Metadata &meta);
  llvm::Expected<TrainStatus> runEpochs();
  /// Data parallelism: whether the epoch has another global batch (one
  /// starting at compiled batch `batch`, by default the next one), and the
  /// global steps an epoch takes (see `Position`).
  bool epochHasStep() const { return epochHasStepAt(position.batch); }
  bool epochHasStepAt(int64_t batch) const;
  int64_t globalStepsPerEpoch() const;
  llvm::Error finishEpoch(double trainSeconds, int64_t trainedImages);

  Metadata metadata() const;
  llvm::Error saveCheckpoint(llvm::StringRef file);
  llvm::Error setUpCallbacks();
  llvm::Error runCallbacks(const EpochRecord &record, bool &bestImproved);
  llvm::Error restoreBestWeights();
  llvm::Error printRestoredMetrics();
  llvm::Error logGradientHistograms(int64_t epoch);
  std::string outPath(llvm::StringRef file) const;
  llvm::Error writeReports(llvm::StringRef status);
  void warn(const llvm::Twine &message) {
    progress.clear();
    err << "warning: " << message << "\n";
  }

  const CompiledModel &model;
  Device &device;
  /// A copy: on --resume, restore fills in what the command line left unset.
  TrainOptions options;
  llvm::raw_ostream &out, &err;
  /// Set up first thing in setUp.
  std::optional<Executor> executor;
  ProgressReporter progress;

  uint64_t seed = 0;
  /// Whether callbacks.checkpoint.monitor is final (resumed runs) or still
  /// dlc's default, to be picked once the validation split is known.
  bool resolvedCheckpointMonitor = false;
  DataSplits data;
  std::unique_ptr<BatchAssembler> trainBatches, testBatches;
  int64_t trainCount = 0, validationCount = 0, stepsPerEpoch = 0;
  LRSchedule schedule;
  /// The run's base rate (schedule.baseRate is what ReduceLROnPlateau made
  /// of it).
  double baseRate = 0;
  Position position;
  std::vector<EpochRecord> history;
  /// Their configuration is options.callbacks' (or the checkpoint's).
  Callbacks callbacks;
  std::string lastCheckpoint;
  /// Set when early stopping ends the run.
  bool stopped = false;
  /// What the callbacks did, for the report.
  std::vector<std::string> callbackNotes;
  TensorBoardLogger tensorboard;
  /// The summary table for the report and TensorBoard ("" without one).
  std::string modelSummary;
  std::string started;
  /// The ranks of a data-parallel run (the single-process communicator
  /// without one). Rank r trains the compiled batches `batch + r` of each
  /// global batch; only rank 0 writes files (its outDir is the run's, the
  /// others' is cleared by the command line).
  std::unique_ptr<Communicator> single;
  Communicator &comm;
};
} // namespace

/// "early_stopping_patience=2, ..." ("none" for no keys).
static std::string
describeConfig(const std::map<std::string, std::string> &config) {
  if (config.empty())
    return "none";
  std::string s;
  for (const auto &[k, v] : config)
    s += (s.empty() ? "" : ", ") + k + "=" + v;
  return s;
}

std::string TrainingRun::outPath(llvm::StringRef file) const {
  llvm::SmallString<256> path(options.outDir);
  llvm::sys::path::append(path, file);
  return path.str().str();
}

Metadata TrainingRun::metadata() const {
  Metadata meta{
      {key::format, kCheckpointFormat},
      {key::model, model.getName().str()},
      {key::step, std::to_string(position.step)},
      {key::epoch, std::to_string(position.epoch)},
      {key::batch, std::to_string(position.batch)},
      {key::epochs, std::to_string(options.epochs)},
      {key::seed, std::to_string(seed)},
      {key::threads, std::to_string(options.threads)},
      {key::batchSize, std::to_string(model.getBatchSize())},
      {key::data, options.data},
      {key::validationSplit, formatExact(options.validationSplit)},
      {key::dropRemainder, options.dropRemainder ? "true" : "false"},
      {key::lossSum, formatExact(position.lossSum)},
      {key::correct, std::to_string(position.correct)},
      {key::samples, std::to_string(position.samples)},
      {key::history, historyToJson(history)},
      {"ranks", std::to_string(comm.size())},
      {key::shuffle, "epoch e visits samples in epochPermutation(seed, e) "
                     "(SplitMix64 Fisher-Yates); resume at (epoch, batch)"},
  };
  writeCallbacks(callbacks, meta);
  meta[key::lrSchedule] = schedule.kind == LRSchedule::Constant ? "constant"
                          : schedule.kind == LRSchedule::Step   ? "step"
                                                                : "cosine";
  meta[key::lrBase] = formatExact(baseRate);
  meta[key::lrWarmupEpochs] = formatExact(schedule.warmupEpochs);
  meta[key::lrDecayEpochs] = formatExact(schedule.decayEpochs);
  meta[key::lrDecayFactor] = formatExact(schedule.decayFactor);
  meta[key::lrMinRate] = formatExact(schedule.minRate);
  return meta;
}

llvm::Error TrainingRun::saveCheckpoint(llvm::StringRef file) {
  if (options.outDir.empty())
    return llvm::Error::success();
  std::string path = outPath(file);
  if (llvm::Error e = dlc::runtime::saveCheckpoint(
          path, model, executor->getTensors(), metadata()))
    return e;
  if (file == "last.safetensors")
    lastCheckpoint = path;
  return llvm::Error::success();
}

llvm::Error TrainingRun::writeReports(llvm::StringRef status) {
  if (options.outDir.empty())
    return llvm::Error::success();
  if (llvm::Error e = writeFileAtomically(outPath("metrics.csv"),
                                          formatMetricsCsv(history)))
    return e;
  ReportInfo info;
  info.modelName = model.getName().str();
  info.modelSummary = modelSummary;
  info.status = status.str();
  const ModelSettings &s = model.getSettings();
  info.details = {
      {"data", data.description},
      {"samples", llvm::formatv("{0} train, {1} validation, {2} test",
                                trainCount, validationCount, data.test.size())},
      {"batch",
       llvm::formatv(
           "{0} ({1} steps per epoch{2})", model.getBatchSize(), stepsPerEpoch,
           options.dropRemainder ? ", last partial batch dropped" : "")},
      {"epochs", std::to_string(options.epochs)},
      {"optimizer", s.optimizer.empty() ? "(compiled in)" : s.optimizer},
      {"loss", s.loss.empty() ? "(compiled in)" : s.loss},
      {"learning rate", schedule.describe()},
      {"seed", std::to_string(seed)},
      {"threads", options.threads ? std::to_string(options.threads)
                                  : std::string("default")},
      {"started", started},
  };
  if (const CheckpointPolicy &policy = callbacks.checkpoint; policy.best)
    info.details.push_back(
        {"best", llvm::formatv(
                     "epoch {0}: {1} {2} (best.safetensors)", policy.bestEpoch,
                     describeMonitored(policy.monitor.monitored),
                     formatMonitored(policy.monitor.monitored, *policy.best))});
  for (const std::string &line : callbackNotes)
    info.details.push_back({"callbacks", line});
  // Predictions on the test data (else the validation data) and what the
  // convolutions learned; classification models only.
  int64_t classes = model.getNumClasses();
  bool onTest = data.test.size() > 0;
  if (model.getPredict() && classes >= 2 && (onTest || validationCount > 0)) {
    auto analysis = analyzeForReport(
        *executor, onTest ? data.test : data.train,
        onTest ? *testBatches : *trainBatches, onTest ? 0 : trainCount,
        onTest ? data.test.size() : validationCount,
        onTest ? "test" : "validation",
        classNamesFor(options.classNames, model.getSettings().classNames,
                      options.data, data.description, classes));
    if (!analysis)
      return analysis.takeError();
    info.analysis = std::move(*analysis);
  }
  return writeFileAtomically(outPath("report.html"),
                             renderHtmlReport(info, history));
}

llvm::Error TrainingRun::restore(const Metadata &meta) {
  auto read =
      readCheckpointInfo(meta, options.resume, model, CheckpointUse::Training);
  if (!read)
    return read.takeError();
  CheckpointInfo &info = *read;
  position.step = info.step;
  position.epoch = info.epoch;
  position.batch = info.batch;
  position.lossSum = info.lossSum;
  position.correct = info.correct;
  position.samples = info.samples;
  history = std::move(info.history);
  // The callbacks continue with their state. One given on the command line
  // must be the checkpoint's: a changed patience or monitor would not
  // continue the run, and its state would not mean what it says.
  auto same = [&](bool set, const char *what, auto ours, auto theirs,
                  const char *flags) -> llvm::Error {
    if (!set || ours == theirs)
      return llvm::Error::success();
    return llvm::createStringError(llvm::formatv(
        "{0} differs from the checkpoint's run ({1}); a resumed run keeps "
        "the checkpoint's callbacks: drop the {2} flags",
        what, describeConfig(theirs), flags));
  };
  using Map = std::map<std::string, std::string>;
  auto esConfig = [](const std::optional<EarlyStopping> &es) {
    return es ? earlyStoppingConfig(*es) : Map();
  };
  auto lrConfig = [](const std::optional<ReduceLROnPlateau> &r) {
    return r ? reduceLRConfig(*r) : Map();
  };
  if (llvm::Error e =
          same(options.earlyStoppingSet, "early stopping",
               esConfig(options.callbacks.earlyStopping),
               esConfig(info.callbacks.earlyStopping), "--early-stopping-*"))
    return e;
  if (llvm::Error e = same(options.reduceLRSet, "the learning-rate reduction",
                           lrConfig(options.callbacks.reduceLR),
                           lrConfig(info.callbacks.reduceLR), "--reduce-lr-*"))
    return e;
  if (info.hasCheckpointMonitor)
    if (llvm::Error e =
            same(options.checkpointPolicySet, "the checkpoint policy",
                 checkpointConfig(options.callbacks.checkpoint),
                 checkpointConfig(info.callbacks.checkpoint),
                 "--checkpoint-monitor/--checkpoint-mode/--epoch-checkpoints"))
      return e;
  callbacks = std::move(info.callbacks);
  stopped =
      callbacks.earlyStopping && callbacks.earlyStopping->stoppedEpoch >= 0;
  if (!info.hasCheckpointMonitor) {
    // An older checkpoint: dlc's default policy with its best accuracy.
    CheckpointPolicy policy = options.callbacks.checkpoint;
    policy.best = callbacks.checkpoint.best;
    policy.bestEpoch = callbacks.checkpoint.bestEpoch;
    policy.monitor.mode = MonitorMode::Max;
    callbacks.checkpoint = policy;
    resolvedCheckpointMonitor = options.checkpointMonitorSet;
  } else {
    resolvedCheckpointMonitor = true;
  }
  if (options.seed && *options.seed != info.seed)
    return llvm::createStringError(
        "--seed %llu differs from the checkpoint's seed %llu; a resumed run "
        "continues with the checkpoint's seed (drop --seed)",
        (unsigned long long)*options.seed, (unsigned long long)info.seed);
  seed = info.seed;
  // What the command line left unset continues the checkpoint's run, so
  // the printed `--resume CKPT` works alone.
  if (options.data.empty())
    options.data = info.data;
  if (!options.epochsSet && info.epochs)
    options.epochs = *info.epochs;
  if (!options.validationSplitSet)
    options.validationSplit = info.validationSplit;
  if (!options.dropRemainderSet)
    options.dropRemainder = info.dropRemainder;
  if (!options.scheduleSet && info.schedule) {
    options.schedule = *info.schedule;
    options.learningRate = info.schedule->baseRate;
  }
  // Settings that change which samples a step sees break exactness only.
  if (info.data != options.data)
    warn("the checkpoint was trained on --data " + info.data +
         "; continuing on " + options.data);
  if (info.validationSplit != options.validationSplit)
    warn("the checkpoint used --validation-split " +
         formatExact(info.validationSplit) +
         "; the resumed run will not match an uninterrupted one");
  if (info.dropRemainder != options.dropRemainder)
    warn("the checkpoint used a different --drop-remainder; the resumed run "
         "will not match an uninterrupted one");
  return llvm::Error::success();
}

llvm::Error TrainingRun::setUp() {
  auto now =
      std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  char buffer[64];
  std::strftime(buffer, sizeof(buffer), "%Y-%m-%d %H:%M:%S",
                std::localtime(&now));
  started = buffer;

  if (!model.getTrainStep())
    return llvm::createStringError("model '%s' has no train_step; it was "
                                   "compiled for inference only",
                                   model.getName().str().c_str());
  auto created = Executor::create(model, device);
  if (!created)
    return created.takeError();
  executor.emplace(std::move(*created));
  // The output directory first: a bad --out must not cost a data load.
  if (!options.outDir.empty()) {
    if (llvm::Error e = prepareOutputDirectory(options.outDir))
      return e;
    if (llvm::Error e = checkOutputFiles(
            options.outDir, {"last.safetensors", "best.safetensors",
                             "metrics.csv", "report.html"}))
      return e;
  }

  if (!options.resume.empty()) {
    auto meta = loadCheckpoint(options.resume, model, executor->getTensors(),
                               CheckpointUse::Training);
    if (!meta)
      return meta.takeError();
    if (llvm::Error e = restore(*meta))
      return llvm::createStringError("cannot resume from '" + options.resume +
                                     "': " + llvm::toString(std::move(e)));
  } else {
    seed = options.seed.value_or(0);
    if (llvm::Error e = executor->initialize(seed, options.reinitialize))
      return e;
    callbacks = options.callbacks;
    resolvedCheckpointMonitor = options.checkpointMonitorSet;
  }

  if (!options.outDir.empty() && options.callbacks.earlyStopping &&
      options.callbacks.earlyStopping->restoreBestWeights)
    if (llvm::Error e = checkOutputFiles(options.outDir, {kEarlyStoppingBest}))
      return e;

  llvm::ArrayRef<int64_t> shape = model.getInputShape();
  DataRequest request{shape[1], shape[2],
                      shape[3], model.getNumClasses(),
                      seed,     model.isFlatInput()};
  auto loaded = loadDataset(options.data, request);
  if (!loaded)
    return loaded.takeError();
  data = std::move(*loaded);

  int64_t b = model.getBatchSize();
  validationCount =
      dlc::runtime::validationCount(data.train.size(), options.validationSplit);
  trainCount = data.train.size() - validationCount;
  if (trainCount <= 0)
    return llvm::createStringError(
        "--validation-split %g leaves no training samples",
        options.validationSplit);
  stepsPerEpoch = globalStepsPerEpoch();
  if (stepsPerEpoch == 0)
    return llvm::createStringError(
        "the %lld training samples do not fill one batch of %lld%s and "
        "--drop-remainder drops partial batches",
        (long long)trainCount, (long long)b * comm.size(),
        comm.size() > 1
            ? llvm::formatv(" ({0} ranks x {1})", comm.size(), b).str().c_str()
            : "");
  if (position.batch > 0 && (position.batch - 1) * b >= trainCount)
    return llvm::createStringError(
        "the checkpoint is at batch %lld of an epoch but this data has %lld "
        "batches per epoch",
        (long long)position.batch,
        (long long)batchesPerEpoch(trainCount, b, options.dropRemainder));

  const ModelSettings &settings = model.getSettings();
  schedule = options.schedule;
  baseRate =
      options.learningRate.value_or(settings.learningRate.value_or(0.001));
  schedule.baseRate = baseRate;
  schedule.stepsPerEpoch = stepsPerEpoch;
  schedule.epochs = options.epochs;
  if (llvm::Error e = setUpCallbacks())
    return e;

  trainBatches =
      std::make_unique<BatchAssembler>(data.train, settings.normalization);
  testBatches =
      std::make_unique<BatchAssembler>(data.test, settings.normalization);

  if (!options.outDir.empty()) {
    // The event files appear with their first point (TensorBoard.h).
    if (auto table = parseModelSummary(model.getSettingsJson(), model.getName(),
                                       model.getInputShape()))
      modelSummary = formatModelSummary(*table);
    else
      llvm::consumeError(table.takeError());
    tensorboard.open(options.outDir, options.tensorboard, modelSummary);
    if (options.tensorboard.histogramFreq > 0 && !model.getGradients())
      warn("--histogram-freq: this executable has no gradients entry point "
           "(compile it with 'dlc compile --gradients'); histograms of the "
           "weights only");
  }

  // What is about to happen, in a few lines.
  std::string banner =
      llvm::formatv("Training '{0}' on", model.getName()).str();
  // The data's description goes on its own line where both would pass 79
  // columns (a synthetic set's description alone is ~75).
  out << banner
      << (banner.size() + 1 + data.description.size() > 79 ? "\n  " : " ")
      << data.description << "\n";
  int64_t padded = trainCount % b ? b - trainCount % b : 0;
  out << llvm::formatv(
      "  {0} train / {1} validation / {2} test images; batch {3}, {4} "
      "steps per epoch{5}\n",
      trainCount, validationCount, data.test.size(), b, stepsPerEpoch,
      padded == 0 ? std::string()
      : options.dropRemainder
          ? llvm::formatv(" (last {0} images dropped)", trainCount % b).str()
          : llvm::formatv(" (last batch padded with {0} "
                          "images from the epoch's start)",
                          padded)
                .str());
  if (comm.size() > 1)
    out << llvm::formatv("  {0} ranks ({1}): global batch {0} x {2} = {3}; "
                         "rank 0 writes the files{4}\n",
                         comm.size(), comm.name(), b, comm.size() * b,
                         compiledWithSyncBatchNorm(model.getSettingsJson())
                             ? "; batch norm over the global batch"
                             : "");
  out << llvm::formatv(
      "  {0} epochs, learning rate {1}, seed {2}, threads {3}\n",
      options.epochs, schedule.describe(), seed,
      options.threads ? std::to_string(options.threads)
                      : std::string("default"));
  if (!options.resume.empty())
    out << llvm::formatv("  resuming from {0} at epoch {1}, batch {2} (step "
                         "{3})\n",
                         options.resume, position.epoch + 1, position.batch,
                         position.step);
  if (!options.outDir.empty())
    out << llvm::formatv("  writing {0}/: report.html, metrics.csv, "
                         "TensorBoard events, last/best.safetensors\n",
                         options.outDir);
  out.flush();
  return llvm::Error::success();
}

/// Checks the callbacks against the run (before the first step) and
/// applies the learning rate a resumed plateau callback had set.
llvm::Error TrainingRun::setUpCallbacks() {
  MonitorSpec &best = callbacks.checkpoint.monitor;
  if (!resolvedCheckpointMonitor) {
    best.monitored =
        validationCount ? Monitored::ValAccuracy : Monitored::Accuracy;
    resolvedCheckpointMonitor = true;
  }
  bool evaluates = validationCount > 0 && model.getEvalStep();
  auto needsValidation = [&](const MonitorSpec &m,
                             const char *flag) -> llvm::Error {
    if (!isValidationMonitor(m.monitored) || evaluates)
      return llvm::Error::success();
    return llvm::createStringError(llvm::formatv(
        "{0} {1} needs validation data, but this run has none "
        "(--validation-split {2}); monitor {3} or set --validation-split",
        flag, monitoredName(m.monitored), formatNumber(options.validationSplit),
        m.monitored == Monitored::ValLoss ? "loss" : "accuracy"));
  };
  if (llvm::Error e = needsValidation(best, "--checkpoint-monitor"))
    return e;
  if (const auto &es = callbacks.earlyStopping) {
    if (llvm::Error e =
            needsValidation(es->monitor, "--early-stopping-monitor"))
      return e;
    // Only the rank that writes files keeps (and restores) the best
    // weights; the other ranks of a data-parallel run write nothing.
    if (es->restoreBestWeights && options.outDir.empty() && comm.rank() == 0)
      return llvm::createStringError(
          "--early-stopping-restore-best-weights keeps the best weights in "
          "--out; this run writes no files");
  }
  if (const auto &r = callbacks.reduceLR) {
    if (llvm::Error e = needsValidation(r->monitor, "--reduce-lr-monitor"))
      return e;
    if (schedule.kind != LRSchedule::Constant)
      return llvm::createStringError(
          "--reduce-lr-monitor sets the learning rate as Keras's "
          "ReduceLROnPlateau does, which needs --lr-schedule constant (a "
          "warm-up is allowed)");
    if (callbacks.learningRate)
      schedule.baseRate = *callbacks.learningRate;
  }
  return llvm::Error::success();
}

/// Restores the params and state of the early stopping's best epoch (not
/// the optimizer state: Keras's set_weights).
llvm::Error TrainingRun::restoreBestWeights() {
  std::string path = outPath(kEarlyStoppingBest);
  auto file = SafeTensorsFile::read(path);
  if (!file)
    return file.takeError();
  for (auto [spec, tensor] :
       llvm::zip(model.getTensors(), executor->getTensors())) {
    if (spec.group == TensorGroup::OptState)
      continue;
    const SafeTensorsFile::Entry *entry = file->lookup(spec.name);
    if (!entry || entry->dtype != spec.dtype ||
        llvm::ArrayRef<int64_t>(entry->shape) != llvm::ArrayRef(spec.shape))
      return llvm::createStringError("'%s' does not hold '%s' of this model",
                                     path.c_str(), spec.name.c_str());
    if (llvm::Error e = tensor.upload(entry->data.data()))
      return e;
  }
  return llvm::Error::success();
}

/// The callbacks' on_epoch_end, in Keras's order of a callbacks list
/// [ModelCheckpoint, EarlyStopping, ReduceLROnPlateau]; `position` is
/// already the next epoch's.
llvm::Error TrainingRun::runCallbacks(const EpochRecord &record,
                                      bool &bestImproved) {
  int64_t epoch = record.epoch - 1; // Keras's 0-based epoch.
  CheckpointPolicy &policy = callbacks.checkpoint;
  bestImproved = false;
  if (auto value = monitoredValue(record, policy.monitor.monitored))
    bestImproved = policy.onEpochEnd(record.epoch, *value);
  bool keepWeights = false;
  if (auto &es = callbacks.earlyStopping)
    if (auto value = monitoredValue(record, es->monitor.monitored)) {
      EarlyStopping::Decision d = es->onEpochEnd(epoch, *value);
      keepWeights = d.keepWeights;
      if (d.stop) {
        stopped = true;
        std::string note = llvm::formatv(
            "epoch {0}: early stopping ({1} has not improved on {2} by more "
            "than {3} for {4} epoch{5})",
            record.epoch, monitoredName(es->monitor.monitored),
            es->best ? formatNumber(*es->best) : std::string("the baseline"),
            formatNumber(es->monitor.minDelta), es->wait,
            es->wait == 1 ? "" : "s");
        progress.println("Epoch " + note.substr(6));
        callbackNotes.push_back(note);
      }
    }
  if (auto &r = callbacks.reduceLR)
    if (auto value = monitoredValue(record, r->monitor.monitored))
      if (auto reduced = r->onEpochEnd(*value, schedule.baseRate)) {
        schedule.baseRate = *reduced;
        callbacks.learningRate = *reduced;
        std::string note =
            llvm::formatv("epoch {0}: ReduceLROnPlateau reducing learning "
                          "rate to {1}",
                          record.epoch, formatNumber(*reduced));
        progress.println("Epoch " + note.substr(6) + ".");
        callbackNotes.push_back(note);
      }
  if (keepWeights)
    if (llvm::Error e = saveCheckpoint(kEarlyStoppingBest))
      return e;
  return llvm::Error::success();
}

/// Histograms `<param>/gradient` of the loss gradients at the epoch's end
/// weights: the gradients the next step will apply (its batch, the first
/// of the next epoch's order, and its dropout and augmentation keys).
/// Needs the model's `gradients` entry point; it updates nothing, so runs
/// stay exact.
llvm::Error TrainingRun::logGradientHistograms(int64_t epoch) {
  if (!model.getGradients())
    return llvm::Error::success();
  std::vector<uint32_t> order =
      epochPermutation(seed, position.epoch, uint32_t(trainCount));
  llvm::SmallVector<uint32_t> rows;
  batchIndices(order, 0, model.getBatchSize(), rows);
  trainBatches->assemble(rows, 0, executor->getInput(), executor->getLabels());
  if (llvm::Error e = executor->gradients(position.step, int64_t(seed)))
    return e;
  for (auto [i, spec] : llvm::enumerate(model.getTensors())) {
    if (spec.group != TensorGroup::Param)
      break;
    llvm::Expected<Tensor> host = executor->getGradient(i).download();
    if (!host)
      return host.takeError();
    if (llvm::Error e = tensorboard.logHistogram(
            epoch, spec.name + "/gradient",
            {host->data<float>(), size_t(host->getNumElements())}))
      return e;
  }
  return llvm::Error::success();
}

/// The validation and test metrics of the restored weights.
llvm::Error TrainingRun::printRestoredMetrics() {
  if (!model.getEvalStep())
    return llvm::Error::success();
  std::string line = "  restored:";
  if (validationCount > 0) {
    auto m =
        evaluateSamples(*executor, *trainBatches, trainCount, validationCount);
    if (!m)
      return m.takeError();
    line += llvm::formatv(" val_loss {0:F4} val_acc {1:F2}%", m->loss,
                          100 * m->accuracy)
                .str();
  }
  if (data.test.size() > 0) {
    auto m = evaluateSamples(*executor, *testBatches, 0, data.test.size());
    if (!m)
      return m.takeError();
    line += llvm::formatv("  test_loss {0:F4} test_acc {1:F2}%", m->loss,
                          100 * m->accuracy)
                .str();
  }
  out << line << "\n";
  return llvm::Error::success();
}

bool TrainingRun::epochHasStepAt(int64_t batch) const {
  int64_t b = model.getBatchSize(), n = comm.size();
  // A partial global batch is padded from the epoch's start (batchIndices
  // wraps), as a partial batch of one process is.
  return options.dropRemainder ? (batch + n) * b <= trainCount
                               : batch * b < trainCount;
}

int64_t TrainingRun::globalStepsPerEpoch() const {
  return batchesPerEpoch(trainCount, model.getBatchSize() * comm.size(),
                         options.dropRemainder);
}

llvm::Error TrainingRun::finishEpoch(double trainSeconds,
                                     int64_t trainedImages) {
  EpochRecord record;
  record.epoch = position.epoch + 1;
  record.step = position.step;
  int64_t batchesRun = position.samples / model.getBatchSize();
  record.train = {position.lossSum / std::max<int64_t>(1, batchesRun),
                  double(position.correct) /
                      double(std::max<int64_t>(1, position.samples))};
  record.learningRate = schedule.at(std::max<int64_t>(0, position.step - 1));
  record.seconds = trainSeconds;
  record.imagesPerSecond = trainSeconds > 0 ? trainedImages / trainSeconds : 0;
  if (model.getEvalStep()) {
    if (validationCount > 0) {
      auto metric = evaluateSamples(*executor, *trainBatches, trainCount,
                                    validationCount);
      if (!metric)
        return metric.takeError();
      record.validation = *metric;
    }
    if (data.test.size() > 0) {
      auto metric =
          evaluateSamples(*executor, *testBatches, 0, data.test.size());
      if (!metric)
        return metric.takeError();
      record.test = *metric;
    }
  }
  history.push_back(record);
  progress.println(formatEpochLine(record, options.epochs));

  // Advance to the next epoch before saving: the checkpoint describes
  // where to continue.
  position.epoch += 1;
  position.batch = 0;
  position.lossSum = 0;
  position.correct = 0;
  position.samples = 0;

  bool best = false;
  if (llvm::Error e = runCallbacks(record, best))
    return e;
  if (llvm::Error e = saveCheckpoint("last.safetensors"))
    return e;
  if (best)
    if (llvm::Error e = saveCheckpoint("best.safetensors"))
      return e;
  EpochCheckpoints epochFiles = callbacks.checkpoint.epochFiles;
  if (epochFiles == EpochCheckpoints::All ||
      (epochFiles == EpochCheckpoints::Best && best))
    if (llvm::Error e = saveCheckpoint(
            llvm::formatv("epoch-{0:3}.safetensors", record.epoch).str()))
      return e;
  if (llvm::Error e = tensorboard.logEpoch(record))
    return e;
  if (tensorboard.wantsHistograms(record.epoch)) {
    for (auto [spec, tensor] :
         llvm::zip(model.getTensors(), executor->getTensors())) {
      if (spec.group == TensorGroup::OptState || spec.dtype != DType::F32)
        continue;
      llvm::Expected<Tensor> host = tensor.download();
      if (!host)
        return host.takeError();
      // Keras 3 tags a weight's histogram `<weight.path>/histogram`.
      if (llvm::Error e = tensorboard.logHistogram(
              record.epoch, spec.name + "/histogram",
              {host->data<float>(), size_t(host->getNumElements())}))
        return e;
    }
    if (llvm::Error e = logGradientHistograms(record.epoch))
      return e;
  }
  return writeReports(position.epoch == options.epochs || stopped
                          ? "finished"
                          : llvm::formatv("running: {0} of {1} epochs done",
                                          position.epoch, options.epochs)
                                .str());
}

/// Fault injection for the data-parallel tests: DLC_TEST_FAULT=R:S:kill
/// (or :stop) makes rank R send itself SIGKILL (SIGSTOP) before step S, so
/// that a test can check what the other ranks do when one dies or hangs.
static void injectFault(int rank, int64_t step) {
  static const char *spec = std::getenv("DLC_TEST_FAULT");
  if (!spec)
    return;
  int faultRank = -1;
  long long faultStep = -1;
  char action[8] = {0};
  if (std::sscanf(spec, "%d:%lld:%7s", &faultRank, &faultStep, action) != 3)
    return;
  if (faultRank != rank || faultStep != step)
    return;
  std::raise(llvm::StringRef(action) == "stop" ? SIGSTOP : SIGKILL);
}

llvm::Expected<TrainStatus> TrainingRun::runEpochs() {
  InterruptScope interruptScope;
  int64_t b = model.getBatchSize();
  int64_t ranks = comm.size();
  // Double buffering: step k reads batch buffer `ready` while the
  // prefetcher fills the other one with the batch of step k + 1 (within
  // the epoch; the first batch of an epoch is assembled before its step).
  Prefetcher prefetcher(options.prefetch);
  llvm::SmallVector<uint32_t> rows[2];
  while (position.epoch < options.epochs && !stopped) {
    // The same order on every rank (it depends on the seed and epoch only).
    std::vector<uint32_t> order =
        epochPermutation(seed, position.epoch, uint32_t(trainCount));
    // Whatever ends the epoch, no job reads `order` after it.
    auto joinPrefetch = llvm::make_scope_exit([&] { prefetcher.wait(); });
    // This rank's share of the global batch: compiled batch
    // `batch + rank`, i.e. samples [(batch + rank) b, (batch + rank + 1) b)
    // of the epoch's order, the rows a single process with batch N x b
    // would hold at [rank b, (rank + 1) b).
    auto assemble = [&, rank = comm.rank()](int64_t batch, unsigned buffer) {
      batchIndices(order, batch + rank, b, rows[buffer]);
      trainBatches->assemble(rows[buffer], 0, executor->getInput(buffer),
                             executor->getLabels(buffer));
    };
    progress.beginEpoch(position.epoch + 1, options.epochs, stepsPerEpoch,
                        position.batch / ranks);
    double seconds = 0;
    int64_t images = 0;
    unsigned ready = executor->getSelectedBatch();
    bool prefetched = false;
    // A failed upload of the prefetch job, reported after its wait().
    std::string prefetchError;
    while (epochHasStep()) {
      injectFault(comm.rank(), position.step);
      auto start = Clock::now();
      if (prefetched) {
        prefetcher.wait();
        if (!prefetchError.empty())
          return llvm::createStringError("uploading a batch: " + prefetchError);
      } else {
        assemble(position.batch, ready);
      }
      executor->selectBatch(ready);
      // Dropout and augmentation draw by the global row (rank b + i).
      setSampleOffset(int64_t(comm.rank()) * b);
      // The next step's batch, into the other buffer, while this one runs.
      int64_t nextBatch = position.batch + ranks;
      prefetched = epochHasStepAt(nextBatch);
      // Its upload starts as soon as it is assembled (on a GPU, a copy
      // alongside this step's kernels), so the step after this one starts
      // with its batch already on the device.
      if (prefetched)
        prefetcher.start([&, nextBatch, buffer = ready ^ 1] {
          assemble(nextBatch, buffer);
          if (llvm::Error e = executor->prefetchBatch(buffer))
            prefetchError = llvm::toString(std::move(e));
        });
      ready ^= 1;
      float lr = float(schedule.at(position.step));
      llvm::Expected<StepResult> stepped =
          executor->train(position.step, int64_t(seed), lr);
      if (!stepped)
        return stepped.takeError();
      StepResult result = *stepped;
      // A step compiled without dlc.all_reduce never calls the runtime.
      if (ranks > 1 && getAllReduceCallCount() == 0)
        return llvm::createStringError(
            "this executable was compiled without data parallelism, so its "
            "%lld ranks would train apart; compile it with 'dlc compile "
            "--data-parallel' (or run 'dlc train --ranks N')",
            (long long)ranks);
      // The global batch's loss (sum of the ranks' mean losses), correct
      // count and Ctrl-C, the same on every rank, so that all of them stop
      // together.
      double reduced[3] = {double(result.loss), double(result.correct),
                           double(interrupted)};
      if (ranks > 1)
        if (llvm::Error e = comm.allReduce(reduced, 3, Reduction::Sum))
          return llvm::createStringError("rank %d of %lld: %s", comm.rank(),
                                         (long long)ranks,
                                         llvm::toString(std::move(e)).c_str());
      result.loss = float(reduced[0] / double(ranks));
      if (reduced[2] > 0)
        interrupted = 1;
      seconds += std::chrono::duration<double>(Clock::now() - start).count();
      images += b * ranks;

      if (!std::isfinite(result.loss)) {
        // The tensors just written came from a step that saw a non-finite
        // loss; nothing is saved, so the last checkpoint stays good.
        progress.clear();
        err << llvm::formatv(
            "error: the loss is {0} at step {1} (epoch {2}, batch {3}); "
            "stopping. ",
            std::isnan(result.loss) ? "NaN" : "infinite", position.step + 1,
            position.epoch + 1, position.batch + 1);
        if (lastCheckpoint.empty())
          err << "No checkpoint was written before it.";
        else
          err << "The last good checkpoint is " << lastCheckpoint << ".";
        err << " Try a lower --lr (now " << formatNumber(lr)
            << ") or a warm-up (--warmup-epochs).\n";
        if (llvm::Error e = writeReports(
                llvm::formatv("stopped: the loss became {0} at step {1}",
                              std::isnan(result.loss) ? "NaN" : "infinite",
                              position.step + 1)
                    .str()))
          return std::move(e);
        return TrainStatus::Diverged;
      }

      position.step += 1;
      position.batch += ranks;
      position.lossSum += ranks > 1 ? reduced[0] : double(result.loss);
      position.correct += int64_t(reduced[1]);
      position.samples += b * ranks;
      progress.update(position.batch / ranks - 1, position.step,
                      position.lossSum / (position.samples / b),
                      double(position.correct) / position.samples,
                      seconds > 0 ? images / seconds : 0);
      if (llvm::Error e = tensorboard.logBatch(
              position.step, position.lossSum / (position.samples / b),
              double(position.correct) / position.samples, lr))
        return std::move(e);

      bool periodic = options.checkpointEvery > 0 &&
                      position.step % options.checkpointEvery == 0;
      if (interrupted || periodic) {
        if (llvm::Error e = saveCheckpoint("last.safetensors"))
          return std::move(e);
      }
      if (interrupted) {
        progress.clear();
        out << llvm::formatv("Interrupted at step {0} (epoch {1}, batch "
                             "{2}/{3}).",
                             position.step, position.epoch + 1, position.batch,
                             stepsPerEpoch);
        if (!lastCheckpoint.empty())
          out << " Saved " << lastCheckpoint << "; continue with --resume "
              << lastCheckpoint;
        out << "\n";
        out.flush();
        if (llvm::Error e = writeReports(
                llvm::formatv("interrupted at step {0}", position.step).str()))
          return std::move(e);
        return TrainStatus::Interrupted;
      }
    }
    prefetcher.wait();
    if (llvm::Error e = finishEpoch(seconds, images))
      return std::move(e);
  }
  return TrainStatus::Finished;
}

llvm::Expected<TrainStatus> TrainingRun::run() {
  // A run that fails before its first step leaves no empty --out behind.
  bool outExisted = options.outDir.empty() || pathExists(options.outDir);
  if (llvm::Error e = setUp()) {
    if (!outExisted)
      llvm::sys::fs::remove(options.outDir); // Only if still empty.
    return std::move(e);
  }
  if (stopped)
    out << llvm::formatv("Nothing to train: early stopping ended this run at "
                         "epoch {0}.\n",
                         callbacks.earlyStopping->stoppedEpoch + 1);
  else if (position.epoch >= options.epochs)
    out << llvm::formatv("Nothing to train: the checkpoint has finished {0} "
                         "of --epochs {1}.\n",
                         position.epoch, options.epochs);
  bool trained = position.epoch < options.epochs && !stopped;
  auto status = runEpochs();
  if (!status)
    return status;
  // Keras restores the best weights at the end of training, stopped early
  // or not; last.safetensors then holds them (its position stays the end).
  if (const auto &es = callbacks.earlyStopping;
      trained && *status == TrainStatus::Finished && es &&
      es->restoreBestWeights && es->bestEpoch >= 0 && !options.outDir.empty()) {
    if (llvm::Error e = restoreBestWeights())
      return std::move(e);
    out << llvm::formatv("Restoring model weights from the end of the best "
                         "epoch: {0}.\n",
                         es->bestEpoch + 1);
    callbackNotes.push_back(
        llvm::formatv("restored the weights of epoch {0}", es->bestEpoch + 1)
            .str());
    if (llvm::Error e = printRestoredMetrics())
      return std::move(e);
    if (llvm::Error e = saveCheckpoint("last.safetensors"))
      return std::move(e);
    if (llvm::Error e = writeReports("finished"))
      return std::move(e);
  }
  if (*status == TrainStatus::Finished && !history.empty()) {
    out << "\n";
    printEpochTable(out, history);
    if (const CheckpointPolicy &policy = callbacks.checkpoint; policy.best)
      out << llvm::formatv(
          "Best {0} {1} at epoch {2} (best.safetensors).\n",
          describeMonitored(policy.monitor.monitored),
          formatMonitored(policy.monitor.monitored, *policy.best),
          policy.bestEpoch);
    if (!options.outDir.empty())
      out << llvm::formatv("Report: {0}\n", outPath("report.html"));
  }
  out.flush();
  return status;
}

llvm::Expected<TrainStatus> dlc::runtime::train(const CompiledModel &model,
                                                Device &device,
                                                const TrainOptions &options,
                                                llvm::raw_ostream &out,
                                                llvm::raw_ostream &err) {
  TrainingRun run(model, device, options, out, err);
  return run.run();
}
