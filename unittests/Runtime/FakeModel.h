//===- FakeModel.h - A hand-written model implementing the ABI --*- C++ -*-===//
//
// Tests of the runtime need a model without the compiler: this is softmax
// (multinomial logistic) regression on flattened images, trained with SGD
// with momentum, written by hand against the packed ABI of ModelABI.h. It
// has every tensor group (params, opt_state, state) and entry point, checks
// the descriptors it receives, and has hooks that make a step produce a NaN
// loss or raise SIGINT.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_UNITTESTS_RUNTIME_FAKEMODEL_H
#define DLC_UNITTESTS_RUNTIME_FAKEMODEL_H

#include "dlc/Runtime/ModelABI.h"

#include <cstdint>

namespace dlc::runtime::testing {

/// The fake model's shapes.
constexpr int64_t kFakeBatch = 16, kFakeHeight = 4, kFakeWidth = 4,
                  kFakeChannels = 1, kFakeClasses = 3;

/// The model table (name "fake_logreg"); its train_step returns the new
/// persistent tensors (the `in-place=false` form, run ping-pong).
const dlc_model_info &fakeModel();
/// The same model with a train_step that updates params, opt_state and
/// state in place (DLC_TENSOR_IN_PLACE) and returns only loss and correct.
/// Its steps compute bit for bit what fakeModel's do.
const dlc_model_info &fakeInPlaceModel();
/// The same model under another name with a differently shaped kernel
/// (for "checkpoint from another model" tests).
const dlc_model_info &otherFakeModel();

/// Test hooks, reset by resetFakeHooks(): train_step returns a NaN loss
/// when its `step` argument equals nanAtStep, and raises SIGINT when it
/// equals interruptAtStep (-1: never).
struct FakeHooks {
  int64_t nanAtStep = -1;
  int64_t interruptAtStep = -1;
  /// Number of train_step calls, and ABI violations seen (descriptor
  /// shapes/strides, results aliasing arguments).
  int64_t trainCalls = 0;
  int64_t abiErrors = 0;
};
FakeHooks &fakeHooks();
void resetFakeHooks();

} // namespace dlc::runtime::testing

#endif // DLC_UNITTESTS_RUNTIME_FAKEMODEL_H
