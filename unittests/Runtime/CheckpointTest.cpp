//===- CheckpointTest.cpp - safetensors files and model checkpoints -------===//

#include "FakeModel.h"
#include "TestDevice.h"
#include "TestUtil.h"

#include "dlc/Runtime/Checkpoint.h"
#include "dlc/Runtime/Executor.h"
#include "dlc/Runtime/Support.h"

#include "llvm/Support/Endian.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

using namespace dlc::runtime;
using namespace dlc::runtime::testing;
using ::testing::HasSubstr;

namespace {

/// A small valid file: an F32 [2, 3] and an I64 [] tensor.
std::vector<uint8_t> sampleFile() {
  Tensor a(DType::F32, {2, 3}), b(DType::I64, {});
  for (int i = 0; i < 6; ++i)
    a.data<float>()[i] = 0.5f * i;
  *b.data<int64_t>() = -7;
  return serializeSafeTensors({{"layer/kernel", &a}, {"counter", &b}},
                              {{"model", "m"}, {"step", "12"}});
}

/// Replaces the JSON header of a file (keeping the data).
std::vector<uint8_t> withHeader(const std::vector<uint8_t> &file,
                                const std::string &header) {
  uint64_t old = llvm::support::endian::read64le(file.data());
  std::vector<uint8_t> out(8);
  llvm::support::endian::write64le(out.data(), header.size());
  out.insert(out.end(), header.begin(), header.end());
  out.insert(out.end(), file.begin() + 8 + old, file.end());
  return out;
}

TEST(SafeTensorsTest, RoundTrip) {
  std::vector<uint8_t> bytes = sampleFile();
  // The header is padded so the data starts 8-byte aligned.
  EXPECT_EQ(llvm::support::endian::read64le(bytes.data()) % 8, 0u);
  auto file = SafeTensorsFile::parse(bytes, "f");
  ASSERT_TRUE(bool(file)) << errorMessage(file);
  ASSERT_EQ(file->getEntries().size(), 2u);
  const SafeTensorsFile::Entry *kernel = file->lookup("layer/kernel");
  ASSERT_TRUE(kernel);
  EXPECT_EQ(kernel->dtype, DType::F32);
  EXPECT_EQ(kernel->shape, (llvm::SmallVector<int64_t, 4>{2, 3}));
  float values[6];
  std::memcpy(values, kernel->data.data(), sizeof(values));
  EXPECT_EQ(values[5], 2.5f);
  const SafeTensorsFile::Entry *counter = file->lookup("counter");
  ASSERT_TRUE(counter);
  int64_t c;
  std::memcpy(&c, counter->data.data(), 8);
  EXPECT_EQ(c, -7);
  EXPECT_EQ(file->getMetadata().at("step"), "12");
}

TEST(SafeTensorsTest, HeaderIsStandardJson) {
  std::vector<uint8_t> bytes = sampleFile();
  uint64_t n = llvm::support::endian::read64le(bytes.data());
  std::string header(bytes.begin() + 8, bytes.begin() + 8 + n);
  EXPECT_THAT(
      header,
      HasSubstr(
          R"("layer/kernel":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]})"));
  EXPECT_THAT(
      header,
      HasSubstr(
          R"("counter":{"dtype":"I64","shape":[],"data_offsets":[24,32]})"));
  EXPECT_THAT(header, HasSubstr(R"("__metadata__":{"model":"m","step":"12"})"));
}

TEST(SafeTensorsTest, RejectsCorruptFiles) {
  std::vector<uint8_t> good = sampleFile();
  auto expectError = [](std::vector<uint8_t> bytes, const char *message) {
    auto file = SafeTensorsFile::parse(std::move(bytes), "ckpt");
    EXPECT_THAT(errorMessage(file), HasSubstr(message));
  };
  expectError({1, 2, 3}, "shorter than the 8-byte header length");
  std::vector<uint8_t> truncated(good.begin(), good.begin() + 20);
  expectError(truncated, "exceeds the file size");
  std::vector<uint8_t> shortData(good.begin(), good.end() - 4);
  expectError(shortData, "outside the");
  expectError(withHeader(good, "{not json"), "not valid JSON");
  expectError(withHeader(good, "[1, 2]"), "not a JSON object");
  expectError(
      withHeader(
          good, R"({"a":{"dtype":"BF16","shape":[16],"data_offsets":[0,32]}})"),
      "tensor 'a' has dtype BF16, which dlc does not support");
  expectError(
      withHeader(good,
                 R"({"a":{"dtype":"Q7","shape":[16],"data_offsets":[0,32]}})"),
      "not a valid safetensors file: entry 'a' has an unknown dtype 'Q7'");
  expectError(
      withHeader(good,
                 R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,32]}})"),
      "needs 12 bytes, not 32");
  expectError(
      withHeader(good,
                 R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})"),
      "16 bytes after the last tensor");
  expectError(
      withHeader(
          good,
          R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},"b":{"dtype":"F32","shape":[4],"data_offsets":[8,24]}})"),
      "overlaps or leaves holes");
  expectError(withHeader(good, R"({"a":{"shape":[4]}})"), "needs dtype, shape");
  expectError(withHeader(good, R"({"__metadata__":{"step":3}})"),
              "is not a string");
}

TEST(SafeTensorsTest, AtomicWriteReplacesWithoutLeftovers) {
  TempDir dir;
  std::string path = dir.file("last.safetensors");
  ASSERT_FALSE(writeFileAtomically(path, llvm::StringRef("old contents")));
  ASSERT_FALSE(
      writeFileAtomically(path, llvm::ArrayRef<uint8_t>(sampleFile())));
  EXPECT_EQ(readFile(path), sampleFile());
  // Only the target remains: the temporary file was renamed, not copied.
  EXPECT_EQ(listDirectory(dir.path()),
            (std::vector<std::string>{"last.safetensors"}));
  // A failed write leaves the old file intact.
  EXPECT_TRUE(errorMessage(writeFileAtomically(dir.file("no/such/dir/x"),
                                               llvm::StringRef("x")))
                  .size());
  EXPECT_EQ(readFile(path), sampleFile());
}

/// Round trip of every tensor through a checkpoint on `device`.
void expectModelRoundTripIsBitExact(Device &device) {
  auto model = CompiledModel::create(fakeModel());
  ASSERT_TRUE(bool(model)) << errorMessage(model);
  Executor a = cantFail(Executor::create(**model, device));
  Executor b = cantFail(Executor::create(**model, device));
  ASSERT_FALSE(a.initialize(11));
  TempDir dir;
  std::string path = dir.file("ckpt.safetensors");
  ASSERT_FALSE(saveCheckpoint(path, **model, a.getTensors(), {{"step", "5"}}));
  auto meta =
      loadCheckpoint(path, **model, b.getTensors(), CheckpointUse::Training);
  ASSERT_TRUE(bool(meta)) << errorMessage(meta);
  EXPECT_EQ(meta->at("step"), "5");
  std::vector<Tensor> ta = downloadAll(a.getTensors());
  std::vector<Tensor> tb = downloadAll(b.getTensors());
  for (size_t i = 0; i < ta.size(); ++i)
    EXPECT_EQ(ta[i].bytes(), tb[i].bytes());
  // moving_variance starts at one, moving_mean and optimizer state at zero.
  auto index = (*model)->lookupTensor("stats/moving_variance");
  ASSERT_TRUE(index.has_value());
  EXPECT_EQ(ta[*index].data<float>()[0], 1.0f);
  EXPECT_EQ(ta[*(*model)->lookupTensor("stats/moving_mean")].data<float>()[0],
            0.0f);
}

TEST(CheckpointTest, ModelRoundTripIsBitExact) {
  CPUDevice cpu;
  expectModelRoundTripIsBitExact(cpu);
}

// Saving downloads every tensor and loading uploads it (the path a CUDA
// device takes).
TEST(CheckpointTest, ModelRoundTripThroughDeviceCopies) {
  HostInvisibleDevice device;
  expectModelRoundTripIsBitExact(device);
  // The 6 tensors of each executor: a's uploaded by initialize and
  // downloaded to save, b's uploaded on load, then both downloaded to
  // compare.
  EXPECT_EQ(device.counts.copiesToDevice, 6 + 6);
  EXPECT_EQ(device.counts.copiesToHost, 6 + 12);
  EXPECT_EQ(device.counts.allocations, device.counts.frees);
}

TEST(CheckpointTest, RejectsCheckpointOfAnotherModel) {
  auto model = CompiledModel::create(fakeModel());
  auto other = CompiledModel::create(otherFakeModel());
  ASSERT_TRUE(model && other);
  CPUDevice cpu;
  Executor a = cantFail(Executor::create(**other, cpu));
  Executor b = cantFail(Executor::create(**model, cpu));
  ASSERT_FALSE(a.initialize(1));
  TempDir dir;
  std::string path = dir.file("other.safetensors");
  ASSERT_FALSE(saveCheckpoint(path, **other, a.getTensors(),
                              {{"model", "other_logreg"}}));
  auto meta =
      loadCheckpoint(path, **model, b.getTensors(), CheckpointUse::Inference);
  std::string message = errorMessage(meta);
  EXPECT_THAT(message, HasSubstr("(saved from model 'other_logreg') does not "
                                 "match model 'fake_logreg'"));
  EXPECT_THAT(message, HasSubstr("'dense/kernel' is F32 [16, 4] in the "
                                 "checkpoint but F32 [16, 3] in the model"));

  // Missing and extra tensors.
  Tensor kernel(DType::F32, {16, 3}), extra(DType::F32, {1});
  ASSERT_FALSE(writeFileAtomically(
      path, llvm::ArrayRef<uint8_t>(serializeSafeTensors(
                {{"dense/kernel", &kernel}, {"conv/bias", &extra}}, {}))));
  message = errorMessage(meta = loadCheckpoint(path, **model, b.getTensors(),
                                               CheckpointUse::Inference));
  EXPECT_THAT(message, HasSubstr("it lacks param 'dense/bias'"));
  EXPECT_THAT(message, HasSubstr("the model has no tensor 'conv/bias'"));
}

TEST(CheckpointTest, InferenceDoesNotNeedOptimizerState) {
  auto model = CompiledModel::create(fakeModel());
  ASSERT_TRUE(bool(model));
  CPUDevice cpu;
  Executor a = cantFail(Executor::create(**model, cpu));
  ASSERT_FALSE(a.initialize(3));
  std::vector<Tensor> values = downloadAll(a.getTensors());
  std::vector<std::pair<std::string, const Tensor *>> named;
  for (auto [spec, tensor] : llvm::zip((*model)->getTensors(), values))
    if (spec.group != TensorGroup::OptState)
      named.push_back({spec.name, &tensor});
  TempDir dir;
  std::string path = dir.file("weights.safetensors");
  ASSERT_FALSE(writeFileAtomically(
      path, llvm::ArrayRef<uint8_t>(serializeSafeTensors(named, {}))));
  Executor b = cantFail(Executor::create(**model, cpu));
  auto meta =
      loadCheckpoint(path, **model, b.getTensors(), CheckpointUse::Inference);
  EXPECT_TRUE(bool(meta)) << errorMessage(meta);
  EXPECT_THAT(errorMessage(meta = loadCheckpoint(path, **model, b.getTensors(),
                                                 CheckpointUse::Training)),
              HasSubstr("it lacks opt_state 'dense/kernel/velocity'"));
}

} // namespace
