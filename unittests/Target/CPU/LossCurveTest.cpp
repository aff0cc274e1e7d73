//===- LossCurveTest.cpp - 200 training steps of cnn_bn vs PyTorch --------===//
//
// The training smoke test: cnn_bn (no dropout) at batch 64 goes through
// dlc-build-train-step with Adam (lr 1e-3, epsilon 1e-7), is compiled with
// its runtime table, and trains for 200 steps on the first 12800
// Fashion-MNIST training images in order (pixels / 255), from the weights
// of test/e2e/golden/make_golden.py. Its loss curve must follow PyTorch's
// (cnn_bn_losses.json). The two runs start from identical weights and
// batches, so the first three losses must agree within 1e-3 relative; then
// f32 rounding differences grow (the first Adam steps are chaotic: the loss
// jumps to ~7 at step 1), so later single steps are not comparable and the
// mean of every 20-step window must agree within 0.075 or 7.5%, whichever
// is larger. (Perturbing the learning rate by 1e-6 to 1e-5 relative moves
// the window means by up to 0.04 against PyTorch's, so another CPU's
// rounding gets that much room; a wrong gradient or update moves them by
// far more.) Skipped when the dataset is not
// installed.
//
// The step is called through its packed entry point and the dlc_model
// table (dlc/Runtime/ModelABI.h), binding buffers by role and name the way
// the runtime does; updated state comes back in separate result buffers,
// which are swapped with the arguments after each step.
//
//===----------------------------------------------------------------------===//

#include "Golden.h"
#include "TestSupport.h"

#include "dlc/Runtime/ModelABI.h"

#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"

#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>

using namespace dlc::test;

namespace {

constexpr int64_t kBatch = 64;
constexpr int kSteps = 200;
constexpr int kWindow = 20;
constexpr const char *kDatasetDir = "/usr/share/datasets/fashion-mnist";

/// cnn_bn at batch 64 as examples/fashion_mnist/cnn_bn.mlir, without the
/// dropout layers, with the Adam settings of make_golden.py.
constexpr const char *kCnnBn = R"mlir(
module attributes {dlc.loss = "sparse_categorical_crossentropy",
                   dlc.optimizer = {name = "adam", epsilon = 1.0e-7 : f32}} {
func.func @forward(
    %x: tensor<64x28x28x1xf32>,
    %k1: tensor<3x3x1x32xf32> {dlc.name = "conv2d/kernel"},
    %g1: tensor<32xf32> {dlc.name = "batch_normalization/gamma"},
    %b1: tensor<32xf32> {dlc.name = "batch_normalization/beta"},
    %m1: tensor<32xf32> {dlc.name = "batch_normalization/moving_mean"},
    %v1: tensor<32xf32> {dlc.name = "batch_normalization/moving_variance"},
    %k2: tensor<3x3x32x64xf32> {dlc.name = "conv2d_1/kernel"},
    %g2: tensor<64xf32> {dlc.name = "batch_normalization_1/gamma"},
    %b2: tensor<64xf32> {dlc.name = "batch_normalization_1/beta"},
    %m2: tensor<64xf32> {dlc.name = "batch_normalization_1/moving_mean"},
    %v2: tensor<64xf32> {dlc.name = "batch_normalization_1/moving_variance"},
    %k3: tensor<9216x128xf32> {dlc.name = "dense/kernel"},
    %c3: tensor<128xf32> {dlc.name = "dense/bias"},
    %k4: tensor<128x10xf32> {dlc.name = "dense_1/kernel"},
    %c4: tensor<10xf32> {dlc.name = "dense_1/bias"}) -> tensor<64x10xf32> {
  %0 = dlc.conv2d %x, %k1 : (tensor<64x28x28x1xf32>, tensor<3x3x1x32xf32>) -> tensor<64x26x26x32xf32>
  %1 = dlc.batch_norm %0, %g1, %b1, %m1, %v1
      : (tensor<64x26x26x32xf32>, tensor<32xf32>, tensor<32xf32>, tensor<32xf32>, tensor<32xf32>) -> tensor<64x26x26x32xf32>
  %2 = dlc.relu %1 : tensor<64x26x26x32xf32>
  %3 = dlc.conv2d %2, %k2 : (tensor<64x26x26x32xf32>, tensor<3x3x32x64xf32>) -> tensor<64x24x24x64xf32>
  %4 = dlc.batch_norm %3, %g2, %b2, %m2, %v2
      : (tensor<64x24x24x64xf32>, tensor<64xf32>, tensor<64xf32>, tensor<64xf32>, tensor<64xf32>) -> tensor<64x24x24x64xf32>
  %5 = dlc.relu %4 : tensor<64x24x24x64xf32>
  %6 = dlc.max_pool2d %5 {pool_size = array<i64: 2, 2>, strides = array<i64: 2, 2>}
      : (tensor<64x24x24x64xf32>) -> tensor<64x12x12x64xf32>
  %7 = dlc.flatten %6 : (tensor<64x12x12x64xf32>) -> tensor<64x9216xf32>
  %8 = dlc.dense %7, %k3, %c3 : (tensor<64x9216xf32>, tensor<9216x128xf32>, tensor<128xf32>) -> tensor<64x128xf32>
  %9 = dlc.relu %8 : tensor<64x128xf32>
  %10 = dlc.dense %9, %k4, %c4 : (tensor<64x128xf32>, tensor<128x10xf32>, tensor<10xf32>) -> tensor<64x10xf32>
  return %10 : tensor<64x10xf32>
}
}
)mlir";

/// make_golden.py's CNN_BN_PARAMS order: the stream of each kernel.
const std::vector<std::string> &paramOrder() {
  static const std::vector<std::string> order = {"conv2d/kernel",
                                                 "batch_normalization/gamma",
                                                 "batch_normalization/beta",
                                                 "conv2d_1/kernel",
                                                 "batch_normalization_1/gamma",
                                                 "batch_normalization_1/beta",
                                                 "dense/kernel",
                                                 "dense/bias",
                                                 "dense_1/kernel",
                                                 "dense_1/bias"};
  return order;
}

bool endsWith(const std::string &s, const std::string &suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

/// The payload of a gzip-compressed IDX file after its header, or empty.
std::vector<uint8_t> readIdxGz(const std::string &path, int64_t headerBytes) {
  gzFile file = gzopen(path.c_str(), "rb");
  if (!file)
    return {};
  std::vector<uint8_t> bytes;
  uint8_t chunk[1 << 16];
  int n;
  while ((n = gzread(file, chunk, sizeof(chunk))) > 0)
    bytes.insert(bytes.end(), chunk, chunk + n);
  gzclose(file);
  if (int64_t(bytes.size()) < headerBytes)
    return {};
  bytes.erase(bytes.begin(), bytes.begin() + headerBytes);
  return bytes;
}

/// One buffer bound to an argument or result of the step.
struct Buffer {
  HostTensor tensor = HostTensor::f32({});
  int64_t i64 = 0;
  float f32 = 0.0f;
  void *descriptor = nullptr;
};

std::vector<int64_t> shapeOf(const dlc_tensor_info &info) {
  return std::vector<int64_t>(info.shape, info.shape + info.rank);
}

TEST(CnnBnTraining, LossCurveFollowsPyTorch) {
  std::string images = std::string(kDatasetDir) + "/train-images-idx3-ubyte.gz";
  std::string labelsPath =
      std::string(kDatasetDir) + "/train-labels-idx1-ubyte.gz";
  if (!llvm::MemoryBuffer::getFile(images))
    GTEST_SKIP() << "Fashion-MNIST is not installed at " << kDatasetDir;
  std::vector<uint8_t> pixels = readIdxGz(images, 16);
  std::vector<uint8_t> classes = readIdxGz(labelsPath, 8);
  ASSERT_GE(pixels.size(), size_t(kSteps * kBatch * 784));
  ASSERT_GE(classes.size(), size_t(kSteps * kBatch));

  auto goldenFile =
      llvm::MemoryBuffer::getFile(goldenDir() + "/cnn_bn_losses.json");
  ASSERT_TRUE(bool(goldenFile));
  auto goldenJson = llvm::json::parse((*goldenFile)->getBuffer());
  ASSERT_TRUE(bool(goldenJson)) << llvm::toString(goldenJson.takeError());
  const llvm::json::Array *torchLosses =
      goldenJson->getAsObject()->getArray("losses");
  ASSERT_TRUE(torchLosses && torchLosses->size() == size_t(kSteps));

  std::unique_ptr<mlir::dlc::LoadedObject> object =
      compileSource(kCnnBn, {}, "dlc-build-train-step");
  ASSERT_TRUE(object);
  auto model = object->lookup("dlc_model");
  ASSERT_TRUE(bool(model)) << llvm::toString(model.takeError());
  const auto *info = static_cast<const dlc_model_info *>(*model);
  const dlc_function_info *step = nullptr;
  for (int32_t f = 0; f < info->num_functions; ++f)
    if (std::strcmp(info->functions[f].name, "train_step") == 0)
      step = &info->functions[f];
  ASSERT_TRUE(step);

  // Arguments by role and name.
  std::vector<Buffer> args(step->num_args), results(step->num_results);
  std::map<std::string, size_t> argByName;
  Buffer *input = nullptr, *labels = nullptr, *stepCount = nullptr;
  for (int32_t i = 0; i < step->num_args; ++i) {
    const dlc_tensor_info &a = step->args[i];
    std::string role = a.role, name = a.name;
    Buffer &b = args[i];
    argByName[role + ":" + name] = i;
    if (a.rank >= 0)
      b.tensor = a.dtype == DLC_DTYPE_I32 ? HostTensor::i32(shapeOf(a))
                                          : HostTensor::f32(shapeOf(a));
    if (role == "param") {
      auto it = std::find(paramOrder().begin(), paramOrder().end(), name);
      ASSERT_NE(it, paramOrder().end()) << name;
      if (endsWith(name, "kernel")) {
        double limit = glorotLimit(b.tensor.shape());
        b.tensor.f() = detUniform(it - paramOrder().begin() + 1,
                                  b.tensor.numElements(), -limit, limit);
      } else if (endsWith(name, "gamma")) {
        b.tensor.f().assign(b.tensor.numElements(), 1.0f);
      }
    } else if (role == "state" && endsWith(name, "moving_variance")) {
      b.tensor.f().assign(b.tensor.numElements(), 1.0f);
    } else if (role == "input") {
      input = &b;
    } else if (role == "labels") {
      labels = &b;
    } else if (role == "step") {
      stepCount = &b;
    } else if (role == "learning_rate") {
      b.f32 = 1e-3f;
    }
  }
  ASSERT_TRUE(input && labels && stepCount);
  for (int32_t i = 0; i < step->num_results; ++i) {
    const dlc_tensor_info &r = step->results[i];
    results[i].tensor = r.dtype == DLC_DTYPE_I32 ? HostTensor::i32(shapeOf(r))
                                                 : HostTensor::f32(shapeOf(r));
  }

  std::vector<float> losses;
  for (int s = 0; s < kSteps; ++s) {
    for (int64_t k = 0; k < kBatch * 784; ++k)
      input->tensor.f()[k] = pixels[s * kBatch * 784 + k] / 255.0f;
    for (int64_t k = 0; k < kBatch; ++k)
      labels->tensor.i()[k] = classes[s * kBatch + k];
    stepCount->i64 = s;

    std::vector<void *> packed;
    for (int32_t i = 0; i < step->num_args; ++i) {
      Buffer &b = args[i];
      if (step->args[i].rank >= 0) {
        b.descriptor = b.tensor.descriptor();
        packed.push_back(&b.descriptor);
      } else {
        packed.push_back(step->args[i].dtype == DLC_DTYPE_F32
                             ? static_cast<void *>(&b.f32)
                             : static_cast<void *>(&b.i64));
      }
    }
    for (Buffer &b : results) {
      b.descriptor = b.tensor.descriptor();
      packed.push_back(&b.descriptor);
    }
    step->packed(packed.data());

    // Results i of each group update argument i of the same group: swap
    // the buffers (ping-pong), read the loss.
    for (int32_t i = 0; i < step->num_results; ++i) {
      const dlc_tensor_info &r = step->results[i];
      std::string role = r.role;
      if (role == "loss")
        losses.push_back(results[i].tensor.f()[0]);
      auto it = argByName.find(role + ":" + r.name);
      if (it != argByName.end())
        std::swap(args[it->second].tensor, results[i].tensor);
    }
  }

  // Before the trajectories drift apart, single steps agree closely: step 0
  // is the same forward pass (5e-6 apart here), steps 1 and 2 follow one and
  // two identical updates (2e-4).
  for (int s = 0; s < 3; ++s) {
    double torch = (*torchLosses)[s].getAsNumber().value_or(NAN);
    EXPECT_LE(std::fabs(losses[s] - torch), 1e-3 * torch)
        << "step " << s << ": loss " << losses[s] << ", PyTorch " << torch;
  }
  for (int w = 0; w < kSteps / kWindow; ++w) {
    double ours = 0, torch = 0;
    for (int s = w * kWindow; s < (w + 1) * kWindow; ++s) {
      ours += losses[s];
      torch += (*torchLosses)[s].getAsNumber().value_or(NAN);
    }
    ours /= kWindow, torch /= kWindow;
    EXPECT_LE(std::fabs(ours - torch), std::max(0.075, 0.075 * torch))
        << "steps " << w * kWindow << ".." << (w + 1) * kWindow - 1
        << ": mean loss " << ours << ", PyTorch " << torch;
    if (std::getenv("DLC_TEST_VERBOSE"))
      std::printf("steps %3d..%3d: mean loss %.4f, PyTorch %.4f\n", w * kWindow,
                  (w + 1) * kWindow - 1, ours, torch);
  }
}

} // namespace
