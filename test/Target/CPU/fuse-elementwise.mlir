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

// -----

// A chain of three elementwise ops (add, relu, sigmoid): one generic, one
// pass over memory.

// CHECK-LABEL: func @chain
// CHECK: linalg.generic
// CHECK: arith.addf
// CHECK: arith.maximumf
// CHECK: math.exp
// CHECK-NOT: linalg.generic
// CHECK: return
func.func @chain(%x: tensor<8x16xf32>, %y: tensor<8x16xf32>) -> tensor<8x16xf32> {
  %s = dlc.add %x, %y : tensor<8x16xf32>
  %r = dlc.relu %s : tensor<8x16xf32>
  %g = dlc.sigmoid %r : tensor<8x16xf32>
  return %g : tensor<8x16xf32>
}

// -----

// Must not fire: a producer with a second user (the relu output that the
// backward pass keeps) would be computed twice if fused; it stays its own
// generic and both consumers read it.

// CHECK-LABEL: func @shared_producer
// CHECK: %[[R:.*]] = linalg.generic
// CHECK: arith.maximumf
// CHECK: linalg.generic {{.*}} ins(%[[R]]
// CHECK: linalg.generic {{.*}} ins(%[[R]]
func.func @shared_producer(%x: tensor<8x16xf32>) -> (tensor<8x16xf32>, tensor<8x16xf32>) {
  %r = dlc.relu %x : tensor<8x16xf32>
  %a = dlc.sigmoid %r : tensor<8x16xf32>
  %b = dlc.tanh %r : tensor<8x16xf32>
  return %a, %b : tensor<8x16xf32>, tensor<8x16xf32>
}
