// RUN: dlc-opt %s -split-input-file | FileCheck %s
// RUN: dlc-opt %s -split-input-file -mlir-print-op-generic | dlc-opt -split-input-file | FileCheck %s

// Every fused op round-trips through the custom and the generic form.

// CHECK-LABEL: func @conv2d_bn_stats
func.func @conv2d_bn_stats(%x: tensor<8x28x28x3xf32>, %w: tensor<3x3x3x16xf32>, %b: tensor<16xf32>)
    -> (tensor<8x26x26x16xf32>, tensor<16xf64>, tensor<8x14x14x16xf32>) {
  // CHECK: %{{.*}}, %{{.*}}, %{{.*}} = dlc.conv2d_bn_stats %{{.*}}, %{{.*}} : (tensor<8x28x28x3xf32>, tensor<3x3x3x16xf32>) -> (tensor<8x26x26x16xf32>, tensor<16xf64>, tensor<16xf64>)
  %0:3 = dlc.conv2d_bn_stats %x, %w : (tensor<8x28x28x3xf32>, tensor<3x3x3x16xf32>)
      -> (tensor<8x26x26x16xf32>, tensor<16xf64>, tensor<16xf64>)
  // CHECK: dlc.conv2d_bn_stats %{{.*}}, %{{.*}}, %{{.*}} {padding = #dlc.padding<same>, strides = array<i64: 2, 2>}
  %1:3 = dlc.conv2d_bn_stats %x, %w, %b {padding = #dlc.padding<same>, strides = array<i64: 2, 2>}
      : (tensor<8x28x28x3xf32>, tensor<3x3x3x16xf32>, tensor<16xf32>)
      -> (tensor<8x14x14x16xf32>, tensor<16xf64>, tensor<16xf64>)
  return %0#0, %0#2, %1#0 : tensor<8x26x26x16xf32>, tensor<16xf64>, tensor<8x14x14x16xf32>
}

// -----

// CHECK-LABEL: func @batch_norm_train_apply
func.func @batch_norm_train_apply(%x: tensor<2x4x4x8xf32>, %s: tensor<8xf64>, %v: tensor<8xf32>) -> (tensor<2x4x4x8xf32>, tensor<8xf32>) {
  // CHECK: dlc.batch_norm_train_apply {{.*}} {epsilon = 9.99999974E-6 : f32, momentum = 0.899999976 : f32, relu}
  %0:5 = dlc.batch_norm_train_apply %x, %s, %s, %v, %v, %v, %v {epsilon = 1.0e-5 : f32, momentum = 0.9 : f32, relu}
      : (tensor<2x4x4x8xf32>, tensor<8xf64>, tensor<8xf64>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>)
      -> (tensor<2x4x4x8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>)
  // Without relu (and default epsilon and momentum): no attributes.
  // CHECK: dlc.batch_norm_train_apply %{{[^{]*}} : (tensor<2x4x4x8xf32>
  %1:5 = dlc.batch_norm_train_apply %x, %s, %s, %v, %v, %v, %v
      : (tensor<2x4x4x8xf32>, tensor<8xf64>, tensor<8xf64>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>)
      -> (tensor<2x4x4x8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>)
  return %0#0, %1#4 : tensor<2x4x4x8xf32>, tensor<8xf32>
}

// -----

// CHECK-LABEL: func @batch_norm_relu_grad
func.func @batch_norm_relu_grad(%dy: tensor<2x4x4x8xf32>, %y: tensor<2x4x4x8xf32>, %x: tensor<2x4x4x8xf32>,
    %v: tensor<8xf32>) -> (tensor<2x4x4x8xf32>, tensor<8xf32>, tensor<8xf32>) {
  // CHECK: dlc.batch_norm_relu_grad %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {epsilon = 9.99999974E-6 : f32}
  %0:3 = dlc.batch_norm_relu_grad %dy, %y, %x, %v, %v, %v {epsilon = 1.0e-5 : f32}
      : (tensor<2x4x4x8xf32>, tensor<2x4x4x8xf32>, tensor<2x4x4x8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>)
      -> (tensor<2x4x4x8xf32>, tensor<8xf32>, tensor<8xf32>)
  return %0#0, %0#1, %0#2 : tensor<2x4x4x8xf32>, tensor<8xf32>, tensor<8xf32>
}

// -----

// CHECK-LABEL: func @fold_batch_norm_params
func.func @fold_batch_norm_params(%w: tensor<3x3x2x8xf32>, %v: tensor<8xf32>)
    -> (tensor<3x3x2x8xf32>, tensor<8xf32>, tensor<8xf32>) {
  // CHECK: dlc.fold_batch_norm_params %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : (tensor<3x3x2x8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>) -> (tensor<3x3x2x8xf32>, tensor<8xf32>)
  %0:2 = dlc.fold_batch_norm_params %w, %v, %v, %v, %v
      : (tensor<3x3x2x8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>) -> (tensor<3x3x2x8xf32>, tensor<8xf32>)
  // With a bias: one more vector operand.
  // CHECK: dlc.fold_batch_norm_params {{.*}} {epsilon = 9.99999974E-6 : f32} : (tensor<3x3x2x8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>)
  %1:2 = dlc.fold_batch_norm_params %w, %v, %v, %v, %v, %v {epsilon = 1.0e-5 : f32}
      : (tensor<3x3x2x8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>) -> (tensor<3x3x2x8xf32>, tensor<8xf32>)
  return %0#0, %0#1, %1#1 : tensor<3x3x2x8xf32>, tensor<8xf32>, tensor<8xf32>
}

// -----

// CHECK-LABEL: func @softmax_cross_entropy_with_grad
func.func @softmax_cross_entropy_with_grad(%l: tensor<8x10xf32>, %y: tensor<8xi32>, %g: tensor<f32>)
    -> (tensor<f32>, tensor<8x10xf32>) {
  // CHECK: %{{.*}}, %{{.*}} = dlc.softmax_cross_entropy_with_grad %{{.*}}, %{{.*}}, %{{.*}} : (tensor<8x10xf32>, tensor<8xi32>, tensor<f32>) -> (tensor<f32>, tensor<8x10xf32>)
  %0:2 = dlc.softmax_cross_entropy_with_grad %l, %y, %g
      : (tensor<8x10xf32>, tensor<8xi32>, tensor<f32>) -> (tensor<f32>, tensor<8x10xf32>)
  return %0#0, %0#1 : tensor<f32>, tensor<8x10xf32>
}
