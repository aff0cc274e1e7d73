// RUN: dlc-opt %s -dlc-build-train-step -dlc-optimize-steps | FileCheck %s

// The driver's graph optimizations (dlc-optimize-steps) on the steps that
// dlc-build-train-step builds from a conv + batch-norm + relu classifier:
// inference folds the batch norm into the convolution, training computes
// the statistics with the convolution and fuses normalize + relu, forward
// and backward, and the loss with its gradient.

// CHECK-LABEL: func.func @predict(
// CHECK: %[[W:.*]], %[[NB:.*]] = dlc.fold_batch_norm_params
// CHECK: %[[C:.*]] = dlc.conv2d %{{.*}}, %[[W]], %[[NB]]
// CHECK-NOT: dlc.batch_norm
// CHECK: dlc.relu %[[C]]

// CHECK-LABEL: func.func @eval_step(
// CHECK: dlc.fold_batch_norm_params
// CHECK-NOT: dlc.batch_norm
// CHECK: dlc.softmax_cross_entropy

// CHECK-LABEL: func.func @train_step(
// CHECK: %[[C:.*]], %[[S:.*]], %[[SS:.*]] = dlc.conv2d_bn_stats
// CHECK: %[[Y:.*]], %[[BM:.*]], %[[BV:.*]], %{{.*}}, %{{.*}} = dlc.batch_norm_train_apply %[[C]], %[[S]], %[[SS]], {{.*}} {relu}
// CHECK-NOT: dlc.relu
// CHECK: dlc.dropout %[[Y]]
// CHECK: %[[LOSS:.*]], %{{.*}} = dlc.softmax_cross_entropy_with_grad
// CHECK-NOT: dlc.softmax_cross_entropy_grad
// CHECK: %[[D:.*]], %{{.*}}, %{{.*}} = dlc.batch_norm_relu_grad %{{.*}}, %[[Y]], %[[C]], %{{.*}}, %[[BM]], %[[BV]]
// CHECK-NOT: dlc.relu_grad
// CHECK-NOT: dlc.batch_norm_grad
// CHECK: dlc.conv2d_grad_filter %{{.*}}, %[[D]]
func.func @forward(%x: tensor<2x6x6x1xf32>,
    %k: tensor<3x3x1x4xf32> {dlc.init = "glorot_uniform", dlc.name = "conv/kernel"},
    %g: tensor<4xf32> {dlc.name = "bn/gamma"}, %b: tensor<4xf32> {dlc.name = "bn/beta"},
    %m: tensor<4xf32> {dlc.name = "bn/moving_mean"}, %v: tensor<4xf32> {dlc.name = "bn/moving_variance"},
    %w: tensor<64x3xf32> {dlc.name = "dense/kernel"}, %c: tensor<3xf32> {dlc.name = "dense/bias"}) -> tensor<2x3xf32> {
  %0 = dlc.conv2d %x, %k : (tensor<2x6x6x1xf32>, tensor<3x3x1x4xf32>) -> tensor<2x4x4x4xf32>
  %1 = dlc.batch_norm %0, %g, %b, %m, %v : (tensor<2x4x4x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<2x4x4x4xf32>
  %2 = dlc.relu %1 : tensor<2x4x4x4xf32>
  %3 = dlc.dropout %2 {rate = 0.5 : f32} : (tensor<2x4x4x4xf32>) -> tensor<2x4x4x4xf32>
  %4 = dlc.flatten %3 : (tensor<2x4x4x4xf32>) -> tensor<2x64xf32>
  %5 = dlc.dense %4, %w, %c : (tensor<2x64xf32>, tensor<64x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  return %5 : tensor<2x3xf32>
}
