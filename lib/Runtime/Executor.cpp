//===- Executor.cpp - Buffers and calls into the compiled code ------------===//
//
// Descriptors are built once per entry point; each call only re-points them
// at the current buffers (which change with every ping-pong swap). Every
// buffer is allocated once, in create(): a step allocates nothing.
//
//===----------------------------------------------------------------------===//

#include "dlc/Runtime/Executor.h"
#include "dlc/Runtime/Initializers.h"

#include <cassert>
#include <cstring>

using namespace dlc::runtime;

llvm::Expected<Executor> Executor::create(const CompiledModel &model,
                                          Device &device) {
  Executor executor(model, device);
  auto onDevice = [&](const TensorSpec &spec) {
    auto tensor = DeviceTensor::allocate(device, spec.dtype, spec.shape);
    if (!tensor)
      return llvm::Expected<DeviceTensor>(llvm::createStringError(
          "cannot allocate " + groupName(spec.group) + " '" + spec.name +
          "' on the " + device.getName() +
          " device: " + llvm::toString(tensor.takeError())));
    return tensor;
  };
  for (const TensorSpec &spec : model.getTensors()) {
    auto tensor = onDevice(spec);
    if (!tensor)
      return tensor.takeError();
    executor.current.push_back(std::move(*tensor));
    // Only a train_step that returns new values (rather than updating its
    // arguments in place) needs a second copy to write them into.
    bool pingPong = model.getTrainStep() && !model.getTrainStep().inPlace;
    if (!pingPong) {
      executor.next.emplace_back();
      continue;
    }
    tensor = onDevice(spec);
    if (!tensor)
      return tensor.takeError();
    executor.next.push_back(std::move(*tensor));
  }

  llvm::ArrayRef<int64_t> shape = model.getInputShape();
  auto stage = [&](StagedTensor &tensor, const char *name, DType dtype,
                   llvm::ArrayRef<int64_t> shape) -> llvm::Error {
    auto staged = StagedTensor::allocate(device, dtype, shape);
    if (!staged)
      return llvm::createStringError(
          llvm::Twine("cannot allocate the ") + name + " buffer on the " +
          device.getName() + " device: " + llvm::toString(staged.takeError()));
    tensor = std::move(*staged);
    return llvm::Error::success();
  };
  for (Batch &batch : executor.batches) {
    if (llvm::Error e = stage(batch.input, "input", DType::F32, shape))
      return std::move(e);
    if (llvm::Error e = stage(batch.labels, "labels", DType::I32, shape[0]))
      return std::move(e);
  }
  if (llvm::Error e = stage(executor.loss, "loss", DType::F32, {}))
    return std::move(e);
  if (llvm::Error e = stage(executor.correct, "correct", DType::I32, {}))
    return std::move(e);
  if (model.getNumClasses())
    if (llvm::Error e = stage(executor.logits, "logits", DType::F32,
                              {shape[0], model.getNumClasses()}))
      return std::move(e);
  for (const FeatureMapSpec &map : model.getFeatureMaps()) {
    executor.featureMaps.emplace_back();
    if (llvm::Error e = stage(executor.featureMaps.back(), "feature map",
                              DType::F32, map.shape))
      return std::move(e);
  }
  // Scalars some entry point reads from device memory.
  for (const BoundFunction *fn : {&model.getTrainStep(), &model.getEvalStep(),
                                  &model.getPredict(), &model.getGradients()}) {
    if (!*fn)
      continue;
    for (auto [i, slot] : llvm::enumerate(fn->args)) {
      if (!(fn->info->args[i].flags & DLC_TENSOR_DEVICE_SCALAR))
        continue;
      StagedTensor *scalar = executor.deviceScalarFor(slot);
      if (!scalar || scalar->device().getSizeInBytes())
        continue;
      DType dtype = slot.kind == Slot::LearningRate ? DType::F32 : DType::I64;
      if (llvm::Error e = stage(*scalar, "scalar", dtype, {}))
        return std::move(e);
    }
  }
  executor.prepare(model.getTrainStep(), executor.trainCall);
  executor.prepare(model.getEvalStep(), executor.evalCall);
  executor.prepare(model.getPredict(), executor.predictCall);
  executor.prepare(model.getFeatures(), executor.featuresCall);
  if (model.getGradients()) {
    for (const TensorSpec &spec : model.getTensors()) {
      if (spec.group != TensorGroup::Param)
        break; // Params come first.
      auto tensor = onDevice(spec);
      if (!tensor)
        return tensor.takeError();
      executor.gradientBuffers.push_back(std::move(*tensor));
    }
    executor.prepare(model.getGradients(), executor.gradientsCall);
  }
  return std::move(executor);
}

llvm::Error Executor::initialize(uint64_t seed, bool reinitialize) {
  for (auto [spec, tensor] : llvm::zip(model.getTensors(), current)) {
    // On the CPU this fills the device memory in place.
    Tensor host = tensor.hostTensor();
    if (!spec.initialValue.empty() && !reinitialize) {
      // Checked against the shape when the table was read.
      std::memcpy(host.data(), spec.initialValue.data(),
                  spec.initialValue.size() * sizeof(float));
    } else if (llvm::Error err = initializeTensor(host, spec.init, seed,
                                                  spec.name, spec.initConfig)) {
      return err;
    }
    if (llvm::Error err = tensor.upload(host))
      return err;
  }
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
    if (t.rank < 0 && !(t.flags & DLC_TENSOR_DEVICE_SCALAR))
      continue; // Scalars by value: bound in bindAndCall.
    call.descriptors[i] = std::make_unique<MemRefDescriptor>(
        llvm::ArrayRef<int64_t>(t.shape, std::max(t.rank, 0)));
    call.packed[i] = call.descriptors[i]->packedArgument();
  }
}

void *Executor::addressFor(const Slot &slot, bool result) {
  switch (slot.kind) {
  case Slot::Persistent:
    return (result ? next : current)[slot.tensor].getAddress();
  case Slot::Input:
    return batches[selected].input.device().getAddress();
  case Slot::Labels:
    return batches[selected].labels.device().getAddress();
  case Slot::Step:
    return &stepValue;
  case Slot::Seed:
    return &seedValue;
  case Slot::LearningRate:
    return &learningRateValue;
  case Slot::Loss:
    return loss.device().getAddress();
  case Slot::Correct:
    return correct.device().getAddress();
  case Slot::Logits:
    return logits.device().getAddress();
  case Slot::Feature:
    return featureMaps[slot.tensor].device().getAddress();
  case Slot::Gradient:
    return gradientBuffers[slot.tensor].getAddress();
  }
  return nullptr;
}

StagedTensor *Executor::deviceScalarFor(const Slot &slot) {
  switch (slot.kind) {
  case Slot::Step:
    return &stepOnDevice;
  case Slot::Seed:
    return &seedOnDevice;
  case Slot::LearningRate:
    return &learningRateOnDevice;
  default:
    return nullptr;
  }
}

llvm::Error Executor::prefetchBatch(unsigned buffer) {
  assert(buffer < 2 && "two batch buffers");
  if (llvm::Error e = batches[buffer].input.prefetch())
    return e;
  if (llvm::Error e = batches[buffer].labels.prefetch())
    return e;
  batches[buffer].prefetched = true;
  return llvm::Error::success();
}

llvm::Error Executor::bindAndCall(const BoundFunction &fn, Call &call) {
  // The batch the host assembled since the last step, unless prefetchBatch
  // has already started its upload (the device waits for it).
  Batch &batch = batches[selected];
  if (!batch.prefetched) {
    if (llvm::Error e = batch.input.upload())
      return e;
    if (llvm::Error e = batch.labels.upload())
      return e;
  }
  batch.prefetched = false;
  const dlc_function_info &info = *fn.info;
  llvm::SmallVector<const void *, 64> buffers;
  for (int i = 0, e = info.num_args + info.num_results; i < e; ++i) {
    bool result = i >= info.num_args;
    const Slot &slot = result ? fn.results[i - info.num_args] : fn.args[i];
    void *address = addressFor(slot, result);
    const dlc_tensor_info &t =
        result ? info.results[i - info.num_args] : info.args[i];
    if (!result && (t.flags & DLC_TENSOR_DEVICE_SCALAR)) {
      // The value goes to device memory, ahead of the call on the stream.
      StagedTensor &scalar = *deviceScalarFor(slot);
      std::memcpy(scalar.host().data(), address,
                  scalar.device().getSizeInBytes());
      if (llvm::Error err = scalar.upload())
        return err;
      address = scalar.device().getAddress();
    }
    buffers.push_back(address);
    if (call.descriptors[i])
      call.descriptors[i]->bind(address);
    else
      call.packed[i] = address; // Scalars by value live on the host.
  }
  return device.call(info, call.packed.data(), buffers);
}

llvm::Expected<StepResult> Executor::readLossAndCorrect() {
  if (llvm::Error e = loss.download())
    return std::move(e);
  if (llvm::Error e = correct.download())
    return std::move(e);
  return StepResult{*loss.host().data<float>(),
                    *correct.host().data<int32_t>()};
}

llvm::Expected<StepResult> Executor::train(int64_t step, int64_t seed,
                                           float learningRate) {
  assert(model.getTrainStep() && "the model has no train_step");
  stepValue = step;
  seedValue = seed;
  learningRateValue = learningRate;
  if (llvm::Error e = bindAndCall(model.getTrainStep(), trainCall))
    return std::move(e);
  if (!model.getTrainStep().inPlace)
    std::swap(current, next);
  return readLossAndCorrect();
}

llvm::Expected<StepResult> Executor::evaluate() {
  assert(model.getEvalStep() && "the model has no eval_step");
  if (llvm::Error e = bindAndCall(model.getEvalStep(), evalCall))
    return std::move(e);
  return readLossAndCorrect();
}

llvm::Error Executor::gradients(int64_t step, int64_t seed) {
  assert(model.getGradients() && "the model has no gradients");
  stepValue = step;
  seedValue = seed;
  return bindAndCall(model.getGradients(), gradientsCall);
}

llvm::Expected<const float *> Executor::predict() {
  assert(model.getPredict() && "the model has no predict");
  if (llvm::Error e = bindAndCall(model.getPredict(), predictCall))
    return std::move(e);
  if (llvm::Error e = logits.download())
    return std::move(e);
  return logits.host().data<float>();
}

llvm::Expected<std::vector<const float *>> Executor::features() {
  assert(model.getFeatures() && "the model has no features");
  if (llvm::Error e = bindAndCall(model.getFeatures(), featuresCall))
    return std::move(e);
  std::vector<const float *> maps;
  for (StagedTensor &map : featureMaps) {
    if (llvm::Error e = map.download())
      return std::move(e);
    maps.push_back(map.host().data<float>());
  }
  return maps;
}
