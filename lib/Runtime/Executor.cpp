//===- Executor.cpp - Buffers and calls into the compiled code ------------===//
//
// Descriptors are built once per entry point; each call only re-points them
// at the current buffers (which change with every ping-pong swap).
//
//===----------------------------------------------------------------------===//

#include "dlc/Runtime/Executor.h"
#include "dlc/Runtime/Initializers.h"

#include <cassert>

using namespace dlc::runtime;

Executor::Executor(const CompiledModel &model) : model(model) {
  for (const TensorSpec &spec : model.getTensors()) {
    current.emplace_back(spec.dtype, spec.shape);
    // Only a train_step that returns new values (rather than updating its
    // arguments in place) needs a second copy to write them into.
    bool pingPong = model.getTrainStep() && !model.getTrainStep().inPlace;
    next.emplace_back(pingPong ? Tensor(spec.dtype, spec.shape) : Tensor());
  }
  llvm::ArrayRef<int64_t> shape = model.getInputShape();
  input = Tensor(DType::F32, shape);
  labels = Tensor(DType::I32, {shape[0]});
  loss = Tensor(DType::F32, {});
  correct = Tensor(DType::I32, {});
  if (model.getNumClasses())
    logits = Tensor(DType::F32, {shape[0], model.getNumClasses()});
  prepare(model.getTrainStep(), trainCall);
  prepare(model.getEvalStep(), evalCall);
  prepare(model.getPredict(), predictCall);
}

llvm::Error Executor::initialize(uint64_t seed) {
  for (auto [spec, tensor] : llvm::zip(model.getTensors(), current))
    if (llvm::Error err = initializeTensor(tensor, spec.init, seed, spec.name,
                                           spec.initConfig))
      return err;
  return llvm::Error::success();
}

void Executor::prepare(const BoundFunction &fn, Call &call) {
  if (!fn)
    return;
  const dlc_function_info &info = *fn.info;
  int total = info.num_args + info.num_results;
  call.descriptors.resize(total);
  call.packed.resize(total);
  for (int i = 0; i < total; ++i) {
    const dlc_tensor_info &t =
        i < info.num_args ? info.args[i] : info.results[i - info.num_args];
    if (t.rank < 0)
      continue; // Scalars by value: bound in bindAndCall.
    call.descriptors[i] = std::make_unique<MemRefDescriptor>(
        llvm::ArrayRef<int64_t>(t.shape, t.rank));
    call.packed[i] = call.descriptors[i]->packedArgument();
  }
}

void *Executor::tensorFor(const Slot &slot, bool result) {
  switch (slot.kind) {
  case Slot::Persistent:
    return (result ? next : current)[slot.tensor].data();
  case Slot::Input:
    return input.data();
  case Slot::Labels:
    return labels.data();
  case Slot::Step:
    return &stepValue;
  case Slot::Seed:
    return &seedValue;
  case Slot::LearningRate:
    return &learningRateValue;
  case Slot::Loss:
    return loss.data();
  case Slot::Correct:
    return correct.data();
  case Slot::Logits:
    return logits.data();
  }
  return nullptr;
}

void Executor::bindAndCall(const BoundFunction &fn, Call &call) {
  const dlc_function_info &info = *fn.info;
  for (int i = 0, e = info.num_args + info.num_results; i < e; ++i) {
    bool result = i >= info.num_args;
    const Slot &slot = result ? fn.results[i - info.num_args] : fn.args[i];
    void *data = tensorFor(slot, result);
    if (call.descriptors[i])
      call.descriptors[i]->bind(data);
    else
      call.packed[i] = data;
  }
  info.packed(call.packed.data());
}

StepResult Executor::train(int64_t step, int64_t seed, float learningRate) {
  assert(model.getTrainStep() && "the model has no train_step");
  stepValue = step;
  seedValue = seed;
  learningRateValue = learningRate;
  bindAndCall(model.getTrainStep(), trainCall);
  if (!model.getTrainStep().inPlace)
    std::swap(current, next);
  return {*loss.data<float>(), *correct.data<int32_t>()};
}

StepResult Executor::evaluate() {
  assert(model.getEvalStep() && "the model has no eval_step");
  bindAndCall(model.getEvalStep(), evalCall);
  return {*loss.data<float>(), *correct.data<int32_t>()};
}

const float *Executor::predict() {
  assert(model.getPredict() && "the model has no predict");
  bindAndCall(model.getPredict(), predictCall);
  return logits.data<float>();
}
