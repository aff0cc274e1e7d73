// RUN: dlc-opt %s -split-input-file -convert-dlc-to-linalg | FileCheck %s

// Softmax cross-entropy: the row softmax minus the one-hot label, times
// loss_grad / N (N = 4 rows).

// CHECK-DAG: #[[NK:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[ROW:.*]] = affine_map<(d0, d1) -> (d0)>
// CHECK-DAG: #[[SCALAR:.*]] = affine_map<(d0, d1) -> ()>
// CHECK-LABEL: func @softmax_cross_entropy_grad
// CHECK-SAME: (%[[L:.*]]: tensor<4x3xf32>, %[[Y:.*]]: tensor<4xi32>, %[[G:.*]]: tensor<f32>)
// CHECK: %[[MAX:.*]] = linalg.generic
// CHECK: arith.maximumf
// CHECK: %[[SUM:.*]] = linalg.generic
// CHECK: math.exp
// CHECK: %[[SCALE:.*]] = linalg.generic
// CHECK-SAME: ins(%[[G]] : tensor<f32>)
// CHECK: arith.constant 4.000000e+00 : f32
// CHECK: linalg.generic {indexing_maps = [#[[NK]], #[[ROW]], #[[ROW]], #[[ROW]], #[[SCALAR]], #[[NK]]]
// CHECK-SAME: ins(%[[L]], %[[MAX]], %[[SUM]], %[[Y]], %[[SCALE]] :
// CHECK: linalg.index 1
// CHECK: arith.cmpi eq
func.func @softmax_cross_entropy_grad(%l: tensor<4x3xf32>, %y: tensor<4xi32>, %g: tensor<f32>) -> tensor<4x3xf32> {
  %0 = dlc.softmax_cross_entropy_grad %l, %y, %g : (tensor<4x3xf32>, tensor<4xi32>, tensor<f32>) -> tensor<4x3xf32>
  return %0 : tensor<4x3xf32>
}

// -----

// MSE: 2 (p - t) * loss_grad / numel (numel = 12).

// CHECK-LABEL: func @mse_grad
// CHECK: arith.constant 1.200000e+01 : f32
// CHECK: linalg.generic
// CHECK: ^bb0(%[[P:.*]]: f32, %[[T:.*]]: f32, %[[S:.*]]: f32, %{{.*}}: f32):
// CHECK: %[[D:.*]] = arith.subf %[[P]], %[[T]]
// CHECK: %[[TWO:.*]] = arith.constant 2.000000e+00 : f32
// CHECK: %[[D2:.*]] = arith.mulf %[[TWO]], %[[D]]
// CHECK: arith.mulf %[[D2]], %[[S]]
func.func @mse_grad(%p: tensor<4x3xf32>, %t: tensor<4x3xf32>, %g: tensor<f32>) -> tensor<4x3xf32> {
  %0 = dlc.mse_grad %p, %t, %g : (tensor<4x3xf32>, tensor<4x3xf32>, tensor<f32>) -> tensor<4x3xf32>
  return %0 : tensor<4x3xf32>
}

// -----

// Binary cross-entropy from logits: sigmoid(x) - t.

// CHECK-LABEL: func @bce_grad_logits
// CHECK: linalg.generic
// CHECK: math.exp
// CHECK: arith.divf
// CHECK: arith.subf
// CHECK-NOT: arith.select
func.func @bce_grad_logits(%p: tensor<4x3xf32>, %t: tensor<4x3xf32>, %g: tensor<f32>) -> tensor<4x3xf32> {
  %0 = dlc.binary_cross_entropy_grad %p, %t, %g {from_logits} : (tensor<4x3xf32>, tensor<4x3xf32>, tensor<f32>) -> tensor<4x3xf32>
  return %0 : tensor<4x3xf32>
}

// -----

// From probabilities: (p - t) / (p (1 - p)), zero where the forward's clip to
// [1e-7, 1 - 1e-7] holds p constant.

// CHECK-LABEL: func @bce_grad_probabilities
// CHECK: ^bb0(%[[P:.*]]: f32, %[[T:.*]]: f32, %{{.*}}: f32, %{{.*}}: f32):
// CHECK: %[[EPS:.*]] = arith.constant 1.000000e-07 : f32
// CHECK: arith.cmpf oge, %[[P]], %[[EPS]]
// CHECK: arith.cmpf ole
// CHECK: %[[INSIDE:.*]] = arith.andi
// CHECK: %[[Q:.*]] = arith.divf
// CHECK: arith.select %[[INSIDE]], %[[Q]], %{{.*}}
func.func @bce_grad_probabilities(%p: tensor<4x3xf32>, %t: tensor<4x3xf32>, %g: tensor<f32>) -> tensor<4x3xf32> {
  %0 = dlc.binary_cross_entropy_grad %p, %t, %g : (tensor<4x3xf32>, tensor<4x3xf32>, tensor<f32>) -> tensor<4x3xf32>
  return %0 : tensor<4x3xf32>
}
