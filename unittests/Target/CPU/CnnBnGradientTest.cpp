//===- CnnBnGradientTest.cpp - cnn_bn's gradients vs PyTorch --------------===//
//
// The whole cnn_bn model (examples/fashion_mnist/cnn_bn.mlir without
// dropout, training-form batch norm, batch 8) differentiated by
// dlc-test-vjp and compiled, against the loss and parameter gradients that
// test/e2e/golden/make_golden.py computed with PyTorch in float64 from the
// same deterministic weights and inputs. Every gradient must agree within
// 1e-4 of its largest magnitude (dlc computes in f32: a few 1e-6 is what
// rounding gives through two convolutions and two batch norms), the loss
// within 1e-5.
//
//===----------------------------------------------------------------------===//

#include "Golden.h"
#include "TestSupport.h"

#include <cmath>

using namespace dlc::test;

namespace {

/// cnn_bn's parameters in @forward order (make_golden.py's CNN_BN_PARAMS).
struct Param {
  const char *name;
  std::vector<int64_t> shape;
};
const std::vector<Param> &cnnBnParams() {
  static const std::vector<Param> params = {
      {"conv2d/kernel", {3, 3, 1, 32}},
      {"batch_normalization/gamma", {32}},
      {"batch_normalization/beta", {32}},
      {"conv2d_1/kernel", {3, 3, 32, 64}},
      {"batch_normalization_1/gamma", {64}},
      {"batch_normalization_1/beta", {64}},
      {"dense/kernel", {9216, 128}},
      {"dense/bias", {128}},
      {"dense_1/kernel", {128, 10}},
      {"dense_1/bias", {10}},
  };
  return params;
}

/// The loss of cnn_bn on one batch of 8: @loss(x, params..., labels). The
/// running statistics are constants (training-form batch norm ignores them
/// for the output, and they are not differentiable).
constexpr const char *kCnnBnLoss = R"mlir(
func.func @loss(%x: tensor<8x28x28x1xf32>, %k1: tensor<3x3x1x32xf32>,
                %g1: tensor<32xf32>, %b1: tensor<32xf32>,
                %k2: tensor<3x3x32x64xf32>, %g2: tensor<64xf32>,
                %b2: tensor<64xf32>, %k3: tensor<9216x128xf32>,
                %c3: tensor<128xf32>, %k4: tensor<128x10xf32>,
                %c4: tensor<10xf32>, %labels: tensor<8xi32>) -> tensor<f32> {
  %m1 = arith.constant dense<0.0> : tensor<32xf32>
  %v1 = arith.constant dense<1.0> : tensor<32xf32>
  %m2 = arith.constant dense<0.0> : tensor<64xf32>
  %v2 = arith.constant dense<1.0> : tensor<64xf32>
  %0 = dlc.conv2d %x, %k1 : (tensor<8x28x28x1xf32>, tensor<3x3x1x32xf32>) -> tensor<8x26x26x32xf32>
  %1:5 = dlc.batch_norm_train %0, %g1, %b1, %m1, %v1 {epsilon = 1.000000e-03 : f32}
      : (tensor<8x26x26x32xf32>, tensor<32xf32>, tensor<32xf32>, tensor<32xf32>, tensor<32xf32>)
     -> (tensor<8x26x26x32xf32>, tensor<32xf32>, tensor<32xf32>, tensor<32xf32>, tensor<32xf32>)
  %2 = dlc.relu %1#0 : tensor<8x26x26x32xf32>
  %3 = dlc.conv2d %2, %k2 : (tensor<8x26x26x32xf32>, tensor<3x3x32x64xf32>) -> tensor<8x24x24x64xf32>
  %4:5 = dlc.batch_norm_train %3, %g2, %b2, %m2, %v2 {epsilon = 1.000000e-03 : f32}
      : (tensor<8x24x24x64xf32>, tensor<64xf32>, tensor<64xf32>, tensor<64xf32>, tensor<64xf32>)
     -> (tensor<8x24x24x64xf32>, tensor<64xf32>, tensor<64xf32>, tensor<64xf32>, tensor<64xf32>)
  %5 = dlc.relu %4#0 : tensor<8x24x24x64xf32>
  %6 = dlc.max_pool2d %5 {pool_size = array<i64: 2, 2>, strides = array<i64: 2, 2>}
      : (tensor<8x24x24x64xf32>) -> tensor<8x12x12x64xf32>
  %7 = dlc.flatten %6 : (tensor<8x12x12x64xf32>) -> tensor<8x9216xf32>
  %8 = dlc.dense %7, %k3, %c3 : (tensor<8x9216xf32>, tensor<9216x128xf32>, tensor<128xf32>) -> tensor<8x128xf32>
  %9 = dlc.relu %8 : tensor<8x128xf32>
  %10 = dlc.dense %9, %k4, %c4 : (tensor<8x128xf32>, tensor<128x10xf32>, tensor<10xf32>) -> tensor<8x10xf32>
  %11 = dlc.softmax_cross_entropy %10, %labels : (tensor<8x10xf32>, tensor<8xi32>) -> tensor<f32>
  return %11 : tensor<f32>
}
)mlir";

/// Kernels from det_uniform within the glorot limit (stream = 1-based
/// parameter index), gamma 1, beta and biases 0, as make_golden.py.
HostTensor initialParam(size_t index) {
  const Param &p = cnnBnParams()[index];
  HostTensor t = HostTensor::f32(p.shape);
  std::string name = p.name;
  if (name.size() >= 6 && name.substr(name.size() - 6) == "kernel") {
    double limit = glorotLimit(p.shape);
    t.f() = detUniform(index + 1, t.numElements(), -limit, limit);
  } else if (name.size() >= 5 && name.substr(name.size() - 5) == "gamma") {
    t.f().assign(t.numElements(), 1.0f);
  }
  return t;
}

TEST(CnnBnGradients, MatchPyTorch) {
  auto golden = readSafetensors(goldenDir() + "/cnn_bn_grads.safetensors");
  ASSERT_TRUE(bool(golden)) << llvm::toString(golden.takeError());
  std::unique_ptr<mlir::dlc::LoadedObject> object =
      compileSource(kCnnBnLoss, {}, "dlc-test-vjp");
  ASSERT_TRUE(object);

  HostTensor x = HostTensor::f32({8, 28, 28, 1});
  x.f() = detUniform(100, x.numElements(), 0.0, 1.0);
  std::vector<HostTensor> params;
  for (size_t i = 0; i < cnnBnParams().size(); ++i)
    params.push_back(initialParam(i));
  HostTensor labels = HostTensor::i32({8});
  for (int32_t i = 0; i < 8; ++i)
    labels.i()[i] = i % 10;

  // The loss.
  HostTensor loss = HostTensor::f32({}, NAN);
  std::vector<CallArg> args = {x};
  for (HostTensor &p : params)
    args.emplace_back(p);
  args.emplace_back(labels);
  {
    std::vector<CallArg> lossArgs = args;
    lossArgs.emplace_back(loss);
    call(*object, "loss", lossArgs);
  }
  float expectedLoss = (*golden)["loss"].data.at(0);
  EXPECT_LE(std::fabs(loss.f()[0] - expectedLoss), 1e-5 * expectedLoss)
      << "loss " << loss.f()[0] << ", PyTorch " << expectedLoss;

  // Every gradient (the input's too, unchecked), from d loss = 1.
  HostTensor seed = HostTensor::f32({}, 1.0f);
  HostTensor dx = HostTensor::f32(x.shape(), NAN);
  std::vector<HostTensor> grads;
  for (const Param &p : cnnBnParams())
    grads.push_back(HostTensor::f32(p.shape, NAN));
  args.emplace_back(seed);
  args.emplace_back(dx);
  for (HostTensor &g : grads)
    args.emplace_back(g);
  call(*object, "loss_vjp", args);

  for (size_t i = 0; i < cnnBnParams().size(); ++i) {
    std::string name = cnnBnParams()[i].name;
    const std::vector<float> &ours = grads[i].f();
    if (name == "dense/kernel") {
      // Stored sampled (every 97th element) plus the full L2 norm.
      const GoldenTensor &sampled = (*golden)[name + "/sampled"];
      std::vector<float> picked;
      double norm = 0;
      for (size_t k = 0; k < ours.size(); ++k) {
        norm += double(ours[k]) * ours[k];
        if (k % 97 == 0)
          picked.push_back(ours[k]);
      }
      EXPECT_LE(relativeMaxError(picked, sampled.data), 1e-4) << name;
      float expectedNorm = (*golden)[name + "/norm"].data.at(0);
      EXPECT_LE(std::fabs(std::sqrt(norm) - expectedNorm), 1e-4 * expectedNorm)
          << name << " norm " << std::sqrt(norm) << ", PyTorch "
          << expectedNorm;
      continue;
    }
    const GoldenTensor &expected = (*golden)[name];
    ASSERT_EQ(expected.shape, cnnBnParams()[i].shape) << name;
    double error = relativeMaxError(ours, expected.data);
    EXPECT_LE(error, 1e-4) << name;
    if (std::getenv("DLC_TEST_VERBOSE"))
      std::printf("%s: max|ours - PyTorch| / max|PyTorch| = %.3g\n",
                  name.c_str(), error);
  }
}

} // namespace
