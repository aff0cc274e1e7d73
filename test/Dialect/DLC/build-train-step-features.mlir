// RUN: dlc-opt %s -split-input-file -dlc-build-train-step="features=true" | FileCheck %s
// RUN: dlc-opt %s -split-input-file -dlc-build-train-step | FileCheck %s --check-prefix=OFF
// RUN: dlc-opt %s -split-input-file -dlc-build-train-step="features=true" -dlc-describe-model | FileCheck %s --check-prefix=TABLE

// @features returns each convolution's output in inference form (running
// statistics, no dropout), named after the layer; what follows the last
// convolution (pool, flatten, dense) is left out.

// CHECK-LABEL: func.func @train_step(
// CHECK-LABEL: func.func @features(
// CHECK-SAME: {dlc.init = "glorot_uniform", dlc.name = "conv/kernel", dlc.role = "param"}
// CHECK-SAME: {dlc.name = "bn/moving_mean", dlc.role = "state"}
// CHECK-SAME: %[[X:[^:]+]]: tensor<2x8x8x1xf32> {dlc.name = "input", dlc.role = "input"}
// CHECK-SAME: -> (tensor<2x6x6x4xf32> {dlc.name = "conv", dlc.role = "feature"}, tensor<2x4x4x3xf32> {dlc.name = "conv_2", dlc.role = "feature"})
// CHECK: %[[C1:.+]] = dlc.conv2d %[[X]], %
// CHECK-NOT: dlc.dropout
// CHECK: dlc.batch_norm %[[C1]]
// CHECK: %[[C2:.+]] = dlc.conv2d
// CHECK-NOT: dlc.max_pool2d
// CHECK-NOT: dlc.dense
// CHECK: return %[[C1]], %[[C2]]
// CHECK-NEXT: }

// Off by default: the pass alone builds the three steps.
// OFF-NOT: @features

// The model table lists it.
// TABLE: dlc.model = {functions = [
// TABLE-SAME: name = "features", results = [{name = "conv", role = "feature", type = tensor<2x6x6x4xf32>}, {name = "conv_2", role = "feature", type = tensor<2x4x4x3xf32>}]}]

module attributes {dlc.loss = "sparse_categorical_crossentropy", dlc.optimizer = {name = "sgd"}} {
  func.func @forward(%x: tensor<2x8x8x1xf32> {dlc.name = "input"},
                     %k: tensor<3x3x1x4xf32> {dlc.name = "conv/kernel", dlc.init = "glorot_uniform", dlc.trainable = true},
                     %g: tensor<4xf32> {dlc.name = "bn/gamma", dlc.trainable = true},
                     %b: tensor<4xf32> {dlc.name = "bn/beta", dlc.trainable = true},
                     %m: tensor<4xf32> {dlc.name = "bn/moving_mean", dlc.trainable = false},
                     %v: tensor<4xf32> {dlc.name = "bn/moving_variance", dlc.trainable = false},
                     %k2: tensor<3x3x4x3xf32> {dlc.name = "conv_2/kernel", dlc.trainable = true},
                     %w: tensor<12x5xf32> {dlc.name = "dense/kernel", dlc.trainable = true},
                     %wb: tensor<5xf32> {dlc.name = "dense/bias", dlc.trainable = true}) -> tensor<2x5xf32> {
    %0 = dlc.conv2d %x, %k : (tensor<2x8x8x1xf32>, tensor<3x3x1x4xf32>) -> tensor<2x6x6x4xf32>
    %1 = dlc.batch_norm %0, %g, %b, %m, %v : (tensor<2x6x6x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<2x6x6x4xf32>
    %2 = dlc.dropout %1 {rate = 0.5 : f32} : (tensor<2x6x6x4xf32>) -> tensor<2x6x6x4xf32>
    %3 = dlc.conv2d %2, %k2 : (tensor<2x6x6x4xf32>, tensor<3x3x4x3xf32>) -> tensor<2x4x4x3xf32>
    %4 = dlc.max_pool2d %3 {pool_size = array<i64: 2, 2>, strides = array<i64: 2, 2>} : (tensor<2x4x4x3xf32>) -> tensor<2x2x2x3xf32>
    %5 = dlc.flatten %4 : (tensor<2x2x2x3xf32>) -> tensor<2x12xf32>
    %6 = dlc.dense %5, %w, %wb : (tensor<2x12xf32>, tensor<12x5xf32>, tensor<5xf32>) -> tensor<2x5xf32>
    return %6 : tensor<2x5xf32>
  }
}

// -----

// A model without a convolution gets no @features.
// CHECK-LABEL: func.func @train_step(
// CHECK-NOT: @features
module attributes {dlc.loss = "sparse_categorical_crossentropy", dlc.optimizer = {name = "sgd"}} {
  func.func @forward(%x: tensor<2x4xf32> {dlc.name = "input"},
                     %w: tensor<4x3xf32> {dlc.name = "dense/kernel", dlc.trainable = true},
                     %b: tensor<3xf32> {dlc.name = "dense/bias", dlc.trainable = true}) -> tensor<2x3xf32> {
    %0 = dlc.dense %x, %w, %b : (tensor<2x4xf32>, tensor<4x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
    return %0 : tensor<2x3xf32>
  }
}
