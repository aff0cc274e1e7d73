// RUN: dlc-opt %s -dlc-build-train-step -dlc-insert-gradient-all-reduce="bucket-bytes=128 overlap=false" | FileCheck %s
// RUN: dlc-opt %s -dlc-build-train-step="data-parallel bucket-bytes=128 overlap-all-reduce=false" | FileCheck %s
// RUN: dlc-opt %s -dlc-build-train-step="data-parallel overlap-all-reduce=false" | FileCheck %s --check-prefix=ONE
// RUN: dlc-opt %s -dlc-build-train-step -dlc-insert-gradient-all-reduce="bucket-bytes=128" | FileCheck %s --check-prefix=OVL
// RUN: dlc-opt %s -dlc-build-train-step="data-parallel bucket-bytes=128" | FileCheck %s --check-prefix=OVL
// RUN: dlc-opt %s -dlc-build-train-step | FileCheck %s --check-prefix=NONE
// RUN: dlc-opt %s -dlc-build-train-step="data-parallel" -dlc-insert-gradient-all-reduce -verify-diagnostics -o /dev/null

// A two-layer MLP. The backward pass produces the gradients of the last
// layer first: each bucket's all-reduce comes right after its last
// producer, before the backward pass of the first layer, and every update
// reads the mean. w2's gradient is 128 bytes (a bucket alone); b2's 8 bytes
// then start a new bucket.

// CHECK-LABEL: func.func @train_step
// CHECK: %[[DW2:.*]] = dlc.matmul %{{.*}}, %{{.*}} {transpose_lhs} : (tensor<4x16xf32>, tensor<4x2xf32>) -> tensor<16x2xf32>
// CHECK-NEXT: %[[RW2:.*]] = dlc.all_reduce %[[DW2]] {bucket = 0 : i64, reduction = #dlc.reduction<mean>} : tensor<16x2xf32>
// CHECK-NEXT: %[[DB2:.*]] = dlc.channel_sum
// CHECK-NEXT: %[[RB2:.*]] = dlc.all_reduce %[[DB2]] {bucket = 1 : i64, reduction = #dlc.reduction<mean>} : tensor<2xf32>
// CHECK-NEXT: dlc.relu_grad
// CHECK-NEXT: %[[DW1:.*]] = dlc.matmul
// CHECK-NEXT: %[[RW1:.*]] = dlc.all_reduce %[[DW1]] {bucket = 2 : i64
// CHECK-NEXT: %[[DB1:.*]] = dlc.channel_sum
// CHECK-NEXT: %[[RB1:.*]] = dlc.all_reduce %[[DB1]] {bucket = 3 : i64
// CHECK: dlc.sgd_update %{{.*}}, %[[RW1]],
// CHECK: dlc.sgd_update %{{.*}}, %[[RB1]],
// CHECK: dlc.sgd_update %{{.*}}, %[[RW2]],
// CHECK: dlc.sgd_update %{{.*}}, %[[RB2]],
// CHECK-NOT: dlc.all_reduce

// Overlapped (the default): each bucket starts where the blocking
// all-reduce was and is waited for right before the first update that
// reads it, so the backward ops in between (relu_grad, w1's and b1's
// gradients) run while buckets 0 and 1 are in flight. The updates read w1
// first: bucket 2's wait comes first, each wait just before its update.
// OVL-LABEL: func.func @train_step
// OVL: %[[DW2:.*]] = dlc.matmul %{{.*}}, %{{.*}} {transpose_lhs} : (tensor<4x16xf32>, tensor<4x2xf32>) -> tensor<16x2xf32>
// OVL-NEXT: %[[FW2:.*]] = dlc.all_reduce_start %[[DW2]] {bucket = 0 : i64, reduction = #dlc.reduction<mean>} : tensor<16x2xf32>
// OVL-NEXT: %[[DB2:.*]] = dlc.channel_sum
// OVL-NEXT: %[[FB2:.*]] = dlc.all_reduce_start %[[DB2]] {bucket = 1 : i64, reduction = #dlc.reduction<mean>} : tensor<2xf32>
// OVL-NEXT: dlc.relu_grad
// OVL-NEXT: %[[DW1:.*]] = dlc.matmul
// OVL-NEXT: %[[FW1:.*]] = dlc.all_reduce_start %[[DW1]] {bucket = 2 : i64
// OVL-NEXT: %[[DB1:.*]] = dlc.channel_sum
// OVL-NEXT: %[[FB1:.*]] = dlc.all_reduce_start %[[DB1]] {bucket = 3 : i64
// OVL-NOT: dlc.all_reduce_wait
// OVL: %[[RW1:.*]] = dlc.all_reduce_wait %[[FW1]] : tensor<8x16xf32>
// OVL-NEXT: dlc.sgd_update %{{.*}}, %[[RW1]],
// OVL: %[[RB1:.*]] = dlc.all_reduce_wait %[[FB1]] : tensor<16xf32>
// OVL-NEXT: dlc.sgd_update %{{.*}}, %[[RB1]],
// OVL: %[[RW2:.*]] = dlc.all_reduce_wait %[[FW2]] : tensor<16x2xf32>
// OVL-NEXT: dlc.sgd_update %{{.*}}, %[[RW2]],
// OVL: %[[RB2:.*]] = dlc.all_reduce_wait %[[FB2]] : tensor<2xf32>
// OVL-NEXT: dlc.sgd_update %{{.*}}, %[[RB2]],
// OVL-NOT: dlc.all_reduce

// The default bucket (1 MiB) holds all four gradients: one call after the
// last gradient (b1's), in the order they were produced.
// ONE-LABEL: func.func @train_step
// ONE: %[[DW2:.*]] = dlc.matmul {{.*}} -> tensor<16x2xf32>
// ONE: %[[DB2:.*]] = dlc.channel_sum {{.*}} -> tensor<2xf32>
// ONE: %[[DW1:.*]] = dlc.matmul {{.*}} -> tensor<8x16xf32>
// ONE-NEXT: %[[DB1:.*]] = dlc.channel_sum {{.*}} -> tensor<16xf32>
// ONE-NEXT: %{{.*}}:4 = dlc.all_reduce %[[DW2]], %[[DB2]], %[[DW1]], %[[DB1]] {bucket = 0 : i64
// ONE-NOT: dlc.all_reduce

// Without data-parallel the step has no collective.
// NONE-LABEL: func.func @train_step
// NONE-NOT: dlc.all_reduce

module attributes {dlc.optimizer = {name = "SGD", momentum = 0.9 : f32}} {
  // The step built with data-parallel already has its buckets:
  // expected-error @+1 {{'func.func' op already reduces its gradients across ranks (dlc.all_reduce)}}
  func.func @forward(%x: tensor<4x8xf32>, %w1: tensor<8x16xf32> {dlc.name = "w1"}, %b1: tensor<16xf32> {dlc.name = "b1"}, %w2: tensor<16x2xf32> {dlc.name = "w2"}, %b2: tensor<2xf32> {dlc.name = "b2"}) -> tensor<4x2xf32> {
    %0 = dlc.dense %x, %w1, %b1 : (tensor<4x8xf32>, tensor<8x16xf32>, tensor<16xf32>) -> tensor<4x16xf32>
    %1 = dlc.relu %0 : tensor<4x16xf32>
    %2 = dlc.dense %1, %w2, %b2 : (tensor<4x16xf32>, tensor<16x2xf32>, tensor<2xf32>) -> tensor<4x2xf32>
    return %2 : tensor<4x2xf32>
  }
}
