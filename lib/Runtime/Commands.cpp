//===- Commands.cpp - The commands of compiled training executables ------===//
//
// train, evaluate, predict and info on the options CommandLine.h parsed,
// and dlcRuntimeMain, the executable's entry point. Command-line mistakes
// exit with status 2 and a hint to --help, other errors with status 1.
//
//===----------------------------------------------------------------------===//

#include "CommandLine.h"
#include "Export.h"

#include "dlc/Runtime/Analysis.h"
#include "dlc/Runtime/Checkpoint.h"
#include "dlc/Runtime/CheckpointMetadata.h"
#include "dlc/Runtime/Communicator.h"
#include "dlc/Runtime/Data/Batcher.h"
#include "dlc/Runtime/Data/Dataset.h"
#include "dlc/Runtime/Data/Idx.h"
#include "dlc/Runtime/Device.h"
#include "dlc/Runtime/Profile.h"
#include "dlc/Runtime/Random.h"
#include "dlc/Runtime/Runtime.h"
#include "dlc/Runtime/Summary.h"
#include "dlc/Runtime/Support.h"
#include "dlc/Runtime/Trainer.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/Path.h"

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <malloc.h>
#include <omp.h>

using namespace dlc::runtime;
using namespace dlc::runtime::cli;

namespace {

class Cli {
public:
  /// `device` is null when the model's device cannot be used, for the
  /// reason `deviceProblem`.
  Cli(llvm::StringRef program, const CompiledModel &model, Device *device,
      llvm::StringRef deviceProblem, llvm::raw_ostream &out,
      llvm::raw_ostream &err, bool terminal)
      : program(program), model(model), device(device),
        deviceProblem(deviceProblem), out(out), err(err), terminal(terminal) {}

  int run(llvm::ArrayRef<std::string> args);

private:
  void printHelp(std::optional<Command> command) {
    cli::printHelp(out, program, modelSummary(), model.getName(), command);
  }
  std::string modelSummary() const;

  // Typed option readers: record a UsageError on bad values.
  int64_t integer(const ParsedArgs &a, llvm::StringRef name, int64_t def,
                  int64_t min) {
    return readInteger(a, name, def, min, usage);
  }
  double number(const ParsedArgs &a, llvm::StringRef name, double def,
                double min, double max = INFINITY) {
    return readNumber(a, name, def, min, max, usage);
  }

  llvm::Error checkCommonOptions(const ParsedArgs &a);
  void readCallbackOptions(const ParsedArgs &a, TrainOptions &o);
  std::optional<MonitorSpec> monitorOptions(const ParsedArgs &a,
                                            llvm::StringRef prefix,
                                            MonitorSpec spec,
                                            bool withMinDelta);
  std::string dataSpec(const ParsedArgs &a) const;
  /// --validation-split and --seed, defaulting to `saved`'s (a checkpoint's
  /// run, so that the same samples are held out).
  std::pair<double, uint64_t> splitAndSeed(const ParsedArgs &a,
                                           const CheckpointInfo &saved);
  /// The data of `spec` in the model's input shape (`seed`: synthetic data).
  llvm::Expected<DataSplits> loadModelData(llvm::StringRef spec,
                                           uint64_t seed) const;
  void applyThreads(int threads);

  int train(const ParsedArgs &a);
  int evaluate(const ParsedArgs &a);
  int predict(const ParsedArgs &a);
  int summary();
  int exportWeights(const ParsedArgs &a);
  int gradients(const ParsedArgs &a);

  int fail(llvm::Error error) {
    err << "error: " << llvm::toString(std::move(error)) << "\n";
    return ExitError;
  }

  llvm::StringRef program;
  const CompiledModel &model;
  Device *device;
  llvm::StringRef deviceProblem;
  llvm::raw_ostream &out, &err;
  bool terminal;
  std::optional<UsageError> usage;
};

} // namespace

std::string Cli::modelSummary() const {
  llvm::ArrayRef<int64_t> s = model.getInputShape();
  std::string summary =
      llvm::formatv("model '{0}': batch {1}, input {2}x{3}x{4}",
                    model.getName(), s[0], s[1], s[2], s[3]);
  if (model.getNumClasses())
    summary += llvm::formatv(", {0} classes", model.getNumClasses()).str();
  if (!model.getSettings().optimizer.empty())
    summary += ", optimizer " + model.getSettings().optimizer;
  return summary;
}

llvm::Error Cli::checkCommonOptions(const ParsedArgs &a) {
  if (a.has("batch-size")) {
    int64_t b = integer(a, "batch-size", 0, 1);
    if (!usage && b != model.getBatchSize())
      return llvm::createStringError(llvm::formatv(
          "--batch-size {0}: this executable was compiled for batch size "
          "{1} (the batch is a static shape of the compiled step); "
          "recompile with batch_size {0} to change it. --batch-size is per "
          "process: over N ranks (mpirun -np N) the global batch is N x {1}",
          b, model.getBatchSize()));
  }
  return llvm::Error::success();
}

std::string Cli::dataSpec(const ParsedArgs &a) const {
  if (a.has("data"))
    return a.get("data").str();
  return model.getSettings().dataset;
}

std::pair<double, uint64_t> Cli::splitAndSeed(const ParsedArgs &a,
                                              const CheckpointInfo &saved) {
  double split = number(a, "validation-split", saved.validationSplit, 0,
                        kMaxValidationSplit);
  auto seed = static_cast<uint64_t>(
      integer(a, "seed", static_cast<int64_t>(saved.seed), 0));
  return {split, seed};
}

llvm::Expected<DataSplits> Cli::loadModelData(llvm::StringRef spec,
                                              uint64_t seed) const {
  llvm::ArrayRef<int64_t> shape = model.getInputShape();
  return loadDataset(spec, {shape[1], shape[2], shape[3], model.getNumClasses(),
                            seed, model.isFlatInput()});
}

void Cli::applyThreads(int threads) {
  if (threads <= 0)
    return;
  // The compiled code's parallel loops are OpenMP worksharing loops (see
  // ModelABI.h); without --threads, libomp uses every core (or
  // OMP_NUM_THREADS).
  omp_set_num_threads(threads);
}

/// The --PREFIX-monitor, --PREFIX-mode and --PREFIX-min-delta of a
/// callback over `spec`'s defaults; none when no --PREFIX-* flag is given.
std::optional<MonitorSpec> Cli::monitorOptions(const ParsedArgs &a,
                                               llvm::StringRef prefix,
                                               MonitorSpec spec,
                                               bool withMinDelta) {
  bool any = llvm::any_of(a.values, [&](const auto &entry) {
    return entry.getKey().starts_with(prefix);
  });
  if (!any)
    return std::nullopt;
  std::string monitor = (prefix + "monitor").str();
  if (a.has(monitor)) {
    if (auto m = parseMonitored(a.get(monitor)))
      spec.monitored = *m;
    else if (!usage)
      usage = UsageError{"--" + monitor + ": " + llvm::toString(m.takeError())};
    else
      llvm::consumeError(m.takeError());
  }
  std::string mode = (prefix + "mode").str();
  if (a.has(mode)) {
    if (auto m = parseMonitorMode(a.get(mode)))
      spec.mode = *m;
    else if (!usage)
      usage = UsageError{"--" + mode + ": " + llvm::toString(m.takeError())};
    else
      llvm::consumeError(m.takeError());
  }
  if (withMinDelta)
    spec.minDelta = number(a, (prefix + "min-delta").str(), spec.minDelta, 0);
  return spec;
}

/// --early-stopping-*, --reduce-lr-*, --checkpoint-monitor/mode and
/// --epoch-checkpoints (Callbacks.h), with Keras's defaults.
void Cli::readCallbackOptions(const ParsedArgs &a, TrainOptions &o) {
  Callbacks &c = o.callbacks;
  if (auto spec = monitorOptions(a, "early-stopping-", MonitorSpec{}, true)) {
    EarlyStopping &es = c.earlyStopping.emplace();
    es.monitor = *spec;
    es.patience = integer(a, "early-stopping-patience", 0, 0);
    if (a.has("early-stopping-baseline"))
      es.baseline = number(a, "early-stopping-baseline", 0, -HUGE_VAL);
    es.restoreBestWeights = a.has("early-stopping-restore-best-weights");
    es.startFromEpoch = integer(a, "early-stopping-start-from-epoch", 0, 0);
    o.earlyStoppingSet = true;
  }
  if (auto spec =
          monitorOptions(a, "reduce-lr-", ReduceLROnPlateau().monitor, true)) {
    ReduceLROnPlateau &r = c.reduceLR.emplace();
    r.monitor = *spec;
    r.factor = number(a, "reduce-lr-factor", 0.1, 0, 1);
    if (r.factor >= 1 && !usage)
      usage = UsageError{"--reduce-lr-factor must be below 1 (Keras's "
                         "ReduceLROnPlateau does not support a factor >= "
                         "1.0), not '" +
                         a.get("reduce-lr-factor").str() + "'"};
    r.patience = integer(a, "reduce-lr-patience", 10, 0);
    r.cooldown = integer(a, "reduce-lr-cooldown", 0, 0);
    r.minLr = number(a, "reduce-lr-min-lr", 0, 0);
    o.reduceLRSet = true;
  }
  o.checkpointMonitorSet = a.has("checkpoint-monitor");
  o.checkpointPolicySet = o.checkpointMonitorSet || a.has("checkpoint-mode") ||
                          a.has("epoch-checkpoints");
  if (auto spec = monitorOptions(a, "checkpoint-", c.checkpoint.monitor, false))
    c.checkpoint.monitor = *spec;
  if (a.has("epoch-checkpoints")) {
    if (auto which = parseEpochCheckpoints(a.get("epoch-checkpoints")))
      c.checkpoint.epochFiles = *which;
    else if (!usage)
      usage = UsageError{"--epoch-checkpoints: " +
                         llvm::toString(which.takeError())};
    else
      llvm::consumeError(which.takeError());
  }
}

/// runs/<model>, or runs/<model>-N for the first N that is unused.
static std::string defaultOutDir(llvm::StringRef modelName) {
  std::string base = ("runs/" + modelName).str();
  for (int n = 1;; ++n) {
    std::string dir = n == 1 ? base : base + "-" + std::to_string(n);
    if (!pathExists(dir))
      return dir;
  }
}

int Cli::train(const ParsedArgs &a) {
  TrainOptions o;
  const ModelSettings &settings = model.getSettings();
  o.data = dataSpec(a);
  o.epochs = integer(a, "epochs", settings.epochs.value_or(10), 0);
  if (a.has("lr"))
    o.learningRate = number(a, "lr", 0.001, 0);
  auto kind = parseScheduleKind(a.get("lr-schedule", "constant"));
  if (!kind) {
    usage = UsageError{llvm::toString(kind.takeError())};
    return ExitUsage;
  }
  o.schedule.kind = *kind;
  o.schedule.warmupEpochs = number(a, "warmup-epochs", 0, 0);
  o.schedule.decayEpochs =
      number(a, "lr-decay-epochs", std::max<int64_t>(1, o.epochs / 3), 1e-9);
  o.schedule.decayFactor = number(a, "lr-decay-factor", 0.1, 0);
  o.schedule.minRate = number(a, "min-lr", 0, 0);
  o.validationSplit = number(a, "validation-split", 0.1, 0, 0.99);
  if (a.has("seed"))
    o.seed = static_cast<uint64_t>(integer(a, "seed", 0, 0));
  o.threads = static_cast<int>(integer(a, "threads", 0, 0));
  o.checkpointEvery = integer(a, "checkpoint-every", 0, 0);
  o.dropRemainder = a.has("drop-remainder");
  o.logEvery = integer(a, "log-every", 0, 1);
  auto profileTop = static_cast<size_t>(integer(a, "profile-top", 30, 0));
  o.resume = a.get("resume").str();
  o.reinitialize = a.has("reinitialize");
  o.prefetch = !a.has("no-prefetch");
  if (a.has("tensorboard-update-freq")) {
    auto freq = parseUpdateFreq(a.get("tensorboard-update-freq"));
    if (!freq) {
      usage = UsageError{llvm::toString(freq.takeError())};
      return ExitUsage;
    }
    o.tensorboard.updateFreq = *freq;
  }
  o.tensorboard.histogramFreq = integer(a, "histogram-freq", 0, 0);
  if (a.has("class-names")) {
    auto names = parseClassNames(a.get("class-names"));
    if (!names)
      return fail(names.takeError());
    if (model.getNumClasses() &&
        int64_t(names->size()) != model.getNumClasses())
      return fail(llvm::createStringError(llvm::formatv(
          "--class-names gives {0} names but the model has {1} classes",
          names->size(), model.getNumClasses())));
    o.classNames = std::move(*names);
  }
  readCallbackOptions(a, o);
  llvm::StringRef progress = a.get("progress", "auto");
  if (progress == "auto")
    o.progress = terminal ? ProgressReporter::Style::Bar
                          : ProgressReporter::Style::Lines;
  else if (progress == "bar")
    o.progress = ProgressReporter::Style::Bar;
  else if (progress == "lines")
    o.progress = ProgressReporter::Style::Lines;
  else if (progress == "none")
    o.progress = ProgressReporter::Style::Quiet;
  else if (!usage)
    usage = UsageError{"--progress expects auto, bar, lines or none, not '" +
                       progress.str() + "'"};
  if (usage)
    return ExitUsage;

  if (llvm::Error e = checkCommonOptions(a))
    return fail(std::move(e));
  if (usage)
    return ExitUsage;
  if (a.has("optimizer")) {
    std::string wanted = a.get("optimizer").lower();
    if (wanted != settings.optimizer)
      return fail(llvm::createStringError(llvm::formatv(
          "--optimizer {0}: the optimizer is compiled into this executable "
          "({1}); to train with {0}, set it in the model file and run "
          "'dlc compile' again. The learning rate and its schedule can be "
          "changed here (--lr, --lr-schedule).",
          wanted,
          settings.optimizer.empty() ? "see 'info'" : settings.optimizer)));
  }
  // On --resume, what is not given continues the checkpoint's run.
  if (!o.resume.empty()) {
    if (!a.has("data"))
      o.data.clear();
    o.epochsSet = a.has("epochs");
    o.validationSplitSet = a.has("validation-split");
    o.dropRemainderSet = a.has("drop-remainder");
    o.scheduleSet = llvm::any_of(
        std::initializer_list<const char *>{"lr", "lr-schedule",
                                            "warmup-epochs", "lr-decay-epochs",
                                            "lr-decay-factor", "min-lr"},
        [&](const char *flag) { return a.has(flag); });
  }
  if (o.data.empty() && o.resume.empty()) {
    usage = UsageError{"--data is required (fashion-mnist, mnist, cifar10, "
                       "synthetic or a directory)"};
    return ExitUsage;
  }
  if (a.has("out") && a.get("out").empty()) {
    usage = UsageError{"--out needs a directory (it is empty)"};
    return ExitUsage;
  }
  if (a.has("out")) {
    o.outDir = a.get("out").str();
  } else if (!o.resume.empty()) {
    llvm::SmallString<256> dir(o.resume);
    llvm::sys::path::remove_filename(dir);
    o.outDir = dir.empty() ? "." : dir.str().str();
  } else {
    o.outDir = defaultOutDir(model.getName());
  }
  if (!o.resume.empty() && !pathExists(o.resume))
    return fail(llvm::createStringError("--resume: no such checkpoint '%s'",
                                        o.resume.c_str()));
  applyThreads(o.threads);
  if (a.has("profile") && !hasKernelProfile())
    return fail(printKernelProfile(out));
  if (a.has("profile-top") && !a.has("profile"))
    return fail(
        llvm::createStringError("--profile-top only applies with --profile"));

  // Synchronized batch norm is compiled into the step: the flag only
  // checks that it was.
  if (a.has("sync-batch-norm") &&
      !compiledWithSyncBatchNorm(model.getSettingsJson()))
    return fail(llvm::createStringError(
        "--sync-batch-norm: this executable was compiled without "
        "synchronized batch norm, so each rank would normalize with its own "
        "batch's statistics; compile it with 'dlc compile --sync-batch-norm' "
        "(or run 'dlc train --sync-batch-norm')"));
  if (!device)
    return fail(llvm::createStringError(deviceProblem));
  // Started by mpirun: join the job. Only rank 0 prints and writes files.
  std::unique_ptr<Communicator> communicator;
  if (launchedByMPI()) {
    auto created = createMPICommunicator();
    if (!created)
      return fail(created.takeError());
    communicator = std::move(*created);
    communicator->setTimeout(
        number(a, "collective-timeout", communicator->getTimeout(), 0.001));
    if (usage)
      return ExitUsage;
    o.communicator = communicator.get();
    if (communicator->rank() != 0) {
      o.outDir.clear();
      o.progress = ProgressReporter::Style::Quiet;
    }
  }
  setCurrentCommunicator(communicator.get());
  bool quiet = communicator && communicator->rank() != 0;
  auto status =
      dlc::runtime::train(model, *device, o, quiet ? llvm::nulls() : out, err);
  setCurrentCommunicator(nullptr);
  if (!status)
    return fail(status.takeError());
  if (a.has("all-reduce-profile") && !quiet)
    printAllReduceProfile(out, getAllReduceProfile());
  if (a.has("profile"))
    if (llvm::Error e = printKernelProfile(out, profileTop))
      return fail(std::move(e));
  switch (*status) {
  case TrainStatus::Finished:
    return ExitSuccess;
  case TrainStatus::Interrupted:
    return ExitInterrupted;
  case TrainStatus::Diverged:
    return ExitDiverged;
  }
  return ExitError;
}

/// An executor on `device` with the tensors of --checkpoint; `info` gets
/// the checkpoint's validated metadata.
static llvm::Expected<Executor> loadForInference(const ParsedArgs &a,
                                                 const CompiledModel &model,
                                                 Device &device,
                                                 CheckpointInfo &info) {
  if (!a.has("checkpoint"))
    return llvm::createStringError(
        "--checkpoint CKPT is required (e.g. runs/<model>/best.safetensors)");
  auto executor = Executor::create(model, device);
  if (!executor)
    return executor.takeError();
  auto loaded =
      loadCheckpoint(a.get("checkpoint"), model, executor->getTensors(),
                     CheckpointUse::Inference);
  if (!loaded)
    return loaded.takeError();
  auto read = readCheckpointInfo(*loaded, a.get("checkpoint"), model,
                                 CheckpointUse::Inference);
  if (!read)
    return read.takeError();
  info = std::move(*read);
  return executor;
}

int Cli::evaluate(const ParsedArgs &a) {
  if (llvm::Error e = checkCommonOptions(a))
    return fail(std::move(e));
  if (usage)
    return ExitUsage;
  if (!model.getEvalStep())
    return fail(llvm::createStringError("model '%s' has no eval_step",
                                        model.getName().str().c_str()));
  std::string spec = dataSpec(a);
  if (spec.empty()) {
    usage = UsageError{"--data is required"};
    return ExitUsage;
  }
  if (!device)
    return fail(llvm::createStringError(deviceProblem));
  CheckpointInfo saved;
  auto executor = loadForInference(a, model, *device, saved);
  if (!executor)
    return fail(executor.takeError());
  auto [split, seed] = splitAndSeed(a, saved);
  applyThreads(static_cast<int>(integer(a, "threads", 0, 0)));
  if (usage)
    return ExitUsage;

  auto data = loadModelData(spec, seed);
  if (!data)
    return fail(data.takeError());
  const Normalization &norm = model.getSettings().normalization;
  BatchAssembler trainBatches(data->train, norm), testBatches(data->test, norm);
  int64_t validation = validationCount(data->train.size(), split);
  out << "Evaluating " << a.get("checkpoint") << " on " << data->description
      << "\n";
  auto report = [&](const char *name, const BatchAssembler &batches,
                    int64_t offset, int64_t count) -> llvm::Error {
    auto start = std::chrono::steady_clock::now();
    auto metric = evaluateSamples(*executor, batches, offset, count);
    if (!metric)
      return metric.takeError();
    const Metric &m = *metric;
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
            .count();
    out << llvm::formatv("  {0,-10} loss {1:F4}  accuracy {2:F2}%  ({3} "
                         "images, {4:F0} images/s)\n",
                         name, m.loss, 100 * m.accuracy, count,
                         seconds > 0 ? count / seconds : 0);
    return llvm::Error::success();
  };
  if (validation > 0)
    if (llvm::Error e = report("validation", trainBatches,
                               data->train.size() - validation, validation))
      return fail(std::move(e));
  if (data->test.size() > 0)
    if (llvm::Error e = report("test", testBatches, 0, data->test.size()))
      return fail(std::move(e));
  out.flush();
  return ExitSuccess;
}

int Cli::predict(const ParsedArgs &a) {
  if (llvm::Error e = checkCommonOptions(a))
    return fail(std::move(e));
  int64_t top = integer(a, "top", 3, 1);
  int64_t count = integer(a, "count", -1, 1);
  bool raw = a.has("raw");
  applyThreads(static_cast<int>(integer(a, "threads", 0, 0)));
  if (usage)
    return ExitUsage;
  if (!a.has("input")) {
    usage = UsageError{"--input FILE is required (an IDX image file)"};
    return ExitUsage;
  }
  if (!model.getPredict())
    return fail(llvm::createStringError("model '%s' has no predict function",
                                        model.getName().str().c_str()));
  if (!device)
    return fail(llvm::createStringError(deviceProblem));
  CheckpointInfo saved;
  auto executor = loadForInference(a, model, *device, saved);
  if (!executor)
    return fail(executor.takeError());
  auto images = readIdxImages(a.get("input"));
  if (!images)
    return fail(images.takeError());
  llvm::ArrayRef<int64_t> shape = model.getInputShape();
  if (llvm::Error e = checkDataset(
          *images, {shape[1], shape[2], shape[3], 0, 0, model.isFlatInput()}))
    return fail(std::move(e));

  int64_t n = count < 0 ? images->size() : std::min(count, images->size());
  int64_t b = model.getBatchSize(), k = model.getNumClasses();
  top = std::min(top, k);
  const std::vector<std::string> &names = model.getSettings().classNames;
  BatchAssembler batches(*images, model.getSettings().normalization);
  llvm::SmallVector<uint32_t> rows(b);
  for (int64_t first = 0; first < n; first += b) {
    // A partial last batch is padded with its first image; padded rows are
    // not printed (predict's rows are independent).
    for (int64_t r = 0; r < b; ++r)
      rows[r] = static_cast<uint32_t>(first + (first + r < n ? r : 0));
    batches.assemble(rows, 0, executor->getInput(), executor->getLabels());
    llvm::Expected<const float *> predicted = executor->predict();
    if (!predicted)
      return fail(predicted.takeError());
    const float *logits = *predicted;
    for (int64_t r = 0; r < b && first + r < n; ++r) {
      const float *row = logits + r * k;
      if (raw) {
        out << first + r << ":";
        for (int64_t c = 0; c < k; ++c)
          out << llvm::format(" %.9g", row[c]);
        out << "\n";
        continue;
      }
      // A model ending in its own softmax outputs the probabilities.
      bool probabilities = model.getSettings().outputIsProbabilities;
      double maxLogit = *std::max_element(row, row + k), sum = 0;
      for (int64_t c = 0; c < k; ++c)
        sum += std::exp(double(row[c]) - maxLogit);
      std::vector<int64_t> order(k);
      std::iota(order.begin(), order.end(), 0);
      std::partial_sort(order.begin(), order.begin() + top, order.end(),
                        [&](int64_t x, int64_t y) { return row[x] > row[y]; });
      out << first + r << ":";
      for (int64_t t = 0; t < top; ++t) {
        int64_t c = order[t];
        double p = probabilities ? double(row[c])
                                 : std::exp(double(row[c]) - maxLogit) / sum;
        out << llvm::formatv(" {0}{1} ({2:F2}%)", c,
                             size_t(c) < names.size() ? " " + names[c] : "",
                             100 * p)
            << (t + 1 < top ? "," : "");
      }
      out << "\n";
    }
  }
  out.flush();
  return ExitSuccess;
}

int Cli::summary() {
  auto table = parseModelSummary(model.getSettingsJson(), model.getName(),
                                 model.getInputShape());
  if (!table)
    return fail(table.takeError());
  out << formatModelSummary(*table);
  return ExitSuccess;
}

/// `EXE export --checkpoint C --format keras|torch -o OUT` (Export.h).
int Cli::exportWeights(const ParsedArgs &a) {
  std::string format = a.get("format").str();
  if (format == "onnx")
    return fail(llvm::createStringError(
        "--format onnx: the executable holds no inference graph; run `dlc "
        "export MODEL --checkpoint C -o M.onnx`"));
  if (format.empty() || (format != "keras" && format != "torch")) {
    usage = UsageError{format.empty()
                           ? "--format keras or --format torch is required"
                           : "--format must be keras or torch, got '" + format +
                                 "'"};
    return ExitUsage;
  }
  if (!a.has("output")) {
    usage = UsageError{program.str() + " export needs -o " +
                       (format == "torch" ? "DIR" : "FILE")};
    return ExitUsage;
  }
  if (!a.has("checkpoint"))
    return fail(llvm::createStringError(
        "--checkpoint CKPT is required (e.g. runs/<model>/best.safetensors)"));
  return runExport(program, model,
                   {a.get("checkpoint").str(), format, a.get("output").str()},
                   out, err);
}

/// `EXE gradients --data SPEC [--checkpoint C] [--seed N] -o FILE`: the loss
/// gradients of every parameter that the next training step would apply,
/// without updating anything. Without --checkpoint that is train's first
/// step from the initial weights of --seed (epoch 0's first batch, step 0's
/// dropout and augmentation keys); with one, the step that resuming from it
/// would run (its weights, position, and by default its seed and
/// validation split). The file (safetensors) holds `<param>/gradient` for
/// each parameter, and the inference forward pass of the same batch:
/// `logits` (predict) and `loss` (eval_step). scripts/gpu-check.sh
/// compares the CUDA target with the CPU op by op through it.
int Cli::gradients(const ParsedArgs &a) {
  if (llvm::Error e = checkCommonOptions(a))
    return fail(std::move(e));
  applyThreads(static_cast<int>(integer(a, "threads", 0, 0)));
  if (usage)
    return ExitUsage;
  if (!a.has("output")) {
    usage = UsageError{program.str() + " gradients needs -o FILE"};
    return ExitUsage;
  }
  std::string spec = dataSpec(a);
  if (spec.empty()) {
    usage = UsageError{"--data is required"};
    return ExitUsage;
  }
  if (!model.getGradients())
    return fail(llvm::createStringError(
        "this executable has no gradients entry point: compile the model "
        "with 'dlc compile --gradients'"));
  if (!device)
    return fail(llvm::createStringError(deviceProblem));
  // Where the next step is: the checkpoint's position, else the start.
  CheckpointInfo saved;
  saved.validationSplit = 0.1;
  llvm::Expected<Executor> executor = [&]() -> llvm::Expected<Executor> {
    if (a.has("checkpoint"))
      return loadForInference(a, model, *device, saved);
    auto created = Executor::create(model, *device);
    if (!created)
      return created.takeError();
    saved.seed = static_cast<uint64_t>(integer(a, "seed", 0, 0));
    if (llvm::Error e = created->initialize(saved.seed, /*reinitialize=*/false))
      return std::move(e);
    return created;
  }();
  if (!executor)
    return fail(executor.takeError());
  auto [split, seed] = splitAndSeed(a, saved);
  if (usage)
    return ExitUsage;

  auto data = loadModelData(spec, seed);
  if (!data)
    return fail(data.takeError());
  int64_t trainCount =
      data->train.size() - validationCount(data->train.size(), split);
  if (trainCount <= 0)
    return fail(llvm::createStringError(
        "--validation-split %g leaves no training samples", split));
  BatchAssembler batches(data->train, model.getSettings().normalization);
  llvm::SmallVector<uint32_t> rows;
  batchIndices(epochPermutation(seed, saved.epoch, uint32_t(trainCount)),
               saved.batch, model.getBatchSize(), rows);
  batches.assemble(rows, 0, executor->getInput(), executor->getLabels());

  std::vector<Tensor> tensors;
  std::vector<std::string> names;
  if (llvm::Error e = executor->gradients(saved.step, int64_t(seed)))
    return fail(std::move(e));
  for (auto [i, param] : llvm::enumerate(model.getTensors())) {
    if (param.group != TensorGroup::Param)
      break; // Params come first.
    llvm::Expected<Tensor> host = executor->getGradient(i).download();
    if (!host)
      return fail(host.takeError());
    tensors.push_back(std::move(*host));
    names.push_back(param.name + "/gradient");
  }
  // The inference forward pass of the same batch (no dropout, no
  // augmentation, batch norm's moving statistics).
  if (model.getPredict() && model.getNumClasses()) {
    llvm::Expected<const float *> logits = executor->predict();
    if (!logits)
      return fail(logits.takeError());
    Tensor copy(DType::F32, {model.getBatchSize(), model.getNumClasses()});
    std::memcpy(copy.data(), *logits, copy.getSizeInBytes());
    tensors.push_back(std::move(copy));
    names.push_back("logits");
  }
  if (model.getEvalStep()) {
    llvm::Expected<StepResult> evaluated = executor->evaluate();
    if (!evaluated)
      return fail(evaluated.takeError());
    Tensor loss(DType::F32, {});
    *loss.data<float>() = evaluated->loss;
    tensors.push_back(std::move(loss));
    names.push_back("loss");
  }
  std::vector<std::pair<std::string, const Tensor *>> named;
  for (auto [name, tensor] : llvm::zip(names, tensors))
    named.push_back({name, &tensor});
  Metadata metadata{
      {"content", "gradients"},
      {"model", model.getName().str()},
      {"seed", std::to_string(seed)},
      {"step", std::to_string(saved.step)},
      {"weights", a.has("checkpoint") ? a.get("checkpoint").str() : "initial"}};
  if (llvm::Error e = writeFileAtomically(
          a.get("output"), serializeSafeTensors(named, metadata)))
    return fail(std::move(e));
  out << "wrote " << named.size() << " tensors to " << a.get("output") << "\n";
  out.flush();
  return ExitSuccess;
}

int Cli::run(llvm::ArrayRef<std::string> args) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h" ||
      args[0] == "help") {
    printHelp(std::nullopt);
    return args.empty() ? ExitUsage : ExitSuccess;
  }
  ParsedArgs parsed;
  usage = parseCommandLine(args, parsed);
  if (!usage && parsed.has("help")) {
    printHelp(parsed.command);
    return ExitSuccess;
  }
  int status = ExitUsage;
  if (!usage) {
    switch (parsed.command) {
    case Train:
      status = train(parsed);
      break;
    case Evaluate:
      status = evaluate(parsed);
      break;
    case Predict:
      status = predict(parsed);
      break;
    case Info:
      out << model.describe();
      status = ExitSuccess;
      break;
    case Summary:
      status = summary();
      break;
    case Export:
      status = exportWeights(parsed);
      break;
    case Gradients:
      status = gradients(parsed);
      break;
    }
  }
  if (usage) {
    // A program name with a space is the command that ran this one
    // (`dlc train MODEL`, see dlcRuntimeMain) and includes the command.
    bool named = program.contains(' ');
    err << "error: " << usage->message << "\n"
        << "Run '" << program << " "
        << (args.empty() || named ? "" : args[0] + " ") << "--help' for "
        << "usage.\n";
    return ExitUsage;
  }
  return status;
}

int dlc::runtime::runMain(llvm::StringRef program,
                          llvm::ArrayRef<std::string> args,
                          const dlc_model_info &info, llvm::raw_ostream &out,
                          llvm::raw_ostream &err, bool terminal) {
  auto model = CompiledModel::create(info);
  if (!model) {
    err << "error: " << llvm::toString(model.takeError()) << "\n";
    return ExitError;
  }
  // The model's buffers live on the device the table names. A model for a
  // device this runtime cannot drive can still be described (`info`); the
  // commands that run it say why they cannot.
  std::unique_ptr<Device> device;
  std::string deviceProblem;
  if (auto created = createDevice((*model)->getDevice()))
    device = std::move(*created);
  else
    deviceProblem = llvm::toString(created.takeError());
  Cli cli(program, **model, device.get(), deviceProblem, out, err, terminal);
  int status = cli.run(args);
  out.flush();
  return status;
}

int dlcRuntimeMain(int argc, char **argv, const dlc_model_info &model) {
  // The compiled steps malloc and free their multi-megabyte temporaries on
  // every call. glibc would hand such blocks back to the kernel each time
  // (mmap threshold, heap trimming) and page-fault them in again on the next
  // step, about a quarter of a forward pass; keep them in the heap instead.
  mallopt(M_MMAP_THRESHOLD, 1 << 30);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  std::vector<std::string> args(argv + 1, argv + argc);
  llvm::StringRef program =
      argc > 0 ? llvm::sys::path::filename(argv[0]) : llvm::StringRef("model");
  // `dlc train MODEL` runs a temporary executable as `EXE train ...`; its
  // messages name the command the user typed instead.
  if (const char *invokedAs = std::getenv("DLC_INVOKED_AS");
      invokedAs && *invokedAs && !args.empty() && args[0] == "train")
    program = invokedAs;
  return runMain(program, args, model, llvm::outs(), llvm::errs(),
                 stdoutIsTerminal());
}

extern "C" int dlc_runtime_main(int argc, char **argv,
                                const dlc_model_info *model) {
  return dlcRuntimeMain(argc, argv, *model);
}
