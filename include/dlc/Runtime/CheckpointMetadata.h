//===- CheckpointMetadata.h - The typed __metadata__ of checkpoints -*- C++
//-*-//
//
// A checkpoint is a file from outside: its `__metadata__` strings are read
// once, here, into typed values, each parsed strictly and range-checked
// with the limits the command line applies to the same settings, and
// against the model that loads it. Nothing downstream (resume, evaluate)
// sees a raw metadata string, so an edited or corrupt value is an error
// naming the file and the key, never a crash or a silent wrong answer.
//
// JSON read from a file (the safetensors header, the `history` string) is
// first scanned for its nesting depth: llvm::json's parser recurses once
// per level, so a few thousand brackets would overflow the stack.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_RUNTIME_CHECKPOINTMETADATA_H
#define DLC_RUNTIME_CHECKPOINTMETADATA_H

#include "dlc/Runtime/Callbacks.h"
#include "dlc/Runtime/Checkpoint.h"
#include "dlc/Runtime/LRSchedule.h"
#include "dlc/Runtime/Monitor/Metrics.h"

#include <optional>
#include <string>
#include <vector>

namespace dlc::runtime {

/// The metadata keys of dlc checkpoints.
namespace metakey {
constexpr const char *format = "format";
constexpr const char *model = "model";
constexpr const char *step = "step";
constexpr const char *epoch = "epoch";
constexpr const char *batch = "batch";
constexpr const char *epochs = "epochs";
constexpr const char *seed = "seed";
constexpr const char *threads = "threads";
constexpr const char *batchSize = "batch_size";
constexpr const char *data = "data";
constexpr const char *validationSplit = "validation_split";
constexpr const char *dropRemainder = "drop_remainder";
constexpr const char *lossSum = "epoch_loss_sum";
constexpr const char *correct = "epoch_correct";
constexpr const char *samples = "epoch_samples";
constexpr const char *bestAccuracy = "best_accuracy";
constexpr const char *bestEpoch = "best_epoch";
constexpr const char *history = "history";
constexpr const char *shuffle = "shuffle";
// Callbacks (Callbacks.h): configuration, then state.
constexpr const char *esMonitor = "early_stopping_monitor";
constexpr const char *esMode = "early_stopping_mode";
constexpr const char *esMinDelta = "early_stopping_min_delta";
constexpr const char *esPatience = "early_stopping_patience";
constexpr const char *esBaseline = "early_stopping_baseline";
constexpr const char *esRestoreBestWeights =
    "early_stopping_restore_best_weights";
constexpr const char *esStartFromEpoch = "early_stopping_start_from_epoch";
constexpr const char *esWait = "early_stopping_wait";
constexpr const char *esBest = "early_stopping_best";
constexpr const char *esBestEpoch = "early_stopping_best_epoch";
constexpr const char *esStoppedEpoch = "early_stopping_stopped_epoch";
constexpr const char *lrMonitor = "reduce_lr_monitor";
constexpr const char *lrMode = "reduce_lr_mode";
constexpr const char *lrMinDelta = "reduce_lr_min_delta";
constexpr const char *lrFactor = "reduce_lr_factor";
constexpr const char *lrPatience = "reduce_lr_patience";
constexpr const char *lrCooldown = "reduce_lr_cooldown";
constexpr const char *lrMinLr = "reduce_lr_min_lr";
constexpr const char *lrWait = "reduce_lr_wait";
constexpr const char *lrCooldownCounter = "reduce_lr_cooldown_counter";
constexpr const char *lrBest = "reduce_lr_best";
// The learning-rate schedule (LRSchedule.h), so --resume alone continues
// with the run's rates.
constexpr const char *lrBase = "lr";
constexpr const char *lrSchedule = "lr_schedule";
constexpr const char *lrWarmupEpochs = "lr_warmup_epochs";
constexpr const char *lrDecayEpochs = "lr_decay_epochs";
constexpr const char *lrDecayFactor = "lr_decay_factor";
constexpr const char *lrMinRate = "lr_min";
/// The base learning rate ReduceLROnPlateau has set.
constexpr const char *learningRate = "learning_rate";
constexpr const char *ckptMonitor = "checkpoint_monitor";
constexpr const char *ckptMode = "checkpoint_mode";
constexpr const char *epochCheckpoints = "epoch_checkpoints";
/// The monitored value of best.safetensors (best_accuracy in older files).
constexpr const char *bestValue = "best_value";
} // namespace metakey

/// The format string every dlc checkpoint carries.
constexpr const char *kCheckpointFormat = "dlc-checkpoint/1";

/// The largest validation split the command line accepts; checkpoints are
/// held to the same limit.
constexpr double kMaxValidationSplit = 0.99;

/// JSON nested deeper than this is rejected before it is parsed.
constexpr unsigned kMaxJsonDepth = 64;

/// Fails when `text`, read as JSON, nests arrays/objects deeper than
/// `maxDepth` (brackets inside strings do not count). A linear scan without
/// recursion; it does not otherwise validate the JSON.
llvm::Error checkJsonDepth(llvm::StringRef text, llvm::StringRef what,
                           unsigned maxDepth = kMaxJsonDepth);

/// A dlc checkpoint's metadata, typed and validated.
struct CheckpointInfo {
  std::string format, model, data;
  int64_t step = 0, epoch = 0, batch = 0;
  /// --epochs of the run that wrote it (absent in older checkpoints).
  std::optional<int64_t> epochs;
  uint64_t seed = 0;
  int64_t threads = 0, batchSize = 0;
  double validationSplit = 0;
  bool dropRemainder = false;
  /// Running sums of the epoch in progress.
  double lossSum = 0;
  int64_t correct = 0, samples = 0;
  std::vector<EpochRecord> history;
  /// The callbacks and their state; `checkpoint.best` is best_value (or the
  /// older best_accuracy, val_accuracy/accuracy by mode max).
  Callbacks callbacks;
  /// The run's schedule (absent in older checkpoints); only kind, base
  /// rate, warm-up and decay parameters.
  std::optional<LRSchedule> schedule;
  /// Whether the file names a checkpoint monitor (older ones do not).
  bool hasCheckpointMonitor = false;
};

/// Reads and validates the metadata of checkpoint `path` for `model`:
/// every key dlc writes must be present (except `epochs`, `best_*` and
/// `history`, which older or fresh runs lack) and hold a value of its type
/// within range (counts >= 0, validation_split in [0, 0.99], finite sums,
/// accuracies in [0, 1], `epoch_samples` = `batch` x `batch_size`), the
/// format must be dlc-checkpoint/1 and the model name the model's. With
/// CheckpointUse::Training the batch size must also equal the compiled one
/// (the position counts batches of it).
llvm::Expected<CheckpointInfo> readCheckpointInfo(const Metadata &meta,
                                                  llvm::StringRef path,
                                                  const CompiledModel &model,
                                                  CheckpointUse use);

} // namespace dlc::runtime

#endif // DLC_RUNTIME_CHECKPOINTMETADATA_H
