// RUN: dlc-opt %s -split-input-file -convert-dlc-to-linalg | FileCheck %s

// Batch-norm backward: one two-output reduction (sum dy, sum dy * (x - mean))
// over all but the channel dimension, a per-channel generic for the gamma and
// beta gradients and the coefficients, then one elementwise pass
// dx = A * dy + B * (x - mean) + C.

// CHECK-LABEL: func @batch_norm_grad
// CHECK-SAME: (%[[DY:.*]]: tensor<2x3x3x4xf32>, %[[X:.*]]: tensor<2x3x3x4xf32>, %[[G:.*]]: tensor<4xf32>, %[[M:.*]]: tensor<4xf32>, %[[V:.*]]: tensor<4xf32>)
// CHECK: %[[SUMS:.*]]:2 = linalg.generic
// CHECK-SAME: iterator_types = ["reduction", "reduction", "reduction", "parallel"]
// CHECK-SAME: ins(%[[DY]], %[[X]], %[[M]] :
// CHECK: %[[CHANNEL:.*]]:5 = linalg.generic
// CHECK-SAME: ins(%[[G]], %[[V]], %[[SUMS]]#0, %[[SUMS]]#1 :
// CHECK: %[[EPS:.*]] = arith.constant 1.000000e-03 : f32
// CHECK: math.rsqrt
// CHECK: %[[M_COUNT:.*]] = arith.constant 1.800000e+01 : f32
// CHECK: %[[DX:.*]] = linalg.generic
// CHECK-SAME: ins(%[[DY]], %[[X]], %[[M]], %[[CHANNEL]]#2, %[[CHANNEL]]#3, %[[CHANNEL]]#4 :
// CHECK: return %[[DX]], %[[CHANNEL]]#0, %[[CHANNEL]]#1
func.func @batch_norm_grad(%dy: tensor<2x3x3x4xf32>, %x: tensor<2x3x3x4xf32>, %g: tensor<4xf32>,
                           %m: tensor<4xf32>, %v: tensor<4xf32>)
    -> (tensor<2x3x3x4xf32>, tensor<4xf32>, tensor<4xf32>) {
  %0:3 = dlc.batch_norm_grad %dy, %x, %g, %m, %v
      : (tensor<2x3x3x4xf32>, tensor<2x3x3x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>)
     -> (tensor<2x3x3x4xf32>, tensor<4xf32>, tensor<4xf32>)
  return %0#0, %0#1, %0#2 : tensor<2x3x3x4xf32>, tensor<4xf32>, tensor<4xf32>
}
