// RUN: dlc-opt %s -split-input-file | dlc-opt -split-input-file | FileCheck %s

// dlc.all_reduce round-trips; its results take its operands' types.

// CHECK-LABEL: func @bucket
// CHECK: %[[R:.*]]:2 = dlc.all_reduce %{{.*}}, %{{.*}} {bucket = 2 : i64, reduction = #dlc.reduction<mean>} : tensor<3x3x1x4xf32>, tensor<4xf32>
// CHECK: return %[[R]]#0, %[[R]]#1 : tensor<3x3x1x4xf32>, tensor<4xf32>
func.func @bucket(%k: tensor<3x3x1x4xf32>, %b: tensor<4xf32>) -> (tensor<3x3x1x4xf32>, tensor<4xf32>) {
  %r:2 = dlc.all_reduce %k, %b {bucket = 2 : i64, reduction = #dlc.reduction<mean>} : tensor<3x3x1x4xf32>, tensor<4xf32>
  return %r#0, %r#1 : tensor<3x3x1x4xf32>, tensor<4xf32>
}

// -----

// A sum of a scalar is allowed too.
// CHECK-LABEL: func @scalar_sum
// CHECK: dlc.all_reduce %{{.*}} {bucket = 0 : i64, reduction = #dlc.reduction<sum>} : tensor<f32>
func.func @scalar_sum(%x: tensor<f32>) -> tensor<f32> {
  %r = dlc.all_reduce %x {bucket = 0 : i64, reduction = #dlc.reduction<sum>} : tensor<f32>
  return %r : tensor<f32>
}

// -----

// The overlapped form round-trips: the start's results (in flight) have
// the operands' types, the wait's results too.
// CHECK-LABEL: func.func @start_wait
// CHECK: %[[F:.*]]:2 = dlc.all_reduce_start %{{.*}}, %{{.*}} {bucket = 1 : i64, reduction = #dlc.reduction<mean>} : tensor<3x3x1x4xf32>, tensor<4xf32>
// CHECK: %[[W:.*]]:2 = dlc.all_reduce_wait %[[F]]#0, %[[F]]#1 : tensor<3x3x1x4xf32>, tensor<4xf32>
// CHECK: return %[[W]]#0, %[[W]]#1
func.func @start_wait(%k: tensor<3x3x1x4xf32>, %b: tensor<4xf32>) -> (tensor<3x3x1x4xf32>, tensor<4xf32>) {
  %f:2 = dlc.all_reduce_start %k, %b {bucket = 1 : i64, reduction = #dlc.reduction<mean>} : tensor<3x3x1x4xf32>, tensor<4xf32>
  %r = dlc.relu %b : tensor<4xf32>
  %w:2 = dlc.all_reduce_wait %f#0, %f#1 : tensor<3x3x1x4xf32>, tensor<4xf32>
  return %w#0, %w#1 : tensor<3x3x1x4xf32>, tensor<4xf32>
}
