// RUN: dlc-opt %s -split-input-file -dlc-test-vjp | FileCheck %s

// Dense: the gradient of x and of the kernel, from the result's gradient.
// CHECK-LABEL: func.func @dense_vjp(
// CHECK-SAME: %[[X:[^:]+]]: tensor<4x8xf32>, %[[W:[^:]+]]: tensor<8x2xf32>, %[[DY:[^:]+]]: tensor<4x2xf32>) -> (tensor<4x8xf32>, tensor<8x2xf32>)
// CHECK: %[[DX:.*]] = dlc.matmul %[[DY]], %[[W]] {transpose_rhs}
// CHECK: %[[DW:.*]] = dlc.matmul %[[X]], %[[DY]] {transpose_lhs}
// CHECK: return %[[DX]], %[[DW]]
func.func @dense(%x: tensor<4x8xf32>, %w: tensor<8x2xf32>) -> tensor<4x2xf32> {
  %0 = dlc.dense %x, %w : (tensor<4x8xf32>, tensor<8x2xf32>) -> tensor<4x2xf32>
  return %0 : tensor<4x2xf32>
}

// -----

// An argument that reaches no result gets a zero gradient; integer labels
// get none.
// CHECK-LABEL: func.func @loss_vjp(
// CHECK-SAME: -> (tensor<4x3xf32>, tensor<5xf32>)
// CHECK: %[[D:.*]] = dlc.softmax_cross_entropy_grad
// CHECK: %[[Z:.*]] = arith.constant dense<0.000000e+00> : tensor<5xf32>
// CHECK: return %[[D]], %[[Z]]
func.func @loss(%l: tensor<4x3xf32>, %y: tensor<4xi32>, %unused: tensor<5xf32>) -> tensor<f32> {
  %0 = dlc.softmax_cross_entropy %l, %y : (tensor<4x3xf32>, tensor<4xi32>) -> tensor<f32>
  return %0 : tensor<f32>
}
