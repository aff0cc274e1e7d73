// RUN: dlc-opt %s -split-input-file -convert-dlc-to-linalg | FileCheck %s

// A bucket of two gradients: packed into one 64-byte aligned buffer in
// operand order (flattened), one runtime call with the reduction (mean = 1)
// and the bucket number, then read back and reshaped.

// CHECK: func.func private @dlc_rt_all_reduce_f32(memref<?xf32>, i32, i64)
// CHECK-LABEL: func.func @bucket
// CHECK-SAME: (%[[K:.*]]: tensor<3x4xf32>, %[[B:.*]]: tensor<4xf32>)
// CHECK: %[[BUF:.*]] = memref.alloc() {alignment = 64 : i64} : memref<16xf32>
// CHECK: %[[S0:.*]] = memref.subview %[[BUF]][0] [12] [1]
// CHECK: %[[KF:.*]] = tensor.collapse_shape %[[K]] {{\[\[}}0, 1]] : tensor<3x4xf32> into tensor<12xf32>
// CHECK: bufferization.materialize_in_destination %[[KF]] in restrict writable %[[S0]]
// CHECK: %[[S1:.*]] = memref.subview %[[BUF]][12] [4] [1]
// CHECK: bufferization.materialize_in_destination %[[B]] in restrict writable %[[S1]]
// CHECK: %[[DYN:.*]] = memref.cast %[[BUF]] : memref<16xf32> to memref<?xf32>
// CHECK-DAG: %[[MEAN:.*]] = arith.constant 1 : i32
// CHECK-DAG: %[[BUCKET:.*]] = arith.constant 2 : i64
// CHECK: call @dlc_rt_all_reduce_f32(%[[DYN]], %[[MEAN]], %[[BUCKET]])
// CHECK: %[[T:.*]] = bufferization.to_tensor %[[BUF]] restrict : memref<16xf32> to tensor<16xf32>
// CHECK: %[[R0:.*]] = tensor.extract_slice %[[T]][0] [12] [1]
// CHECK: %[[R0S:.*]] = tensor.expand_shape %[[R0]] {{\[\[}}0, 1]] output_shape [3, 4]
// CHECK: %[[R1:.*]] = tensor.extract_slice %[[T]][12] [4] [1]
// CHECK: return %[[R0S]], %[[R1]]
func.func @bucket(%k: tensor<3x4xf32>, %b: tensor<4xf32>) -> (tensor<3x4xf32>, tensor<4xf32>) {
  %r:2 = dlc.all_reduce %k, %b {bucket = 2 : i64, reduction = #dlc.reduction<mean>} : tensor<3x4xf32>, tensor<4xf32>
  return %r#0, %r#1 : tensor<3x4xf32>, tensor<4xf32>
}

// -----

// Two buckets share one declaration; a scalar is packed as one element;
// a sum passes reduction 0.

// CHECK-COUNT-1: func.func private @dlc_rt_all_reduce_f32
// CHECK-NOT: func.func private @dlc_rt_all_reduce_f32
// CHECK-LABEL: func.func @two_buckets
// CHECK: tensor.expand_shape %{{.*}} [] output_shape [1] : tensor<f32> into tensor<1xf32>
// CHECK: %[[SUM:.*]] = arith.constant 0 : i32
// CHECK: call @dlc_rt_all_reduce_f32(%{{.*}}, %[[SUM]], %{{.*}})
// CHECK: tensor.collapse_shape %{{.*}} [] : tensor<1xf32> into tensor<f32>
// CHECK: call @dlc_rt_all_reduce_f32
func.func @two_buckets(%x: tensor<f32>, %y: tensor<8xf32>) -> (tensor<f32>, tensor<8xf32>) {
  %a = dlc.all_reduce %x {bucket = 0 : i64, reduction = #dlc.reduction<sum>} : tensor<f32>
  %b = dlc.all_reduce %y {bucket = 1 : i64, reduction = #dlc.reduction<mean>} : tensor<8xf32>
  return %a, %b : tensor<f32>, tensor<8xf32>
}

// -----

// The overlapped form: packing and the start call at the start, the wait
// call (with the same buffer, whose life it extends) and the reading back
// at the wait; the op in between stays in between.

// CHECK-DAG: func.func private @dlc_rt_all_reduce_start_f32(memref<?xf32>, i32, i64)
// CHECK-DAG: func.func private @dlc_rt_all_reduce_wait_f32(memref<?xf32>, i64)
// CHECK-LABEL: func.func @start_wait
// CHECK: %[[BUF:.*]] = memref.alloc() {alignment = 64 : i64} : memref<16xf32>
// CHECK: bufferization.materialize_in_destination
// CHECK: bufferization.materialize_in_destination
// CHECK: %[[DYN:.*]] = memref.cast %[[BUF]] : memref<16xf32> to memref<?xf32>
// CHECK-DAG: %[[MEAN:.*]] = arith.constant 1 : i32
// CHECK-DAG: %[[BUCKET:.*]] = arith.constant 3 : i64
// CHECK: call @dlc_rt_all_reduce_start_f32(%[[DYN]], %[[MEAN]], %[[BUCKET]])
// CHECK-NOT: bufferization.to_tensor
// CHECK: linalg.generic
// CHECK: %[[WB:.*]] = arith.constant 3 : i64
// CHECK: call @dlc_rt_all_reduce_wait_f32(%[[DYN]], %[[WB]])
// CHECK: %[[T:.*]] = bufferization.to_tensor %[[BUF]] restrict : memref<16xf32> to tensor<16xf32>
// CHECK: tensor.extract_slice %[[T]][0] [12] [1]
// CHECK: tensor.extract_slice %[[T]][12] [4] [1]
func.func @start_wait(%k: tensor<3x4xf32>, %b: tensor<4xf32>) -> (tensor<3x4xf32>, tensor<4xf32>, tensor<4xf32>) {
  %f:2 = dlc.all_reduce_start %k, %b {bucket = 3 : i64, reduction = #dlc.reduction<mean>} : tensor<3x4xf32>, tensor<4xf32>
  %r = dlc.relu %b : tensor<4xf32>
  %w:2 = dlc.all_reduce_wait %f#0, %f#1 : tensor<3x4xf32>, tensor<4xf32>
  return %w#0, %w#1, %r : tensor<3x4xf32>, tensor<4xf32>, tensor<4xf32>
}
