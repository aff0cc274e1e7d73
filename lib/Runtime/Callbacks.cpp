//===- Callbacks.cpp - Keras's training callbacks as run settings ---------===//
//
// Line for line Keras 3's on_epoch_end of EarlyStopping and
// ReduceLROnPlateau and ModelCheckpoint's improvement test (see
// Callbacks.h); the metadata keys are read back in CheckpointMetadata.cpp.
//
//===----------------------------------------------------------------------===//

#include "dlc/Runtime/Callbacks.h"
#include "dlc/Runtime/CheckpointMetadata.h"
#include "dlc/Runtime/Support.h"

#include <algorithm>

using namespace dlc::runtime;

llvm::Expected<Monitored> dlc::runtime::parseMonitored(llvm::StringRef name) {
  for (Monitored m : {Monitored::Loss, Monitored::Accuracy, Monitored::ValLoss,
                      Monitored::ValAccuracy})
    if (name == monitoredName(m))
      return m;
  return llvm::createStringError(
      "unknown monitor '%s' (loss, accuracy, val_loss or val_accuracy)",
      name.str().c_str());
}

llvm::StringRef dlc::runtime::monitoredName(Monitored monitored) {
  switch (monitored) {
  case Monitored::Loss:
    return "loss";
  case Monitored::Accuracy:
    return "accuracy";
  case Monitored::ValLoss:
    return "val_loss";
  case Monitored::ValAccuracy:
    return "val_accuracy";
  }
  return "";
}

bool dlc::runtime::isValidationMonitor(Monitored monitored) {
  return monitored == Monitored::ValLoss || monitored == Monitored::ValAccuracy;
}

std::optional<double> dlc::runtime::monitoredValue(const EpochRecord &record,
                                                   Monitored monitored) {
  switch (monitored) {
  case Monitored::Loss:
    return record.train.loss;
  case Monitored::Accuracy:
    return record.train.accuracy;
  case Monitored::ValLoss:
    if (record.validation)
      return record.validation->loss;
    return std::nullopt;
  case Monitored::ValAccuracy:
    if (record.validation)
      return record.validation->accuracy;
    return std::nullopt;
  }
  return std::nullopt;
}

llvm::Expected<MonitorMode> dlc::runtime::parseMonitorMode(llvm::StringRef s) {
  if (s == "auto")
    return MonitorMode::Auto;
  if (s == "min")
    return MonitorMode::Min;
  if (s == "max")
    return MonitorMode::Max;
  return llvm::createStringError("unknown mode '%s' (auto, min or max)",
                                 s.str().c_str());
}

llvm::StringRef dlc::runtime::monitorModeName(MonitorMode mode) {
  switch (mode) {
  case MonitorMode::Auto:
    return "auto";
  case MonitorMode::Min:
    return "min";
  case MonitorMode::Max:
    return "max";
  }
  return "";
}

bool MonitorSpec::maximizes() const {
  if (mode != MonitorMode::Auto)
    return mode == MonitorMode::Max;
  return monitored == Monitored::Accuracy ||
         monitored == Monitored::ValAccuracy;
}

bool MonitorSpec::isImprovement(double value,
                                std::optional<double> reference) const {
  if (!reference)
    return true;
  // Keras negates min_delta for `less` and compares value - min_delta.
  return maximizes() ? value - minDelta > *reference
                     : value + minDelta < *reference;
}

EarlyStopping::Decision EarlyStopping::onEpochEnd(int64_t epoch,
                                                  double current) {
  Decision decision;
  if (epoch < startFromEpoch)
    return decision;
  // Keras: "If best weights were never set, then the current weights are
  // the best."
  if (restoreBestWeights && bestEpoch < 0) {
    decision.keepWeights = true;
    bestEpoch = epoch;
  }
  wait += 1;
  if (monitor.isImprovement(current, best)) {
    best = current;
    bestEpoch = epoch;
    decision.keepWeights = restoreBestWeights;
    // Only restart wait if we beat both the baseline and our previous best.
    if (!baseline || monitor.isImprovement(current, baseline))
      wait = 0;
    return decision;
  }
  if (wait >= patience && epoch > 0) {
    stoppedEpoch = epoch;
    decision.stop = true;
  }
  return decision;
}

std::optional<double> ReduceLROnPlateau::onEpochEnd(double current,
                                                    double learningRate) {
  if (inCooldown()) {
    cooldownCounter -= 1;
    wait = 0;
  }
  if (monitor.isImprovement(current, best)) {
    best = current;
    wait = 0;
    return std::nullopt;
  }
  if (inCooldown())
    return std::nullopt;
  wait += 1;
  if (wait < patience)
    return std::nullopt;
  // old_lr > np.float32(min_lr); the optimizer's variable is f32.
  if (!(learningRate > double(float(minLr))))
    return std::nullopt;
  double reduced = std::max(learningRate * factor, minLr);
  cooldownCounter = cooldown;
  wait = 0;
  return double(float(reduced));
}

llvm::Expected<EpochCheckpoints>
dlc::runtime::parseEpochCheckpoints(llvm::StringRef name) {
  if (name == "none")
    return EpochCheckpoints::None;
  if (name == "all")
    return EpochCheckpoints::All;
  if (name == "best")
    return EpochCheckpoints::Best;
  return llvm::createStringError("unknown value '%s' (none, all or best)",
                                 name.str().c_str());
}

llvm::StringRef dlc::runtime::epochCheckpointsName(EpochCheckpoints which) {
  switch (which) {
  case EpochCheckpoints::None:
    return "none";
  case EpochCheckpoints::All:
    return "all";
  case EpochCheckpoints::Best:
    return "best";
  }
  return "";
}

bool CheckpointPolicy::onEpochEnd(int64_t epoch, double current) {
  if (!monitor.isImprovement(current, best))
    return false;
  best = current;
  bestEpoch = epoch;
  return true;
}

//===----------------------------------------------------------------------===//
// Metadata
//===----------------------------------------------------------------------===//

namespace key = dlc::runtime::metakey;
using Map = std::map<std::string, std::string>;

static void writeMonitor(const MonitorSpec &m, const char *monitorKey,
                         const char *modeKey, const char *deltaKey, Map &out) {
  out[monitorKey] = monitoredName(m.monitored).str();
  out[modeKey] = monitorModeName(m.mode).str();
  if (deltaKey)
    out[deltaKey] = formatExact(m.minDelta);
}

Map dlc::runtime::earlyStoppingConfig(const EarlyStopping &es) {
  Map out;
  writeMonitor(es.monitor, key::esMonitor, key::esMode, key::esMinDelta, out);
  out[key::esPatience] = std::to_string(es.patience);
  if (es.baseline)
    out[key::esBaseline] = formatExact(*es.baseline);
  out[key::esRestoreBestWeights] = es.restoreBestWeights ? "true" : "false";
  out[key::esStartFromEpoch] = std::to_string(es.startFromEpoch);
  return out;
}

Map dlc::runtime::reduceLRConfig(const ReduceLROnPlateau &r) {
  Map out;
  writeMonitor(r.monitor, key::lrMonitor, key::lrMode, key::lrMinDelta, out);
  out[key::lrFactor] = formatExact(r.factor);
  out[key::lrPatience] = std::to_string(r.patience);
  out[key::lrCooldown] = std::to_string(r.cooldown);
  out[key::lrMinLr] = formatExact(r.minLr);
  return out;
}

Map dlc::runtime::checkpointConfig(const CheckpointPolicy &c) {
  Map out;
  writeMonitor(c.monitor, key::ckptMonitor, key::ckptMode, nullptr, out);
  out[key::epochCheckpoints] = epochCheckpointsName(c.epochFiles).str();
  return out;
}

void dlc::runtime::writeCallbacks(const Callbacks &callbacks, Map &out) {
  if (const auto &es = callbacks.earlyStopping) {
    out.merge(earlyStoppingConfig(*es));
    out[key::esWait] = std::to_string(es->wait);
    if (es->best)
      out[key::esBest] = formatExact(*es->best);
    out[key::esBestEpoch] = std::to_string(es->bestEpoch);
    out[key::esStoppedEpoch] = std::to_string(es->stoppedEpoch);
  }
  if (const auto &r = callbacks.reduceLR) {
    out.merge(reduceLRConfig(*r));
    out[key::lrWait] = std::to_string(r->wait);
    out[key::lrCooldownCounter] = std::to_string(r->cooldownCounter);
    if (r->best)
      out[key::lrBest] = formatExact(*r->best);
  }
  if (callbacks.learningRate)
    out[key::learningRate] = formatExact(*callbacks.learningRate);
  out.merge(checkpointConfig(callbacks.checkpoint));
  if (callbacks.checkpoint.best) {
    out[key::bestValue] = formatExact(*callbacks.checkpoint.best);
    out[key::bestEpoch] = std::to_string(callbacks.checkpoint.bestEpoch);
  }
}
