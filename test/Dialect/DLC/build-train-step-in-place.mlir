// RUN: dlc-opt %s -dlc-build-train-step="in-place=true drop-forward=true" | FileCheck %s

// With in-place, every persistent argument of @train_step is tied to its
// updated value (params, then the optimizer's slots, then state, in result
// order); the batch and the scalars are not. drop-forward erases @forward.

// CHECK-NOT: func.func @forward
// CHECK-LABEL: func.func @predict(
// CHECK-NOT: dlc.result
// CHECK-LABEL: func.func @train_step(
// CHECK-SAME: {dlc.init = "glorot_uniform", dlc.name = "dense/kernel", dlc.result = 0 : i64, dlc.role = "param"}
// CHECK-SAME: {dlc.name = "dense/bias", dlc.result = 1 : i64, dlc.role = "param"}
// CHECK-SAME: {dlc.name = "dense/kernel/velocity", dlc.result = 2 : i64, dlc.role = "opt_state"}
// CHECK-SAME: {dlc.name = "dense/bias/velocity", dlc.result = 3 : i64, dlc.role = "opt_state"}
// CHECK-SAME: {dlc.name = "input", dlc.role = "input"}
// CHECK-SAME: {dlc.name = "labels", dlc.role = "labels"}
// CHECK-SAME: -> (tensor<4x3xf32> {dlc.init = "glorot_uniform", dlc.name = "dense/kernel", dlc.role = "param"}
module attributes {dlc.loss = "sparse_categorical_crossentropy",
                   dlc.optimizer = {name = "sgd", momentum = 0.9 : f32}} {
  func.func @forward(%x: tensor<2x1x1x4xf32> {dlc.name = "input"},
                     %w: tensor<4x3xf32> {dlc.name = "dense/kernel", dlc.init = "glorot_uniform"},
                     %b: tensor<3xf32> {dlc.name = "dense/bias"}) -> tensor<2x3xf32> {
    %f = dlc.flatten %x : (tensor<2x1x1x4xf32>) -> tensor<2x4xf32>
    %y = dlc.dense %f, %w, %b : (tensor<2x4xf32>, tensor<4x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
    return %y : tensor<2x3xf32>
  }
}
