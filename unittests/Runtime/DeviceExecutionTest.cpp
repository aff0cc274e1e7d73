//===- DeviceExecutionTest.cpp - The runtime on a device ------------------===//
//
// The executor and the training loop on the CPU device, where a step
// allocates and copies nothing, and on a device without host-visible
// memory, where every byte that crosses is staged and copied and the
// results are bit for bit the CPU's (checkpoints and resume included).
//
//===----------------------------------------------------------------------===//

#include "FakeModel.h"
#include "TestDevice.h"
#include "TestUtil.h"

#include "dlc/Runtime/Checkpoint.h"
#include "dlc/Runtime/Executor.h"
#include "dlc/Runtime/Runtime.h"
#include "dlc/Runtime/Trainer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>

using namespace dlc::runtime;
using namespace dlc::runtime::testing;
using ::testing::HasSubstr;

namespace {

/// Fills the executor's batch with a deterministic pattern of batch `i`.
void fillBatch(Executor &executor, int i) {
  for (int64_t k = 0; k < kFakeBatch * kFakeHeight * kFakeWidth; ++k)
    executor.getInput()[k] = float((k * 7 + i * 3) % 11) / 11.0f;
  for (int64_t r = 0; r < kFakeBatch; ++r)
    executor.getLabels()[r] = int32_t((r + i) % kFakeClasses);
}

constexpr int64_t kInputBytes =
    kFakeBatch * kFakeHeight * kFakeWidth * kFakeChannels * 4;
constexpr int64_t kLabelBytes = kFakeBatch * 4;

TEST(ExecutorDeviceTest, CPUStepsAllocateAndCopyNothing) {
  resetFakeHooks();
  auto model = CompiledModel::create(fakeModel());
  ASSERT_TRUE(bool(model));
  CountingCPUDevice cpu;
  Executor executor = cantFail(Executor::create(**model, cpu));
  ASSERT_FALSE(executor.initialize(1));
  // Two copies of 6 persistent tensors (ping-pong), 5 staged tensors, and
  // the prefetcher's second batch buffer (input and labels).
  EXPECT_EQ(cpu.counts.allocations, 12 + 5 + 2);
  DeviceCounts before = cpu.counts;
  for (int i = 0; i < 3; ++i) {
    fillBatch(executor, i);
    cantFail(executor.train(i, 0, 0.1f));
    cantFail(executor.evaluate());
    cantFail(executor.predict());
  }
  EXPECT_EQ(cpu.counts.allocations, before.allocations);
  EXPECT_EQ(cpu.counts.copies(), 0);
  EXPECT_EQ(fakeHooks().abiErrors, 0);
}

TEST(ExecutorDeviceTest, HostInvisibleDeviceStagesTheBatchAndMatchesCPU) {
  resetFakeHooks();
  auto model = CompiledModel::create(fakeModel());
  ASSERT_TRUE(bool(model));
  CPUDevice cpu;
  HostInvisibleDevice device;
  Executor onCpu = cantFail(Executor::create(**model, cpu));
  Executor onDevice = cantFail(Executor::create(**model, device));
  ASSERT_FALSE(onCpu.initialize(4));
  ASSERT_FALSE(onDevice.initialize(4));
  DeviceCounts before = device.counts;
  for (int i = 0; i < 5; ++i) {
    fillBatch(onCpu, i);
    fillBatch(onDevice, i);
    StepResult a = cantFail(onCpu.train(i, 0, 0.1f));
    StepResult b = cantFail(onDevice.train(i, 0, 0.1f));
    EXPECT_EQ(a.loss, b.loss) << i;
    EXPECT_EQ(a.correct, b.correct) << i;
  }
  // Per step: the batch up, loss and correct down; nothing allocated.
  EXPECT_EQ(device.counts.bytesToDevice - before.bytesToDevice,
            5 * (kInputBytes + kLabelBytes));
  EXPECT_EQ(device.counts.bytesToHost - before.bytesToHost, 5 * 8);
  EXPECT_EQ(device.counts.allocations, before.allocations);
  EXPECT_EQ(device.counts.hostAllocations, before.hostAllocations);

  std::vector<Tensor> a = downloadAll(onCpu.getTensors());
  std::vector<Tensor> b = downloadAll(onDevice.getTensors());
  for (size_t i = 0; i < a.size(); ++i)
    EXPECT_EQ(a[i].bytes(), b[i].bytes()) << i;

  // Inference downloads the logits.
  fillBatch(onCpu, 9);
  fillBatch(onDevice, 9);
  const float *la = cantFail(onCpu.predict());
  const float *lb = cantFail(onDevice.predict());
  EXPECT_EQ(std::memcmp(la, lb, kFakeBatch * kFakeClasses * 4), 0);
  EXPECT_EQ(fakeHooks().abiErrors, 0);
}

TEST(ExecutorDeviceTest, ADeviceOutOfMemoryIsAnError) {
  auto model = CompiledModel::create(fakeModel());
  ASSERT_TRUE(bool(model));
  HostInvisibleDevice device;
  // Room for the 16x3 kernel and its second copy, not for the bias.
  device.capacity = 2 * 16 * 3 * 4;
  auto executor = Executor::create(**model, device);
  EXPECT_THAT(errorMessage(executor.takeError()),
              HasSubstr("cannot allocate param 'dense/bias' on the "
                        "host-invisible device: out of device memory (12 "
                        "bytes requested, 0 free)"));
  // What was allocated is given back.
  EXPECT_EQ(device.allocated, 0);
}

/// The tensors of a checkpoint file.
std::vector<std::vector<uint8_t>> checkpointTensors(const std::string &path) {
  auto file = SafeTensorsFile::read(path);
  EXPECT_TRUE(bool(file)) << errorMessage(file);
  std::vector<std::vector<uint8_t>> tensors;
  if (file)
    for (const SafeTensorsFile::Entry &e : file->getEntries())
      tensors.emplace_back(e.data.begin(), e.data.end());
  return tensors;
}

TEST(TrainerDeviceTest, TrainingAndResumeOnAHostInvisibleDeviceMatchCPU) {
  resetFakeHooks();
  auto model = CompiledModel::create(fakeModel());
  ASSERT_TRUE(bool(model));
  TempDir onCpu, onDevice, resumed;
  TrainOptions options;
  options.data = "synthetic:train=200,test=50,noise=24";
  options.epochs = 2;
  options.seed = 5;
  options.progress = ProgressReporter::Style::Quiet;
  std::string out, err;
  llvm::raw_string_ostream os(out), es(err);

  CPUDevice cpu;
  options.outDir = onCpu.path();
  auto status = train(**model, cpu, options, os, es);
  ASSERT_TRUE(bool(status)) << errorMessage(status);
  ASSERT_EQ(*status, TrainStatus::Finished) << err;

  HostInvisibleDevice device;
  options.outDir = onDevice.path();
  status = train(**model, device, options, os, es);
  ASSERT_TRUE(bool(status)) << errorMessage(status);
  ASSERT_EQ(*status, TrainStatus::Finished) << err;
  // Every batch after an epoch's first one was prefetched (input and
  // labels: two copies each), made only at the call that reads it.
  int64_t b = (*model)->getBatchSize();
  int64_t steps = (180 + b - 1) / b; // 200 samples, 10% held out
  EXPECT_EQ(device.counts.prefetches, 2 * 2 * (steps - 1));
  EXPECT_EQ(checkpointTensors(onCpu.file("last.safetensors")),
            checkpointTensors(onDevice.file("last.safetensors")));
  EXPECT_EQ(checkpointTensors(onCpu.file("best.safetensors")),
            checkpointTensors(onDevice.file("best.safetensors")));

  // A CPU run's first epoch, resumed on the device for the second.
  options.epochs = 1;
  options.outDir = resumed.path();
  status = train(**model, cpu, options, os, es);
  ASSERT_TRUE(bool(status)) << errorMessage(status);
  options.epochs = 2;
  options.seed.reset();
  options.resume = resumed.file("last.safetensors");
  status = train(**model, device, options, os, es);
  ASSERT_TRUE(bool(status)) << errorMessage(status);
  ASSERT_EQ(*status, TrainStatus::Finished) << err;
  EXPECT_EQ(checkpointTensors(onCpu.file("last.safetensors")),
            checkpointTensors(resumed.file("last.safetensors")));
  EXPECT_EQ(fakeHooks().abiErrors, 0);
}

TEST(CommandLineDeviceTest, ACUDAModelIsDescribedButNotRun) {
  auto gpu = createDevice(DLC_DEVICE_CUDA);
  bool haveGPU = bool(gpu);
  if (!haveGPU)
    llvm::consumeError(gpu.takeError());
  if (haveGPU)
    GTEST_SKIP() << "this machine has a CUDA GPU: the fake model's CPU entry "
                    "points cannot run on it";
  resetFakeHooks();
  dlc_model_info cuda = fakeModel();
  cuda.device = DLC_DEVICE_CUDA;
  auto run = [&](std::vector<std::string> args, std::string &out,
                 std::string &err) {
    llvm::raw_string_ostream os(out), es(err);
    return runMain("fake", args, cuda, os, es, /*terminal=*/false);
  };
  std::string out, err;
  EXPECT_EQ(run({"info"}, out, err), ExitSuccess) << err;
  EXPECT_THAT(out, HasSubstr("dense/kernel/velocity"));
  for (std::vector<std::string> args :
       {std::vector<std::string>{"train", "--data", "synthetic"},
        {"evaluate", "--data", "synthetic", "--checkpoint", "x"},
        {"predict", "--checkpoint", "x", "--input", "y"}}) {
    out.clear(), err.clear();
    EXPECT_EQ(run(args, out, err), ExitError) << args[0];
    EXPECT_THAT(err, HasSubstr("compiled for a CUDA device (--target cuda), "
                               "but no CUDA"))
        << args[0];
  }
  // A command-line mistake is still reported as one.
  out.clear(), err.clear();
  EXPECT_EQ(run({"train", "--epochs", "x", "--data", "synthetic"}, out, err),
            ExitUsage);
  EXPECT_EQ(fakeHooks().trainCalls, 0);
}

} // namespace
