//===- Trainer.h - The training loop ----------------------------*- C++ -*-===//
//
// Runs epochs of compiled train_step calls around data, evaluation,
// monitoring and checkpoints.
//
// Reproducibility contract: everything random is a pure function of the
// seed and the training position. Epoch e visits the training samples in
// epochPermutation(seed, e); the learning rate of each update is a function
// of the step number; initial parameters depend on (seed, name). A
// checkpoint records the position (epoch, batch within the epoch, step)
// and the epoch's running sums, so resuming from it, at an epoch boundary
// or mid-epoch, reproduces the uninterrupted run bit for bit (given the
// same seed, data, batch size and a deterministic compiled step).
//
//===----------------------------------------------------------------------===//

#ifndef DLC_RUNTIME_TRAINER_H
#define DLC_RUNTIME_TRAINER_H

#include "dlc/Runtime/Callbacks.h"
#include "dlc/Runtime/Data/Batcher.h"
#include "dlc/Runtime/Executor.h"
#include "dlc/Runtime/LRSchedule.h"
#include "dlc/Runtime/Monitor/Metrics.h"
#include "dlc/Runtime/Monitor/Progress.h"
#include "dlc/Runtime/Monitor/TensorBoard.h"

#include <optional>

namespace dlc::runtime {

class Communicator;

struct TrainOptions {
  /// --data spec (see Dataset.h).
  std::string data;
  int64_t epochs = 10;
  /// Only kind, warm-up and decay parameters are read; the base rate is
  /// `learningRate` or the model's, and the step counts are filled in.
  LRSchedule schedule;
  std::optional<double> learningRate;
  double validationSplit = 0.1;
  /// The run's seed; on --resume, the checkpoint's seed when unset.
  std::optional<uint64_t> seed;
  int threads = 0;
  /// Output directory ("" = no files).
  std::string outDir;
  /// Checkpoint to resume from ("" = start fresh). On --resume, an empty
  /// `data` and the settings whose *Set flag is false are the checkpoint's.
  std::string resume;
  bool epochsSet = true, validationSplitSet = true, dropRemainderSet = true;
  /// Whether --lr or a schedule flag was given; on --resume without them
  /// the checkpoint's schedule continues.
  bool scheduleSet = true;
  /// Start from the initializers even where the model has initial values
  /// (the weights of an imported ONNX model).
  bool reinitialize = false;
  /// Also save last.safetensors every N steps (0 = at epoch ends only).
  int64_t checkpointEvery = 0;
  bool dropRemainder = false;
  /// Assemble the next batch on a background thread during the current
  /// step (Prefetcher.h); the results are the same either way.
  bool prefetch = true;
  ProgressReporter::Style progress = ProgressReporter::Style::Lines;
  int64_t logEvery = 0;
  /// The report's class names (--class-names); empty: the model's, a known
  /// dataset's or class_N (Analysis.h).
  std::vector<std::string> classNames;
  /// Batch-level points and histograms in the TensorBoard logs.
  TensorBoardOptions tensorboard;
  /// Early stopping, plateau learning-rate reduction and the checkpoint
  /// policy (configuration only; their state starts empty). On --resume
  /// the checkpoint's callbacks continue with their state; a callback
  /// whose *Set flag is true must then equal the checkpoint's.
  Callbacks callbacks;
  bool earlyStoppingSet = false, reduceLRSet = false,
       checkpointPolicySet = false;
  /// Whether callbacks.checkpoint.monitor was given; otherwise it is
  /// val_accuracy, or accuracy without a validation split.
  bool checkpointMonitorSet = false;
  /// The ranks of a data-parallel run (null: this process alone). Each
  /// trains the compiled batch size; a global batch is size() of them.
  /// Only rank 0 should be given an outDir.
  Communicator *communicator = nullptr;
};

/// How a run ended (errors are reported as llvm::Error instead).
/// (A run ended by early stopping is Finished.)
enum class TrainStatus { Finished, Interrupted, Diverged };

/// Mean loss and accuracy of eval_step over dataset samples
/// [offset, offset + count). Exact for any count: a last partial batch is
/// padded with copies of its first sample, and that sample's contribution
/// (measured with a batch made only of it) is subtracted. This relies on
/// eval_step's inference semantics: rows do not influence each other.
llvm::Expected<Metric> evaluateSamples(Executor &executor,
                                       const BatchAssembler &batches,
                                       int64_t offset, int64_t count);

/// Trains `model` on `device` as `options` say. Progress and summaries go
/// to `out`, warnings to `err`.
llvm::Expected<TrainStatus> train(const CompiledModel &model, Device &device,
                                  const TrainOptions &options,
                                  llvm::raw_ostream &out,
                                  llvm::raw_ostream &err);

/// Called by the SIGINT handler installed during training; exposed so
/// tests can simulate Ctrl-C without a signal.
void requestInterrupt();

} // namespace dlc::runtime

#endif // DLC_RUNTIME_TRAINER_H
