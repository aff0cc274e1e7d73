//===- LRSchedule.h - Learning-rate schedules -------------------*- C++ -*-===//
//
// The learning rate is an argument of the compiled train_step, so schedules
// live in the runtime. The rate is a pure function of the step number
// (updates already applied), which keeps resumed runs exact.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_RUNTIME_LRSCHEDULE_H
#define DLC_RUNTIME_LRSCHEDULE_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>

namespace dlc::runtime {

struct LRSchedule {
  enum Kind { Constant, Step, Cosine } kind = Constant;
  double baseRate = 0.001;
  /// Linear warm-up from baseRate/warmupSteps to baseRate over this many
  /// epochs (fractions allowed), before the schedule proper.
  double warmupEpochs = 0;
  /// Step: multiply by decayFactor every decayEpochs epochs.
  double decayEpochs = 1;
  double decayFactor = 0.1;
  /// Cosine: decay from baseRate to minRate at the end of training.
  double minRate = 0;
  int64_t stepsPerEpoch = 1;
  int64_t epochs = 1;

  /// The learning rate of the update that follows `step` updates.
  double at(int64_t step) const;
  /// "cosine (0.001 -> 0, warm-up 1 epoch)" and the like.
  std::string describe() const;
};

/// Parses constant | step | cosine.
llvm::Expected<LRSchedule::Kind> parseScheduleKind(llvm::StringRef name);

} // namespace dlc::runtime

#endif // DLC_RUNTIME_LRSCHEDULE_H
