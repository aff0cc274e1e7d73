//===- WeightsPlanTest.cpp - Export plans and their writers ---------------===//
//
// The plans `dlc compile` embeds for `EXE export` (WeightsPlan.h): JSON
// round trips, the data a planned tensor gets (transposes, errors), and the
// writers' files, including that an error leaves none.
//
//===----------------------------------------------------------------------===//

#include "dlc/Export/WeightsPlan.h"
#include "dlc/Runtime/Checkpoint.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include <gtest/gtest.h>

using namespace dlc::exporting;

namespace {

PlannedTensor tensor(std::string to, std::string from,
                     std::vector<int64_t> shape) {
  PlannedTensor t;
  t.destination = std::move(to);
  t.source = std::move(from);
  t.shape = std::move(shape);
  t.loc = {"model.yaml", 7, 5};
  return t;
}

TorchPlan smallTorchPlan() {
  TorchPlan plan;
  PlannedTensor w = tensor("fc.weight", "dense/kernel", {3, 2});
  w.viewShape = {2, 3};
  w.permutation = {1, 0};
  plan.tensors.push_back(w);
  PlannedTensor c = tensor("c", "", {2});
  c.constant = {0.1f, -3.5e-8f};
  plan.tensors.push_back(c);
  PlannedTensor n = tensor("bn.num_batches_tracked", "", {});
  n.zeroCount = true;
  plan.tensors.push_back(n);
  plan.modelName = "m";
  plan.sourceName = "m.yaml";
  plan.inputDoc = "N x 2";
  plan.inputScale = "[1.0]";
  plan.inputOffset = "[0.0]";
  plan.initLines = "        self.fc = nn.Linear(2, 3, bias=False)\n";
  plan.forwardLines = "        fc = self.fc(x)\n        return fc\n";
  return plan;
}

std::string text(const llvm::json::Value &v) {
  return llvm::formatv("{0}", v).str();
}

class TempDir {
public:
  TempDir() {
    EXPECT_FALSE(llvm::sys::fs::createUniqueDirectory("dlc-plan-test", path));
  }
  ~TempDir() { llvm::sys::fs::remove_directories(path); }
  std::string operator/(llvm::StringRef name) const {
    llvm::SmallString<256> p(path);
    llvm::sys::path::append(p, name);
    return p.str().str();
  }

private:
  llvm::SmallString<256> path;
};

TEST(WeightsPlanTest, TorchPlanRoundTrips) {
  TorchPlan plan = smallTorchPlan();
  std::string json = text(toJson(PlanOrError<TorchPlan>(plan)));
  auto back = torchPlanFromJson(json);
  ASSERT_TRUE(bool(back)) << llvm::toString(back.takeError());
  ASSERT_TRUE(std::holds_alternative<TorchPlan>(*back));
  const TorchPlan &p = std::get<TorchPlan>(*back);
  EXPECT_EQ(text(toJson(PlanOrError<TorchPlan>(p))), json);
  ASSERT_EQ(p.tensors.size(), 3u);
  EXPECT_EQ(p.tensors[0].permutation, (std::vector<int64_t>{1, 0}));
  EXPECT_EQ(p.tensors[0].loc.line, 7u);
  // Constants come back as the same floats.
  EXPECT_EQ(p.tensors[1].constant, plan.tensors[1].constant);
  EXPECT_TRUE(p.tensors[2].zeroCount);
  EXPECT_EQ(torchModelPy(p, "w.safetensors"),
            torchModelPy(plan, "w.safetensors"));
}

TEST(WeightsPlanTest, KerasPlanAndErrorsRoundTrip) {
  KerasPlan plan;
  plan.groups.push_back({"layers", std::nullopt, {}});
  plan.groups.push_back(
      {"layers/dense/vars", "dense", {tensor("0", "dense/kernel", {2, 3})}});
  std::string json = text(toJson(PlanOrError<KerasPlan>(plan)));
  auto back = kerasPlanFromJson(json);
  ASSERT_TRUE(bool(back)) << llvm::toString(back.takeError());
  EXPECT_EQ(text(toJson(*back)), json);
  EXPECT_FALSE(std::get<KerasPlan>(*back).groups[0].nameAttribute);

  ExportError error{{"a.yaml", 6, 5}, "PyTorch export: no"};
  auto errorBack =
      torchPlanFromJson(text(toJson(PlanOrError<TorchPlan>(error))));
  ASSERT_TRUE(bool(errorBack));
  ASSERT_TRUE(std::holds_alternative<ExportError>(*errorBack));
  EXPECT_EQ(std::get<ExportError>(*errorBack).format(),
            "a.yaml:6:5: error: PyTorch export: no");
  EXPECT_EQ((ExportError{{}, "x"}).format(), "error: x");

  // Malformed plans are errors, not crashes.
  for (const char *bad :
       {"", "[]", "{\"groups\": 3}", "{\"groups\": [{\"path\": \"x\"}]}",
        "{\"error\": {\"loc\": [1, 2, 3]}}"}) {
    auto parsed = kerasPlanFromJson(bad);
    EXPECT_FALSE(bool(parsed)) << bad;
    if (!parsed)
      llvm::consumeError(parsed.takeError());
  }
}

TEST(WeightsPlanTest, TensorDataTransposesAndChecks) {
  PlannedTensor t = tensor("fc.weight", "k", {3, 2});
  t.viewShape = {2, 3};
  t.permutation = {1, 0};
  WeightData weights = {{"k", {1, 2, 3, 4, 5, 6}}};
  std::vector<float> data;
  EXPECT_FALSE(tensorData(t, weights, "PyTorch export", data));
  EXPECT_EQ(data, (std::vector<float>{1, 4, 2, 5, 3, 6}));

  auto missing = tensorData(t, {}, "PyTorch export", data);
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->format(), "model.yaml:7:5: error: PyTorch export: no "
                               "weights for 'k' (give --checkpoint)");
  auto size = tensorData(t, {{"k", {1, 2}}}, "Keras export", data);
  ASSERT_TRUE(size);
  EXPECT_EQ(size->message,
            "Keras export: the checkpoint's 'k' has 2 values, the model 6");
  t.viewShape = {4, 3};
  EXPECT_TRUE(tensorData(t, weights, "PyTorch export", data));
}

TEST(WeightsPlanTest, TorchWriterWritesBothFilesOrNone) {
  TempDir dir;
  TorchPlan plan = smallTorchPlan();
  WeightData weights = {{"dense/kernel", {1, 2, 3, 4, 5, 6}}};
  ASSERT_FALSE(writeTorchWeights(plan, weights, dir / "out", "w.safetensors"));
  auto file = dlc::runtime::SafeTensorsFile::read(dir / "out/w.safetensors");
  ASSERT_TRUE(bool(file)) << llvm::toString(file.takeError());
  const auto *w = file->lookup("fc.weight");
  ASSERT_TRUE(w);
  EXPECT_EQ(llvm::ArrayRef<int64_t>(w->shape), llvm::ArrayRef<int64_t>({3, 2}));
  const float *values = reinterpret_cast<const float *>(w->data.data());
  EXPECT_EQ(values[1], 4.0f);
  const auto *n = file->lookup("bn.num_batches_tracked");
  ASSERT_TRUE(n);
  EXPECT_EQ(n->dtype, dlc::runtime::DType::I64);
  auto py = llvm::MemoryBuffer::getFile(dir / "out/model.py");
  ASSERT_TRUE(bool(py));
  EXPECT_EQ((*py)->getBuffer().str(), torchModelPy(plan, "w.safetensors"));

  // A missing weight: no directory made.
  auto error = writeTorchWeights(plan, {}, dir / "none", "w.safetensors");
  ASSERT_TRUE(error);
  EXPECT_FALSE(llvm::sys::fs::exists(dir / "none"));
}

TEST(WeightsPlanTest, KerasWriterIsDeterministicAndLeavesNoFileOnError) {
  TempDir dir;
  KerasPlan plan;
  plan.groups.push_back({"layers", std::nullopt, {}});
  plan.groups.push_back({"layers/dense", std::nullopt, {}});
  plan.groups.push_back(
      {"layers/dense/vars", "dense", {tensor("0", "dense/kernel", {2, 3})}});
  plan.groups.push_back({"vars", "m", {}});
  WeightData weights = {{"dense/kernel", {1, 2, 3, 4, 5, 6}}};
  ASSERT_FALSE(writeKerasWeights(plan, weights, dir / "a.weights.h5"));
  ASSERT_FALSE(writeKerasWeights(plan, weights, dir / "b.weights.h5"));
  auto a = llvm::MemoryBuffer::getFile(dir / "a.weights.h5");
  auto b = llvm::MemoryBuffer::getFile(dir / "b.weights.h5");
  ASSERT_TRUE(a && b);
  EXPECT_GT((*a)->getBufferSize(), 0u);
  EXPECT_EQ((*a)->getBuffer(), (*b)->getBuffer());

  EXPECT_TRUE(writeKerasWeights(plan, {}, dir / "c.weights.h5"));
  EXPECT_FALSE(llvm::sys::fs::exists(dir / "c.weights.h5"));
  // A group whose parent is missing fails in HDF5: no file, no temporary.
  plan.groups.erase(plan.groups.begin());
  EXPECT_TRUE(writeKerasWeights(plan, weights, dir / "d.weights.h5"));
  EXPECT_FALSE(llvm::sys::fs::exists(dir / "d.weights.h5"));
  std::error_code ec;
  int files = 0;
  for (llvm::sys::fs::directory_iterator it(dir / "", ec), end;
       it != end && !ec; it.increment(ec))
    ++files;
  EXPECT_EQ(files, 2);
}

} // namespace
