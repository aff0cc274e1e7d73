//===- CheckpointMetadata.cpp - The typed __metadata__ of checkpoints -----===//
//
// Each key has one reader that parses the whole string (no trailing
// characters, no silent strtod prefix) and one range. The messages name the
// checkpoint file, the key and the value found, and say what is allowed.
//
//===----------------------------------------------------------------------===//

#include "dlc/Runtime/CheckpointMetadata.h"
#include "dlc/Runtime/Support.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FormatVariadic.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>

using namespace dlc::runtime;

llvm::Error dlc::runtime::checkJsonDepth(llvm::StringRef text,
                                         llvm::StringRef what,
                                         unsigned maxDepth) {
  unsigned depth = 0;
  bool inString = false, escaped = false;
  for (size_t i = 0, e = text.size(); i < e; ++i) {
    char c = text[i];
    if (inString) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        inString = false;
      continue;
    }
    if (c == '"') {
      inString = true;
    } else if (c == '[' || c == '{') {
      if (++depth > maxDepth)
        return llvm::createStringError(
            llvm::formatv("{0} nests deeper than {1} levels (at byte {2})",
                          what, maxDepth, i));
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return llvm::Error::success();
}

namespace {
/// Reads the keys of one checkpoint, collecting the first error.
class MetadataReader {
public:
  MetadataReader(const Metadata &meta, llvm::StringRef path)
      : meta(meta), path(path) {}

  /// The raw string of `key`, or null (and an error if `required`).
  const std::string *lookup(const char *key, bool required) {
    auto it = meta.find(key);
    if (it != meta.end())
      return &it->second;
    if (required)
      fail(key, "is missing; the file was not written by a dlc training run "
                "(or by an incompatible version)");
    return nullptr;
  }

  /// A decimal integer in [min, max].
  std::optional<int64_t> integer(const char *key, int64_t min,
                                 int64_t max = INT64_MAX,
                                 bool required = true) {
    const std::string *s = lookup(key, required);
    if (!s)
      return std::nullopt;
    int64_t value;
    if (llvm::StringRef(*s).getAsInteger(10, value) || value < min ||
        value > max) {
      fail(key, llvm::formatv("is '{0}'; expected an integer {1}", *s,
                              range(min, max)));
      return std::nullopt;
    }
    return value;
  }

  /// A finite number in [min, max].
  std::optional<double> number(const char *key, double min, double max,
                               bool required = true) {
    const std::string *s = lookup(key, required);
    if (!s)
      return std::nullopt;
    std::optional<double> value = parseDouble(*s);
    if (!value || !std::isfinite(*value) || *value < min || *value > max) {
      std::string allowed = std::isinf(min) && std::isinf(max)
                                ? std::string("a finite number")
                                : "a number in [" + formatNumber(min) + ", " +
                                      formatNumber(max) + "]";
      fail(key, llvm::formatv("is '{0}'; expected {1}", *s, allowed));
      return std::nullopt;
    }
    return value;
  }

  std::optional<bool> boolean(const char *key) {
    const std::string *s = lookup(key, true);
    if (!s)
      return std::nullopt;
    if (*s == "true" || *s == "false")
      return *s == "true";
    fail(key, "is '" + *s + "'; expected true or false");
    return std::nullopt;
  }

  /// A non-empty string.
  std::optional<std::string> text(const char *key) {
    const std::string *s = lookup(key, true);
    if (!s)
      return std::nullopt;
    if (s->empty()) {
      fail(key, "is empty");
      return std::nullopt;
    }
    return *s;
  }

  void fail(const char *key, const llvm::Twine &what) {
    if (!firstError)
      firstError = llvm::formatv("checkpoint '{0}': metadata '{1}' {2}", path,
                                 key, what.str())
                       .str();
  }
  void failFile(const llvm::Twine &what) {
    if (!firstError)
      firstError = ("checkpoint '" + path + "': " + what).str();
  }
  bool failed() const { return firstError.has_value(); }
  llvm::Error takeError() {
    return llvm::createStringError(firstError.value_or("internal error"));
  }

private:
  static std::string range(int64_t min, int64_t max) {
    if (max == INT64_MAX)
      return ">= " + std::to_string(min);
    return llvm::formatv("in [{0}, {1}]", min, max).str();
  }
  /// The whole string as a number (strtod accepts "nan", "inf" and a
  /// prefix; only the whole string counts here, and no NaN/inf passes the
  /// caller's finiteness check).
  static std::optional<double> parseDouble(const std::string &s) {
    if (s.empty() || llvm::isSpace(s.front()))
      return std::nullopt;
    errno = 0;
    char *end = nullptr;
    double value = std::strtod(s.c_str(), &end);
    if (end != s.c_str() + s.size() || errno == ERANGE)
      return std::nullopt;
    return value;
  }

  const Metadata &meta;
  llvm::StringRef path;
  std::optional<std::string> firstError;
};
} // namespace

/// The callbacks' keys (Callbacks.h). A callback is present when its
/// monitor key is; then every key of its configuration and state is
/// required except the optional values (baseline, best).
static void readCallbacks(MetadataReader &r, const Metadata &meta,
                          CheckpointInfo &info) {
  auto fail = [&](llvm::Error e, const char *key, const std::string &what) {
    llvm::consumeError(std::move(e));
    r.fail(key, what);
  };
  auto monitor = [&](const char *monitorKey, const char *modeKey,
                     const char *deltaKey, MonitorSpec &spec) {
    if (auto name = r.text(monitorKey)) {
      if (auto m = parseMonitored(*name))
        spec.monitored = *m;
      else
        fail(m.takeError(), monitorKey,
             "is '" + *name +
                 "'; expected loss, accuracy, val_loss or val_accuracy");
    }
    if (auto name = r.text(modeKey)) {
      if (auto m = parseMonitorMode(*name))
        spec.mode = *m;
      else
        fail(m.takeError(), modeKey,
             "is '" + *name + "'; expected auto, min or max");
    }
    if (deltaKey)
      spec.minDelta = r.number(deltaKey, 0, INFINITY).value_or(0);
  };
  auto flag = [&](const char *key) { return r.boolean(key).value_or(false); };
  if (meta.count(metakey::esMonitor)) {
    EarlyStopping &es = info.callbacks.earlyStopping.emplace();
    monitor(metakey::esMonitor, metakey::esMode, metakey::esMinDelta,
            es.monitor);
    es.patience = r.integer(metakey::esPatience, 0).value_or(0);
    es.baseline = r.number(metakey::esBaseline, -INFINITY, INFINITY, false);
    es.restoreBestWeights = flag(metakey::esRestoreBestWeights);
    es.startFromEpoch = r.integer(metakey::esStartFromEpoch, 0).value_or(0);
    es.wait = r.integer(metakey::esWait, 0).value_or(0);
    es.best = r.number(metakey::esBest, -INFINITY, INFINITY, false);
    es.bestEpoch = r.integer(metakey::esBestEpoch, -1).value_or(-1);
    es.stoppedEpoch = r.integer(metakey::esStoppedEpoch, -1).value_or(-1);
  }
  if (meta.count(metakey::lrMonitor)) {
    ReduceLROnPlateau &lr = info.callbacks.reduceLR.emplace();
    monitor(metakey::lrMonitor, metakey::lrMode, metakey::lrMinDelta,
            lr.monitor);
    lr.factor = r.number(metakey::lrFactor, 0, 1).value_or(0.1);
    if (lr.factor >= 1)
      r.fail(metakey::lrFactor, "is 1; expected a number in [0, 1)");
    lr.patience = r.integer(metakey::lrPatience, 0).value_or(0);
    lr.cooldown = r.integer(metakey::lrCooldown, 0).value_or(0);
    lr.minLr = r.number(metakey::lrMinLr, 0, INFINITY).value_or(0);
    lr.wait = r.integer(metakey::lrWait, 0).value_or(0);
    lr.cooldownCounter =
        r.integer(metakey::lrCooldownCounter, 0, lr.cooldown).value_or(0);
    lr.best = r.number(metakey::lrBest, -INFINITY, INFINITY, false);
  }
  if (const std::string *kind = r.lookup(metakey::lrSchedule, false)) {
    LRSchedule &s = info.schedule.emplace();
    if (auto parsed = parseScheduleKind(*kind))
      s.kind = *parsed;
    else
      fail(parsed.takeError(), metakey::lrSchedule,
           "is '" + *kind + "'; expected constant, step or cosine");
    s.baseRate = r.number(metakey::lrBase, 0, INFINITY).value_or(0);
    s.warmupEpochs = r.number(metakey::lrWarmupEpochs, 0, INFINITY).value_or(0);
    s.decayEpochs =
        r.number(metakey::lrDecayEpochs, 1e-9, INFINITY).value_or(1);
    s.decayFactor = r.number(metakey::lrDecayFactor, 0, INFINITY).value_or(0);
    s.minRate = r.number(metakey::lrMinRate, 0, INFINITY).value_or(0);
  }
  info.callbacks.learningRate =
      r.number(metakey::learningRate, 0, INFINITY, false);
  CheckpointPolicy &policy = info.callbacks.checkpoint;
  if (meta.count(metakey::ckptMonitor)) {
    info.hasCheckpointMonitor = true;
    monitor(metakey::ckptMonitor, metakey::ckptMode, nullptr, policy.monitor);
    if (auto which = r.text(metakey::epochCheckpoints)) {
      if (auto parsed = parseEpochCheckpoints(*which))
        policy.epochFiles = *parsed;
      else
        fail(parsed.takeError(), metakey::epochCheckpoints,
             "is '" + *which + "'; expected none, all or best");
    }
    policy.best = r.number(metakey::bestValue, -INFINITY, INFINITY, false);
  } else {
    // Older checkpoints: the best validation (or training) accuracy.
    policy.monitor.mode = MonitorMode::Max;
    if (meta.count(metakey::bestAccuracy) || meta.count(metakey::bestEpoch))
      policy.best = r.number(metakey::bestAccuracy, 0, 1);
  }
  if (policy.best || meta.count(metakey::bestEpoch))
    policy.bestEpoch = r.integer(metakey::bestEpoch, 1).value_or(1);
}

llvm::Expected<CheckpointInfo>
dlc::runtime::readCheckpointInfo(const Metadata &meta, llvm::StringRef path,
                                 const CompiledModel &model,
                                 CheckpointUse use) {
  MetadataReader r(meta, path);
  CheckpointInfo info;
  if (auto format = r.text(metakey::format)) {
    info.format = *format;
    if (info.format != kCheckpointFormat)
      r.fail(metakey::format, "is '" + info.format + "'; this runtime reads " +
                                  kCheckpointFormat);
  }
  // Stop at a foreign format: its other keys may mean something else.
  if (r.failed())
    return r.takeError();
  if (auto name = r.text(metakey::model)) {
    info.model = *name;
    if (info.model != model.getName())
      r.fail(metakey::model, "is '" + info.model +
                                 "' but this executable is model '" +
                                 model.getName() + "'");
  }
  if (auto data = r.text(metakey::data))
    info.data = *data;
  info.step = r.integer(metakey::step, 0).value_or(0);
  info.epoch = r.integer(metakey::epoch, 0).value_or(0);
  info.batch = r.integer(metakey::batch, 0).value_or(0);
  info.epochs = r.integer(metakey::epochs, 0, INT64_MAX, /*required=*/false);
  info.threads = r.integer(metakey::threads, 0, 1 << 16).value_or(0);
  info.batchSize = r.integer(metakey::batchSize, 1).value_or(1);
  if (const std::string *s = r.lookup(metakey::seed, true)) {
    if (llvm::StringRef(*s).getAsInteger(10, info.seed))
      r.fail(metakey::seed,
             "is '" + *s + "'; expected an integer in [0, 2^64 - 1]");
  }
  info.validationSplit =
      r.number(metakey::validationSplit, 0, kMaxValidationSplit).value_or(0);
  info.dropRemainder = r.boolean(metakey::dropRemainder).value_or(false);
  info.lossSum = r.number(metakey::lossSum, -INFINITY, INFINITY).value_or(0);
  info.samples = r.integer(metakey::samples, 0).value_or(0);
  info.correct = r.integer(metakey::correct, 0).value_or(0);
  readCallbacks(r, meta, info);
  if (r.failed())
    return r.takeError();

  // Relations between the keys.
  if (use == CheckpointUse::Training && info.batchSize != model.getBatchSize())
    r.fail(metakey::batchSize,
           llvm::formatv("is {0} but this executable was compiled for batch "
                         "size {1}; the checkpoint's position counts batches "
                         "of {0}",
                         info.batchSize, model.getBatchSize()));
  else if (info.batch > INT64_MAX / info.batchSize ||
           info.samples != info.batch * info.batchSize)
    r.fail(metakey::samples,
           llvm::formatv("is {0}, but batch {1} of batch size {2} means {3} "
                         "samples",
                         info.samples, info.batch, info.batchSize,
                         info.batch <= INT64_MAX / info.batchSize
                             ? info.batch * info.batchSize
                             : -1));
  if (info.correct > info.samples)
    r.fail(metakey::correct,
           llvm::formatv("is {0}, more than the epoch's {1} samples",
                         info.correct, info.samples));
  if (info.epochs && info.epoch > *info.epochs)
    r.fail(metakey::epoch, llvm::formatv("is {0}, past the run's {1} epochs",
                                         info.epoch, *info.epochs));
  const CheckpointPolicy &policy = info.callbacks.checkpoint;
  if (policy.best && policy.bestEpoch > info.epoch)
    r.fail(metakey::bestEpoch,
           llvm::formatv("is {0}, but only {1} epochs are finished",
                         policy.bestEpoch, info.epoch));
  if (const auto &es = info.callbacks.earlyStopping) {
    if (es->bestEpoch >= info.epoch)
      r.fail(metakey::esBestEpoch,
             llvm::formatv("is {0}, but only {1} epochs are finished",
                           es->bestEpoch, info.epoch));
    if (es->stoppedEpoch >= info.epoch)
      r.fail(metakey::esStoppedEpoch,
             llvm::formatv("is {0}, but only {1} epochs are finished",
                           es->stoppedEpoch, info.epoch));
  }
  if (r.failed())
    return r.takeError();

  if (const std::string *h = r.lookup(metakey::history, false)) {
    if (llvm::Error e = checkJsonDepth(*h, "the JSON")) {
      r.fail(metakey::history, llvm::toString(std::move(e)));
      return r.takeError();
    }
    auto history = historyFromJson(*h);
    if (!history) {
      r.fail(metakey::history, "is not a valid metrics history: " +
                                   llvm::toString(history.takeError()));
      return r.takeError();
    }
    for (auto [i, record] : llvm::enumerate(*history))
      if (record.epoch != int64_t(i) + 1 || record.step < 0 ||
          record.step > info.step) {
        r.fail(metakey::history,
               llvm::formatv("record {0} is for epoch {1}, step {2}; expected "
                             "epoch {3} at a step <= {4}",
                             i, record.epoch, record.step, i + 1, info.step));
        return r.takeError();
      }
    if (int64_t(history->size()) != info.epoch) {
      r.fail(metakey::history,
             llvm::formatv("has {0} epochs but the checkpoint is at epoch {1}",
                           history->size(), info.epoch));
      return r.takeError();
    }
    info.history = std::move(*history);
  }
  return info;
}
