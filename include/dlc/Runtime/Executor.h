//===- Executor.h - Buffers and calls into the compiled code ----*- C++ -*-===//
//
// Owns every buffer the compiled entry points read and write and calls them
// through their packed interface. A train_step compiled in place (the
// default) updates the persistent tensors (params, opt_state, state) in
// their buffers: each exists once. One that returns them instead
// (`in-place=false`) reads the current copy and writes the other one, and
// the two are swapped after each step (ping-pong).
//
//===----------------------------------------------------------------------===//

#ifndef DLC_RUNTIME_EXECUTOR_H
#define DLC_RUNTIME_EXECUTOR_H

#include "dlc/Runtime/Model.h"

namespace dlc::runtime {

/// Loss and number of correct rows of one batch.
struct StepResult {
  float loss;
  int32_t correct;
};

class Executor {
public:
  explicit Executor(const CompiledModel &model);

  const CompiledModel &getModel() const { return model; }

  /// Initializes params and state by their initializers from `seed`, and
  /// zeroes the optimizer state.
  llvm::Error initialize(uint64_t seed);

  /// The current values of the persistent tensors (model order).
  std::vector<Tensor> &getTensors() { return current; }
  const std::vector<Tensor> &getTensors() const { return current; }

  /// The batch buffers: [batch, H, W, C] f32 and [batch] i32.
  float *getInput() { return input.data<float>(); }
  int32_t *getLabels() { return labels.data<int32_t>(); }

  /// One training step on the current batch.
  StepResult train(int64_t step, int64_t seed, float learningRate);
  /// eval_step on the current batch.
  StepResult evaluate();
  /// predict on the current batch: [batch, classes] f32 logits.
  const float *predict();

private:
  /// The packed argument array of one entry point and its descriptors.
  struct Call {
    std::vector<std::unique_ptr<MemRefDescriptor>> descriptors;
    std::vector<void *> packed;
  };
  void prepare(const BoundFunction &fn, Call &call);
  void bindAndCall(const BoundFunction &fn, Call &call);
  void *tensorFor(const Slot &slot, bool result);

  const CompiledModel &model;
  std::vector<Tensor> current, next;
  Tensor input, labels, loss, correct, logits;
  int64_t stepValue = 0, seedValue = 0;
  float learningRateValue = 0;
  Call trainCall, evalCall, predictCall;
};

} // namespace dlc::runtime

#endif // DLC_RUNTIME_EXECUTOR_H
