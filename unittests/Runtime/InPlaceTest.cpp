//===- InPlaceTest.cpp - train_step updating its arguments in place -------===//
//
// The in-place form of train_step (DLC_TENSOR_IN_PLACE params, opt_state and
// state; results loss and correct only) against the ping-pong form
// (`in-place=false`): one buffer per persistent tensor that never moves, no
// allocation or copy per step, and the same numbers bit for bit, through
// the executor, the training loop, checkpoints and resume.
//
//===----------------------------------------------------------------------===//

#include "FakeModel.h"
#include "TestDevice.h"
#include "TestUtil.h"

#include "dlc/Runtime/Checkpoint.h"
#include "dlc/Runtime/Executor.h"
#include "dlc/Runtime/Runtime.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

using namespace dlc::runtime;
using namespace dlc::runtime::testing;
using ::testing::HasSubstr;

namespace {

void fillBatch(Executor &executor, int i) {
  for (int64_t k = 0; k < kFakeBatch * kFakeHeight * kFakeWidth; ++k)
    executor.getInput()[k] = float((k * 5 + i) % 13) / 13.0f;
  for (int64_t r = 0; r < kFakeBatch; ++r)
    executor.getLabels()[r] = int32_t((r * 2 + i) % kFakeClasses);
}

class InPlaceTest : public ::testing::Test {
protected:
  void SetUp() override {
    resetFakeHooks();
    auto created = CompiledModel::create(fakeInPlaceModel());
    ASSERT_TRUE(bool(created)) << errorMessage(created);
    inPlace = std::move(*created);
    created = CompiledModel::create(fakeModel());
    ASSERT_TRUE(bool(created)) << errorMessage(created);
    pingPong = std::move(*created);
  }
  void TearDown() override { EXPECT_EQ(fakeHooks().abiErrors, 0); }

  std::unique_ptr<CompiledModel> inPlace, pingPong;
};

TEST_F(InPlaceTest, OneBufferPerTensorThatNeverMoves) {
  ASSERT_TRUE(inPlace->getTrainStep().inPlace);
  CountingCPUDevice cpu;
  Executor executor = cantFail(Executor::create(*inPlace, cpu));
  // 6 persistent tensors once, and input, labels, loss, correct, logits,
  // and the prefetcher's second input and labels.
  EXPECT_EQ(cpu.counts.allocations, 6 + 5 + 2);
  ASSERT_FALSE(executor.initialize(2));
  std::vector<void *> addresses;
  for (const DeviceTensor &t : executor.getTensors())
    addresses.push_back(t.getAddress());
  float before = downloadAll(executor.getTensors())[0].data<float>()[0];
  DeviceCounts counts = cpu.counts;
  for (int i = 0; i < 3; ++i) {
    fillBatch(executor, i);
    cantFail(executor.train(i, 0, 0.1f));
  }
  EXPECT_EQ(cpu.counts.allocations, counts.allocations);
  EXPECT_EQ(cpu.counts.copies(), 0);
  for (size_t i = 0; i < addresses.size(); ++i)
    EXPECT_EQ(executor.getTensors()[i].getAddress(), addresses[i]);
  // The values changed in those buffers.
  EXPECT_NE(downloadAll(executor.getTensors())[0].data<float>()[0], before);
  EXPECT_EQ(fakeHooks().trainCalls, 3);
}

/// Trains both forms on `device` for a few steps and expects the same
/// losses and tensors.
void expectSameSteps(const CompiledModel &a, const CompiledModel &b,
                     Device &device) {
  Executor x = cantFail(Executor::create(a, device));
  Executor y = cantFail(Executor::create(b, device));
  ASSERT_FALSE(x.initialize(8));
  ASSERT_FALSE(y.initialize(8));
  for (int i = 0; i < 5; ++i) {
    fillBatch(x, i);
    fillBatch(y, i);
    StepResult rx = cantFail(x.train(i, 0, 0.05f));
    StepResult ry = cantFail(y.train(i, 0, 0.05f));
    EXPECT_EQ(rx.loss, ry.loss) << i;
    EXPECT_EQ(rx.correct, ry.correct) << i;
  }
  std::vector<Tensor> tx = downloadAll(x.getTensors());
  std::vector<Tensor> ty = downloadAll(y.getTensors());
  for (size_t i = 0; i < tx.size(); ++i)
    EXPECT_EQ(tx[i].bytes(), ty[i].bytes()) << i;
}

TEST_F(InPlaceTest, ComputesWhatPingPongComputes) {
  CPUDevice cpu;
  expectSameSteps(*inPlace, *pingPong, cpu);
}

TEST_F(InPlaceTest, OnAHostInvisibleDeviceOnlyTheBatchAndOutputsCross) {
  HostInvisibleDevice device;
  {
    Executor executor = cantFail(Executor::create(*inPlace, device));
    EXPECT_EQ(device.counts.allocations, 6 + 5 + 2);
    ASSERT_FALSE(executor.initialize(8));
    DeviceCounts counts = device.counts;
    fillBatch(executor, 0);
    cantFail(executor.train(0, 0, 0.05f));
    EXPECT_EQ(device.counts.copiesToDevice - counts.copiesToDevice, 2);
    EXPECT_EQ(device.counts.copiesToHost - counts.copiesToHost, 2);
    EXPECT_EQ(device.counts.allocations, counts.allocations);
  }
  expectSameSteps(*inPlace, *pingPong, device);
}

struct Result {
  int status;
  std::string out, err;
};

Result runCli(const dlc_model_info &model, std::vector<std::string> args) {
  Result r;
  llvm::raw_string_ostream out(r.out), err(r.err);
  r.status = runMain("fake", args, model, out, err, /*terminal=*/false);
  return r;
}

/// The tensors of a checkpoint file, by position.
std::vector<std::vector<uint8_t>> checkpointTensors(const std::string &path) {
  auto file = SafeTensorsFile::read(path);
  EXPECT_TRUE(bool(file)) << errorMessage(file);
  std::vector<std::vector<uint8_t>> tensors;
  if (file)
    for (const SafeTensorsFile::Entry &e : file->getEntries())
      tensors.emplace_back(e.data.begin(), e.data.end());
  return tensors;
}

const char *kData = "synthetic:train=200,test=50,noise=24";

TEST_F(InPlaceTest, TrainingCheckpointsAndCtrlCResumeMatchPingPong) {
  TempDir whole, inPlaceRun, resumed;
  auto train = [&](const dlc_model_info &model, const std::string &out,
                   std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"train", "--data",     kData, "--out",
                                     out,     "--seed",     "5",   "--epochs",
                                     "3",     "--progress", "none"};
    args.insert(args.end(), extra.begin(), extra.end());
    return runCli(model, args);
  };
  Result r = train(fakeModel(), whole.path());
  ASSERT_EQ(r.status, ExitSuccess) << r.err;
  r = train(fakeInPlaceModel(), inPlaceRun.path());
  ASSERT_EQ(r.status, ExitSuccess) << r.err;
  EXPECT_EQ(checkpointTensors(whole.file("last.safetensors")),
            checkpointTensors(inPlaceRun.file("last.safetensors")));

  // Interrupted mid-epoch, then resumed: the in-place buffers hold exactly
  // what the checkpoint saved.
  fakeHooks().interruptAtStep = 17;
  r = train(fakeInPlaceModel(), resumed.path());
  ASSERT_EQ(r.status, ExitInterrupted) << r.err;
  fakeHooks().interruptAtStep = -1;
  r = runCli(fakeInPlaceModel(),
             {"train", "--data", kData, "--epochs", "3", "--progress", "none",
              "--resume", resumed.file("last.safetensors")});
  ASSERT_EQ(r.status, ExitSuccess) << r.err;
  EXPECT_EQ(checkpointTensors(whole.file("last.safetensors")),
            checkpointTensors(resumed.file("last.safetensors")));

  // Evaluation of the in-place model's checkpoint by the ping-pong model:
  // the tensors mean the same thing.
  r = runCli(fakeModel(),
             {"evaluate", "--checkpoint", inPlaceRun.file("best.safetensors"),
              "--data", kData});
  ASSERT_EQ(r.status, ExitSuccess) << r.err;
  EXPECT_THAT(r.out, HasSubstr("(50 images"));
}

} // namespace
