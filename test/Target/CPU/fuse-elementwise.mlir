// RUN: dlc-opt %s -split-input-file -convert-dlc-to-linalg -dlc-cpu-fuse-elementwise | FileCheck %s

// Batch-norm (inference) then relu: one generic over the activations.

// CHECK-LABEL: func @bn_relu
// CHECK-COUNT-2: linalg.generic
// CHECK-NOT: linalg.generic
// CHECK: arith.mulf
// CHECK: arith.addf
// CHECK: arith.maximumf
func.func @bn_relu(%x: tensor<2x5x5x4xf32>, %g: tensor<4xf32>, %b: tensor<4xf32>,
                   %m: tensor<4xf32>, %v: tensor<4xf32>) -> tensor<2x5x5x4xf32> {
  %y = dlc.batch_norm %x, %g, %b, %m, %v
      : (tensor<2x5x5x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<2x5x5x4xf32>
  %r = dlc.relu %y : tensor<2x5x5x4xf32>
  return %r : tensor<2x5x5x4xf32>
}

// -----

// Flatten feeding dense stays a collapse_shape and a linalg.matmul (the
// upstream pass would push the reshape into a 5-D contraction generic).

// CHECK-LABEL: func @flatten_dense
// CHECK: tensor.collapse_shape
// CHECK: linalg.matmul
// CHECK-NOT: tensor.expand_shape
func.func @flatten_dense(%x: tensor<4x3x3x8xf32>, %w: tensor<72x10xf32>, %b: tensor<10xf32>) -> tensor<4x10xf32> {
  %r = dlc.relu %x : tensor<4x3x3x8xf32>
  %f = dlc.flatten %r : (tensor<4x3x3x8xf32>) -> tensor<4x72xf32>
  %y = dlc.dense %f, %w, %b : (tensor<4x72xf32>, tensor<72x10xf32>, tensor<10xf32>) -> tensor<4x10xf32>
  return %y : tensor<4x10xf32>
}
