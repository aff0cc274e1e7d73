//===- Callbacks.h - Keras's training callbacks as run settings -*- C++ -*-===//
//
// EarlyStopping, ReduceLROnPlateau and ModelCheckpoint's monitor/mode with
// Keras 3's semantics (keras/src/callbacks/{monitor_callback,
// early_stopping,reduce_lr_on_plateau,model_checkpoint}.py), as plain
// state machines fed one epoch's logs at a time. The trainer acts on their
// decisions (stop, keep these weights, use this learning rate, save
// best.safetensors); their configuration and state travel in the
// checkpoint's metadata so that --resume continues them exactly.
//
// Epochs are 0-based here, as in Keras's on_epoch_end(epoch, logs).
//
//===----------------------------------------------------------------------===//

#ifndef DLC_RUNTIME_CALLBACKS_H
#define DLC_RUNTIME_CALLBACKS_H

#include "dlc/Runtime/Monitor/Metrics.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <map>
#include <optional>
#include <string>

namespace dlc::runtime {

/// The epoch logs a callback can watch, by their Keras names.
enum class Monitored { Loss, Accuracy, ValLoss, ValAccuracy };
llvm::Expected<Monitored> parseMonitored(llvm::StringRef name);
llvm::StringRef monitoredName(Monitored monitored);
bool isValidationMonitor(Monitored monitored);
/// The value of `monitored` in `record`; none without validation data.
std::optional<double> monitoredValue(const EpochRecord &record,
                                     Monitored monitored);

enum class MonitorMode { Auto, Min, Max };
llvm::Expected<MonitorMode> parseMonitorMode(llvm::StringRef name);
llvm::StringRef monitorModeName(MonitorMode mode);

/// Keras's MonitorCallback: what is watched, in which direction, and by how
/// much a value must beat the reference to count as an improvement.
struct MonitorSpec {
  Monitored monitored = Monitored::ValLoss;
  MonitorMode mode = MonitorMode::Auto;
  /// Kept as its absolute value (Keras: abs(min_delta)).
  double minDelta = 0;

  /// Auto mode: losses decrease, accuracies increase (Keras reads the
  /// direction from the metric; "loss" is always min).
  bool maximizes() const;
  /// Keras's _is_improvement: true without a reference; otherwise
  /// value - min_delta > reference (max) or value + min_delta < reference
  /// (min).
  bool isImprovement(double value, std::optional<double> reference) const;
};

/// keras.callbacks.EarlyStopping.
struct EarlyStopping {
  MonitorSpec monitor;
  int64_t patience = 0;
  std::optional<double> baseline;
  bool restoreBestWeights = false;
  int64_t startFromEpoch = 0;

  // State (Keras's attributes of the same names).
  int64_t wait = 0;
  std::optional<double> best;
  /// The epoch whose weights are kept for restore_best_weights (-1: none).
  int64_t bestEpoch = -1;
  /// The epoch at which training stopped (-1: it did not).
  int64_t stoppedEpoch = -1;

  struct Decision {
    /// Keep the current weights as the best ones (restore_best_weights).
    bool keepWeights = false;
    /// model.stop_training = True.
    bool stop = false;
  };
  /// on_epoch_end(epoch, logs) with logs[monitor] = `current`.
  Decision onEpochEnd(int64_t epoch, double current);
};

/// keras.callbacks.ReduceLROnPlateau. The learning rate it reduces is the
/// base rate of the run's schedule (the rate itself with the constant
/// schedule, what Keras supports).
struct ReduceLROnPlateau {
  MonitorSpec monitor{Monitored::ValLoss, MonitorMode::Auto, 1e-4};
  double factor = 0.1;
  int64_t patience = 10;
  int64_t cooldown = 0;
  double minLr = 0;

  // State.
  std::optional<double> best;
  int64_t wait = 0, cooldownCounter = 0;

  /// on_epoch_end with logs[monitor] = `current` and the optimizer's rate
  /// `learningRate`; the new rate when it reduces it. As in Keras, the rate
  /// is held in f32 (the optimizer's variable; here the step's argument).
  std::optional<double> onEpochEnd(double current, double learningRate);
  bool inCooldown() const { return cooldownCounter > 0; }
};

/// Which checkpoint files an epoch end writes besides last.safetensors.
enum class EpochCheckpoints {
  /// Only best.safetensors, when the monitored value improves.
  None,
  /// Also epoch-NNN.safetensors for every epoch (Keras's ModelCheckpoint
  /// with a per-epoch file name, save_best_only=False).
  All,
  /// epoch-NNN.safetensors for each epoch that improves the monitored
  /// value (save_best_only=True).
  Best,
};
llvm::Expected<EpochCheckpoints> parseEpochCheckpoints(llvm::StringRef name);
llvm::StringRef epochCheckpointsName(EpochCheckpoints which);

/// ModelCheckpoint's monitor and mode for best.safetensors (no min_delta).
struct CheckpointPolicy {
  /// dlc's default: the validation accuracy, the training accuracy when
  /// there is no validation split (set by the trainer).
  MonitorSpec monitor{Monitored::ValAccuracy, MonitorMode::Auto, 0};
  EpochCheckpoints epochFiles = EpochCheckpoints::None;

  std::optional<double> best;
  /// 1-based epoch of best.safetensors (0: none yet).
  int64_t bestEpoch = 0;

  /// Records `current` of 1-based `epoch`; whether it is a new best.
  bool onEpochEnd(int64_t epoch, double current);
};

/// The callbacks of a run.
struct Callbacks {
  std::optional<EarlyStopping> earlyStopping;
  std::optional<ReduceLROnPlateau> reduceLR;
  CheckpointPolicy checkpoint;
  /// The learning rate the plateau callback has set (none before it acts).
  std::optional<double> learningRate;
};

/// The configuration of each callback as checkpoint metadata: equal maps
/// mean equal settings (used to refuse changing them on --resume).
std::map<std::string, std::string> earlyStoppingConfig(const EarlyStopping &);
std::map<std::string, std::string> reduceLRConfig(const ReduceLROnPlateau &);
std::map<std::string, std::string> checkpointConfig(const CheckpointPolicy &);
/// Every key of the callbacks, configuration and state (read back by
/// readCheckpointInfo).
void writeCallbacks(const Callbacks &callbacks,
                    std::map<std::string, std::string> &metadata);

} // namespace dlc::runtime

#endif // DLC_RUNTIME_CALLBACKS_H
