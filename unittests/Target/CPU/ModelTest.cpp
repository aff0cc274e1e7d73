//===- ModelTest.cpp - Whole forward passes against the reference chain ---===//
//
// The Keras mnist_cnn network (examples/fashion_mnist/cnn.yaml and its
// batch-normalized variant cnn_bn.yaml) written as a dlc @forward function,
// compiled as one module, and compared with the same chain of reference
// ops: inference (dropout off, running statistics) and a training forward
// (batch statistics, keyed dropout, loss and accuracy).
//
//===----------------------------------------------------------------------===//

#include "Reference.h"
#include "TestSupport.h"

using namespace dlc::test;

namespace {

constexpr int64_t kBatch = 4;

constexpr const char *kModels = R"mlir(
// cnn: conv 32 + relu, conv 64 + relu, max pool, dropout, flatten,
// dense 128 + relu, dropout, dense 10 (logits).
func.func @cnn_forward(%x: tensor<4x28x28x1xf32>,
                       %w1: tensor<3x3x1x32xf32>, %b1: tensor<32xf32>,
                       %w2: tensor<3x3x32x64xf32>, %b2: tensor<64xf32>,
                       %w3: tensor<9216x128xf32>, %b3: tensor<128xf32>,
                       %w4: tensor<128x10xf32>, %b4: tensor<10xf32>) -> tensor<4x10xf32> {
  %0 = dlc.conv2d %x, %w1, %b1 : (tensor<4x28x28x1xf32>, tensor<3x3x1x32xf32>, tensor<32xf32>) -> tensor<4x26x26x32xf32>
  %1 = dlc.relu %0 : tensor<4x26x26x32xf32>
  %2 = dlc.conv2d %1, %w2, %b2 : (tensor<4x26x26x32xf32>, tensor<3x3x32x64xf32>, tensor<64xf32>) -> tensor<4x24x24x64xf32>
  %3 = dlc.relu %2 : tensor<4x24x24x64xf32>
  %4 = dlc.max_pool2d %3 {pool_size = array<i64: 2, 2>, strides = array<i64: 2, 2>} : (tensor<4x24x24x64xf32>) -> tensor<4x12x12x64xf32>
  %5 = dlc.dropout %4 {rate = 2.500000e-01 : f32} : (tensor<4x12x12x64xf32>) -> tensor<4x12x12x64xf32>
  %6 = dlc.flatten %5 : (tensor<4x12x12x64xf32>) -> tensor<4x9216xf32>
  %7 = dlc.dense %6, %w3, %b3 : (tensor<4x9216xf32>, tensor<9216x128xf32>, tensor<128xf32>) -> tensor<4x128xf32>
  %8 = dlc.relu %7 : tensor<4x128xf32>
  %9 = dlc.dropout %8 {rate = 5.000000e-01 : f32} : (tensor<4x128xf32>) -> tensor<4x128xf32>
  %10 = dlc.dense %9, %w4, %b4 : (tensor<4x128xf32>, tensor<128x10xf32>, tensor<10xf32>) -> tensor<4x10xf32>
  return %10 : tensor<4x10xf32>
}

// cnn_bn in training mode: batch statistics, keyed dropout, then the loss
// and the accuracy of the logits.
func.func @cnn_bn_train_forward(%x: tensor<4x28x28x1xf32>, %labels: tensor<4xi32>, %key: i64,
                       %w1: tensor<3x3x1x32xf32>, %g1: tensor<32xf32>, %be1: tensor<32xf32>,
                       %m1: tensor<32xf32>, %v1: tensor<32xf32>,
                       %w2: tensor<3x3x32x64xf32>,
                       %w3: tensor<9216x128xf32>, %b3: tensor<128xf32>,
                       %w4: tensor<128x10xf32>, %b4: tensor<10xf32>)
    -> (tensor<4x10xf32>, tensor<f32>, tensor<i32>, tensor<32xf32>, tensor<32xf32>) {
  %0 = dlc.conv2d %x, %w1 : (tensor<4x28x28x1xf32>, tensor<3x3x1x32xf32>) -> tensor<4x26x26x32xf32>
  %1:5 = dlc.batch_norm_train %0, %g1, %be1, %m1, %v1 {epsilon = 1.000000e-03 : f32, momentum = 9.900000e-01 : f32}
      : (tensor<4x26x26x32xf32>, tensor<32xf32>, tensor<32xf32>, tensor<32xf32>, tensor<32xf32>)
     -> (tensor<4x26x26x32xf32>, tensor<32xf32>, tensor<32xf32>, tensor<32xf32>, tensor<32xf32>)
  %2 = dlc.relu %1#0 : tensor<4x26x26x32xf32>
  %3 = dlc.conv2d %2, %w2 : (tensor<4x26x26x32xf32>, tensor<3x3x32x64xf32>) -> tensor<4x24x24x64xf32>
  %4 = dlc.relu %3 : tensor<4x24x24x64xf32>
  %5 = dlc.max_pool2d %4 {pool_size = array<i64: 2, 2>, strides = array<i64: 2, 2>} : (tensor<4x24x24x64xf32>) -> tensor<4x12x12x64xf32>
  %6 = dlc.dropout %5, %key {rate = 2.500000e-01 : f32, stream = 1 : i64} : (tensor<4x12x12x64xf32>, i64) -> tensor<4x12x12x64xf32>
  %7 = dlc.flatten %6 : (tensor<4x12x12x64xf32>) -> tensor<4x9216xf32>
  %8 = dlc.dense %7, %w3, %b3 : (tensor<4x9216xf32>, tensor<9216x128xf32>, tensor<128xf32>) -> tensor<4x128xf32>
  %9 = dlc.relu %8 : tensor<4x128xf32>
  %10 = dlc.dropout %9, %key {rate = 5.000000e-01 : f32, stream = 2 : i64} : (tensor<4x128xf32>, i64) -> tensor<4x128xf32>
  %11 = dlc.dense %10, %w4, %b4 : (tensor<4x128xf32>, tensor<128x10xf32>, tensor<10xf32>) -> tensor<4x10xf32>
  %12 = dlc.softmax_cross_entropy %11, %labels : (tensor<4x10xf32>, tensor<4xi32>) -> tensor<f32>
  %13 = dlc.accuracy %11, %labels : (tensor<4x10xf32>, tensor<4xi32>) -> tensor<i32>
  return %11, %12, %13, %1#3, %1#4 : tensor<4x10xf32>, tensor<f32>, tensor<i32>, tensor<32xf32>, tensor<32xf32>
}
)mlir";

class ModelTest : public ::testing::Test {
protected:
  static void SetUpTestSuite() { object() = compileSource(kModels); }
  static void TearDownTestSuite() { object().reset(); }
  static std::unique_ptr<mlir::dlc::LoadedObject> &object() {
    static std::unique_ptr<mlir::dlc::LoadedObject> compiled;
    return compiled;
  }
  /// Glorot-like random weights keep activations of order 1 layer to layer.
  HostTensor weights(std::vector<int64_t> shape, int64_t fanIn) {
    HostTensor t = HostTensor::f32(std::move(shape));
    float limit = std::sqrt(6.0f / fanIn);
    return t.randomize(rng, -limit, limit);
  }
  std::mt19937 rng{2024};
};

TEST_F(ModelTest, CnnInferenceForward) {
  ASSERT_TRUE(object());
  HostTensor x = HostTensor::f32({kBatch, 28, 28, 1});
  x.randomize(rng, 0, 1);
  HostTensor w1 = weights({3, 3, 1, 32}, 9), b1 = weights({32}, 32);
  HostTensor w2 = weights({3, 3, 32, 64}, 288), b2 = weights({64}, 64);
  HostTensor w3 = weights({9216, 128}, 9216), b3 = weights({128}, 128);
  HostTensor w4 = weights({128, 10}, 128), b4 = weights({10}, 10);
  HostTensor logits = HostTensor::f32({kBatch, 10}, NAN);
  call(*object(), "cnn_forward", {x, w1, b1, w2, b2, w3, b3, w4, b4, logits});

  auto relu = [](const HostTensor &t) {
    return ref::map(t, [](double v) { return v > 0 ? v : 0.0; });
  };
  HostTensor h = relu(ref::conv2d(x, w1, &b1, {}));
  h = relu(ref::conv2d(h, w2, &b2, {}));
  h = ref::maxPool(h, {2, 2}, {2, 2}, {0, 0, 0, 0});
  h = ref::reshape(h, {kBatch, 9216});
  h = relu(ref::dense(h, w3, &b3));
  HostTensor expected = ref::dense(h, w4, &b4);
  EXPECT_TRUE(allClose(logits.f(), expected.f(), 1e-4f, 1e-4f));
}

TEST_F(ModelTest, CnnBatchNormTrainingForward) {
  ASSERT_TRUE(object());
  HostTensor x = HostTensor::f32({kBatch, 28, 28, 1});
  x.randomize(rng, 0, 1);
  HostTensor labels = HostTensor::i32({kBatch});
  for (int64_t i = 0; i < kBatch; ++i)
    labels.i()[i] = int32_t((i * 7) % 10);
  int64_t key = 0x5eed;
  HostTensor w1 = weights({3, 3, 1, 32}, 9);
  HostTensor g1 = weights({32}, 32), be1 = weights({32}, 32);
  HostTensor m1 = weights({32}, 32), v1 = HostTensor::f32({32});
  v1.randomize(rng, 0.5f, 1.5f);
  HostTensor w2 = weights({3, 3, 32, 64}, 288);
  HostTensor w3 = weights({9216, 128}, 9216), b3 = weights({128}, 128);
  HostTensor w4 = weights({128, 10}, 128), b4 = weights({10}, 10);
  HostTensor logits = HostTensor::f32({kBatch, 10}, NAN);
  HostTensor loss = HostTensor::f32({}, NAN), correct = HostTensor::i32({}, -1);
  HostTensor newMean = HostTensor::f32({32}), newVar = HostTensor::f32({32});
  call(*object(), "cnn_bn_train_forward",
       {x, labels, key, w1, g1, be1, m1, v1, w2, w3, b3, w4, b4, logits, loss,
        correct, newMean, newVar});

  auto relu = [](const HostTensor &t) {
    return ref::map(t, [](double v) { return v > 0 ? v : 0.0; });
  };
  ref::BatchNormTrainResult bn = ref::batchNormTrain(
      ref::conv2d(x, w1, nullptr, {}), g1, be1, m1, v1, 1e-3f, 0.99f);
  HostTensor h = relu(bn.y);
  h = relu(ref::conv2d(h, w2, nullptr, {}));
  h = ref::maxPool(h, {2, 2}, {2, 2}, {0, 0, 0, 0});
  h = ref::dropout(h, key, 1, 0.25f);
  h = ref::reshape(h, {kBatch, 9216});
  h = relu(ref::dense(h, w3, &b3));
  h = ref::dropout(h, key, 2, 0.5f);
  HostTensor expected = ref::dense(h, w4, &b4);
  EXPECT_TRUE(allClose(logits.f(), expected.f(), 2e-4f, 2e-4f));
  EXPECT_TRUE(allClose(loss.f(), {ref::softmaxCrossEntropy(expected, labels)},
                       1e-4f, 1e-4f));
  EXPECT_EQ(correct.i()[0], ref::accuracy(expected, labels));
  EXPECT_TRUE(allClose(newMean.f(), bn.newMean.f(), 1e-5f, 1e-5f));
  EXPECT_TRUE(allClose(newVar.f(), bn.newVariance.f(), 1e-5f, 1e-5f));
}

} // namespace
