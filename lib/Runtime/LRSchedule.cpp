//===- LRSchedule.cpp - Learning-rate schedules ---------------------------===//
//
// Definitions follow PyTorch's StepLR and CosineAnnealingLR (per step, not
// per epoch, for the cosine) with a linear warm-up in front.
//
//===----------------------------------------------------------------------===//

#include "dlc/Runtime/LRSchedule.h"
#include "dlc/Runtime/Support.h"

#include <algorithm>
#include <cmath>

using namespace dlc::runtime;

double LRSchedule::at(int64_t step) const {
  int64_t warmupSteps =
      static_cast<int64_t>(std::llround(warmupEpochs * stepsPerEpoch));
  if (step < warmupSteps)
    return baseRate * double(step + 1) / double(warmupSteps);
  switch (kind) {
  case Constant:
    return baseRate;
  case Step: {
    double epoch = double(step / std::max<int64_t>(1, stepsPerEpoch));
    return baseRate * std::pow(decayFactor, std::floor(epoch / decayEpochs));
  }
  case Cosine: {
    int64_t total = std::max<int64_t>(1, epochs * stepsPerEpoch - warmupSteps);
    double t = std::clamp(double(step - warmupSteps) / double(total), 0.0, 1.0);
    return minRate + (baseRate - minRate) * 0.5 * (1 + std::cos(M_PI * t));
  }
  }
  return baseRate;
}

std::string LRSchedule::describe() const {
  std::string s;
  switch (kind) {
  case Constant:
    s = "constant " + formatNumber(baseRate);
    break;
  case Step:
    s = "step " + formatNumber(baseRate) + ", x" + formatNumber(decayFactor) +
        " every " + formatNumber(decayEpochs) + " epochs";
    break;
  case Cosine:
    s = "cosine " + formatNumber(baseRate) + " -> " + formatNumber(minRate);
    break;
  }
  if (warmupEpochs > 0)
    s += ", linear warm-up over " + formatNumber(warmupEpochs) + " epochs";
  return s;
}

llvm::Expected<LRSchedule::Kind>
dlc::runtime::parseScheduleKind(llvm::StringRef name) {
  if (name == "constant")
    return LRSchedule::Constant;
  if (name == "step")
    return LRSchedule::Step;
  if (name == "cosine")
    return LRSchedule::Cosine;
  return llvm::createStringError(
      "unknown learning-rate schedule '%s' (constant, step or cosine)",
      name.str().c_str());
}
