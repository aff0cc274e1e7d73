// RUN: dlc-opt %s -split-input-file -convert-dlc-to-linalg | FileCheck %s

// Synchronized batch norm (a function marked dlc.sync_batch_norm, as
// dlc-build-train-step{data-parallel sync-batch-norm} marks @train_step):
// the per-channel f64 sums are packed into one buffer and replaced by their
// mean over the ranks (dlc_rt_all_reduce_f64, reduction mean = 1) between
// the reduction and the per-channel statistics.

// CHECK-DAG: func.func private @dlc_rt_all_reduce_f64(memref<?xf64>, i32, i64)
// CHECK-LABEL: func.func @train_sync
// CHECK: %[[SUMS:.*]]:2 = linalg.generic
// CHECK-SAME: iterator_types = ["reduction", "reduction", "reduction", "parallel"]
// CHECK: %[[BUF:.*]] = memref.alloc() {alignment = 64 : i64} : memref<8xf64>
// CHECK: bufferization.materialize_in_destination %[[SUMS]]#0 in restrict writable
// CHECK: bufferization.materialize_in_destination %[[SUMS]]#1 in restrict writable
// CHECK-DAG: %[[MEAN:.*]] = arith.constant 1 : i32
// CHECK-DAG: %[[CALL:.*]] = arith.constant 0 : i64
// CHECK: call @dlc_rt_all_reduce_f64(%{{.*}}, %[[MEAN]], %[[CALL]])
// CHECK: %[[T:.*]] = bufferization.to_tensor %[[BUF]]
// CHECK: %[[G0:.*]] = tensor.extract_slice %[[T]][0] [4] [1]
// CHECK: %[[G1:.*]] = tensor.extract_slice %[[T]][4] [4] [1]
// CHECK: linalg.generic
// CHECK-SAME: ins(%[[G0]], %[[G1]],
func.func @train_sync(%x: tensor<2x5x5x4xf32>, %g: tensor<4xf32>, %b: tensor<4xf32>,
                      %m: tensor<4xf32>, %v: tensor<4xf32>) -> tensor<2x5x5x4xf32>
    attributes {dlc.sync_batch_norm} {
  %y:5 = dlc.batch_norm_train %x, %g, %b, %m, %v
      : (tensor<2x5x5x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>)
     -> (tensor<2x5x5x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>)
  return %y#0 : tensor<2x5x5x4xf32>
}

// -----

// The fused forward: the conv's epilogue sums stay per rank, the apply
// reduces them. The backward reduces both sums; gamma_grad and beta_grad
// (results 1 and 2 of the per-channel map) come from the rank's own sums
// (%[[S]]#0/#1), the coefficients from the reduced ones (%[[R0]], %[[R1]]).
// A second call in the function is numbered 1.

// CHECK-LABEL: func.func @fused_sync
// CHECK: call @dlc_rt_all_reduce_f64(%{{.*}}, %{{.*}}, %{{.*}})
// CHECK: %[[S:.*]]:2 = linalg.generic
// CHECK-SAME: attrs = {dlc.epilogue}
// CHECK: %[[ONE:.*]] = arith.constant 1 : i64
// CHECK: call @dlc_rt_all_reduce_f64(%{{.*}}, %{{.*}}, %[[ONE]])
// CHECK: %[[R:.*]] = bufferization.to_tensor
// CHECK: %[[R0:.*]] = tensor.extract_slice %[[R]][0] [4] [1]
// CHECK: %[[R1:.*]] = tensor.extract_slice %[[R]][4] [4] [1]
// CHECK: linalg.generic
// CHECK-SAME: ins(%{{.*}}, %{{.*}}, %[[S]]#0, %[[S]]#1, %[[R0]], %[[R1]] :
func.func @fused_sync(%x: tensor<2x4x4x4xf32>, %s: tensor<4xf64>, %v: tensor<4xf32>,
                      %dy: tensor<2x4x4x4xf32>)
    -> (tensor<2x4x4x4xf32>, tensor<2x4x4x4xf32>, tensor<4xf32>)
    attributes {dlc.sync_batch_norm} {
  %y:5 = dlc.batch_norm_train_apply %x, %s, %s, %v, %v, %v, %v {relu}
      : (tensor<2x4x4x4xf32>, tensor<4xf64>, tensor<4xf64>, tensor<4xf32>,
         tensor<4xf32>, tensor<4xf32>, tensor<4xf32>)
     -> (tensor<2x4x4x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>)
  %d:3 = dlc.batch_norm_relu_grad %dy, %y#0, %x, %v, %y#1, %y#2
      : (tensor<2x4x4x4xf32>, tensor<2x4x4x4xf32>, tensor<2x4x4x4xf32>,
         tensor<4xf32>, tensor<4xf32>, tensor<4xf32>)
     -> (tensor<2x4x4x4xf32>, tensor<4xf32>, tensor<4xf32>)
  return %y#0, %d#0, %d#1 : tensor<2x4x4x4xf32>, tensor<2x4x4x4xf32>, tensor<4xf32>
}

// -----

// Without the attribute: no collective (per-rank statistics).

// CHECK-NOT: dlc_rt_all_reduce_f64
// CHECK-LABEL: func.func @train_apart
// CHECK-NOT: call
func.func @train_apart(%x: tensor<2x5x5x4xf32>, %g: tensor<4xf32>, %b: tensor<4xf32>,
                       %m: tensor<4xf32>, %v: tensor<4xf32>) -> tensor<2x5x5x4xf32> {
  %y:5 = dlc.batch_norm_train %x, %g, %b, %m, %v
      : (tensor<2x5x5x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>)
     -> (tensor<2x5x5x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>)
  return %y#0 : tensor<2x5x5x4xf32>
}

// -----

// Data-parallel random draws (dlc.data_parallel): dropout's element index
// is offset by (the rank's first global sample) x (elements per row), the
// flip's image index by the sample offset.

// CHECK-DAG: func.func private @dlc_rt_sample_offset() -> i64
// CHECK-LABEL: func.func @dropout_global
// CHECK: %[[OFF:.*]] = call @dlc_rt_sample_offset() : () -> i64
// CHECK: %[[ROWS:.*]] = arith.index_cast %[[OFF]] : i64 to index
// CHECK: %[[ELEMS:.*]] = arith.muli %[[ROWS]], %{{.*}} : index
// CHECK: linalg.generic
// CHECK: %[[LIN:.*]] = arith.addi %{{.*}}, %{{.*}} : index
// CHECK: %[[GLOBAL:.*]] = arith.addi %[[LIN]], %[[ELEMS]] : index
// CHECK: arith.index_castui %[[GLOBAL]] : index to i64
func.func @dropout_global(%x: tensor<4x8xf32>, %key: i64) -> tensor<4x8xf32>
    attributes {dlc.data_parallel} {
  %y = dlc.dropout %x, %key {rate = 0.25 : f32, stream = 3} : (tensor<4x8xf32>, i64) -> tensor<4x8xf32>
  return %y : tensor<4x8xf32>
}

// CHECK-LABEL: func.func @flip_global
// CHECK: %[[OFF:.*]] = call @dlc_rt_sample_offset() : () -> i64
// CHECK: %[[ROWS:.*]] = arith.index_cast %[[OFF]] : i64 to index
// CHECK: linalg.generic
// CHECK: %[[N:.*]] = linalg.index 0 : index
// CHECK: %[[GN:.*]] = arith.addi %[[N]], %[[ROWS]] : index
// CHECK: arith.index_castui %[[GN]] : index to i64
func.func @flip_global(%x: tensor<8x4x4x3xf32>, %key: i64) -> tensor<8x4x4x3xf32>
    attributes {dlc.data_parallel} {
  %y = dlc.random_flip %x, %key {mode = #dlc.flip_mode<horizontal>, stream = 2}
      : (tensor<8x4x4x3xf32>, i64) -> tensor<8x4x4x3xf32>
  return %y : tensor<8x4x4x3xf32>
}
