//===- Executor.h - Buffers and calls into the compiled code ----*- C++ -*-===//
//
// Owns every buffer the compiled entry points read and write, in the memory
// of the model's device, and calls them through their packed interface. A
// train_step compiled in place (the default) updates the persistent tensors
// (params, opt_state, state) in their buffers: each exists once. One that
// returns them instead (`in-place=false`) reads the current copy and writes
// the other one, and the two are swapped after each step (ping-pong).
//
// The batch is written by the host into staging memory that each step
// uploads, and the step's outputs are downloaded for the host to read; on
// the CPU device both are the device buffers themselves (no copies). There
// are two batch buffers, each with its own device memory, so that the host
// can fill one (Prefetcher.h) while a step reads the other.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_RUNTIME_EXECUTOR_H
#define DLC_RUNTIME_EXECUTOR_H

#include "dlc/Runtime/DeviceTensor.h"
#include "dlc/Runtime/Model.h"

#include <cassert>

namespace dlc::runtime {

/// Loss and number of correct rows of one batch.
struct StepResult {
  float loss;
  int32_t correct;
};

class Executor {
public:
  /// Allocates every buffer of `model` on `device`, which must outlive the
  /// executor.
  static llvm::Expected<Executor> create(const CompiledModel &model,
                                         Device &device);

  const CompiledModel &getModel() const { return model; }
  Device &getDevice() const { return device; }

  /// Initializes params and state by their initializers from `seed`, and
  /// zeroes the optimizer state. Tensors with an initial value (imported
  /// ONNX weights) start from it unless `reinitialize`.
  llvm::Error initialize(uint64_t seed, bool reinitialize = false);

  /// The current values of the persistent tensors (model order), on the
  /// device.
  std::vector<DeviceTensor> &getTensors() { return current; }
  const std::vector<DeviceTensor> &getTensors() const { return current; }

  /// The host staging memory of the selected batch buffer, read by the
  /// next step: [batch, H, W, C] f32 and [batch] i32.
  float *getInput() { return getInput(selected); }
  int32_t *getLabels() { return getLabels(selected); }
  /// The same for batch buffer `buffer` (0 or 1), selected or not. The
  /// host is about to write it: the next call uploads it again, unless
  /// prefetchBatch comes in between.
  float *getInput(unsigned buffer) {
    batches[buffer].prefetched = false;
    return batches[buffer].input.host().data<float>();
  }
  int32_t *getLabels(unsigned buffer) {
    batches[buffer].prefetched = false;
    return batches[buffer].labels.host().data<int32_t>();
  }
  /// The steps read batch buffer `buffer` from now on.
  void selectBatch(unsigned buffer) {
    assert(buffer < 2 && "two batch buffers");
    selected = buffer;
  }
  unsigned getSelectedBatch() const { return selected; }
  /// Starts uploading batch buffer `buffer`, assembled on the host, while
  /// the queued step runs (Device::prefetchToDevice); the next call that
  /// reads it uploads nothing. Any thread; `buffer` must not be the one
  /// the queued step reads, nor be written again before that call.
  llvm::Error prefetchBatch(unsigned buffer);

  /// One training step on the current batch.
  llvm::Expected<StepResult> train(int64_t step, int64_t seed,
                                   float learningRate);
  /// eval_step on the current batch.
  llvm::Expected<StepResult> evaluate();
  /// predict on the current batch: [batch, classes] f32 logits in host
  /// memory, valid until the next call.
  llvm::Expected<const float *> predict();
  /// features on the current batch: one [batch, H, W, C] f32 map per
  /// CompiledModel::getFeatureMaps() entry, in host memory, valid until
  /// the next call. The model must have features.
  llvm::Expected<std::vector<const float *>> features();
  /// `gradients` on the current batch with train_step's (step, seed) keys;
  /// the model must have it. The gradient of param tensor i is then
  /// getGradient(i), on the device, valid until the next call.
  llvm::Error gradients(int64_t step, int64_t seed);
  const DeviceTensor &getGradient(unsigned param) const {
    return gradientBuffers[param];
  }

private:
  Executor(const CompiledModel &model, Device &device)
      : model(model), device(device) {}

  /// The packed argument array of one entry point and its descriptors.
  struct Call {
    std::vector<std::unique_ptr<MemRefDescriptor>> descriptors;
    std::vector<void *> packed;
  };
  void prepare(const BoundFunction &fn, Call &call);
  llvm::Error bindAndCall(const BoundFunction &fn, Call &call);
  void *addressFor(const Slot &slot, bool result);
  StagedTensor *deviceScalarFor(const Slot &slot);
  llvm::Expected<StepResult> readLossAndCorrect();

  const CompiledModel &model;
  Device &device;
  std::vector<DeviceTensor> current, next;
  /// A batch: input and labels.
  struct Batch {
    StagedTensor input, labels;
    /// Uploaded by prefetchBatch since it was last read.
    bool prefetched = false;
  };
  Batch batches[2];
  unsigned selected = 0;
  StagedTensor loss, correct, logits;
  /// The step's scalars in device memory, for entry points that read them
  /// there (DLC_TENSOR_DEVICE_SCALAR: a captured CUDA graph replays with
  /// the parameters it was captured with).
  StagedTensor stepOnDevice, seedOnDevice, learningRateOnDevice;
  int64_t stepValue = 0, seedValue = 0;
  float learningRateValue = 0;
  std::vector<StagedTensor> featureMaps;
  Call trainCall, evalCall, predictCall, featuresCall, gradientsCall;
  /// By param tensor index, with `gradients` only.
  std::vector<DeviceTensor> gradientBuffers;
};

} // namespace dlc::runtime

#endif // DLC_RUNTIME_EXECUTOR_H
