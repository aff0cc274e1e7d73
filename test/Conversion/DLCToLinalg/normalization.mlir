// RUN: dlc-opt %s -split-input-file -convert-dlc-to-linalg | FileCheck %s

// Inference: scale = gamma / sqrt(var + eps), shift = beta - mean * scale
// once per channel, then one multiply-add per element.

// CHECK-DAG: #[[ID:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
// CHECK-DAG: #[[CH:.*]] = affine_map<(d0, d1, d2, d3) -> (d3)>
// CHECK-LABEL: func @batch_norm
// CHECK-SAME: (%[[X:.*]]: tensor<2x5x5x4xf32>, %[[G:.*]]: tensor<4xf32>, %[[B:.*]]: tensor<4xf32>, %[[M:.*]]: tensor<4xf32>, %[[V:.*]]: tensor<4xf32>)
// CHECK: %[[SS:.*]]:2 = linalg.generic
// CHECK-SAME: ins(%[[G]], %[[B]], %[[M]], %[[V]] :
// CHECK: ^bb0(%[[g:.*]]: f32, %[[b:.*]]: f32, %[[m:.*]]: f32, %[[v:.*]]: f32, %{{.*}}: f32, %{{.*}}: f32):
// CHECK: %[[EPS:.*]] = arith.constant 9.99999974E-6 : f32
// CHECK: %[[VE:.*]] = arith.addf %[[v]], %[[EPS]]
// CHECK: %[[STD:.*]] = math.sqrt %[[VE]]
// CHECK: %[[SCALE:.*]] = arith.divf %[[g]], %[[STD]]
// CHECK: %[[MS:.*]] = arith.mulf %[[m]], %[[SCALE]]
// CHECK: %[[SHIFT:.*]] = arith.subf %[[b]], %[[MS]]
// CHECK: linalg.yield %[[SCALE]], %[[SHIFT]]
// CHECK: linalg.generic {indexing_maps = [#[[ID]], #[[CH]], #[[CH]], #[[ID]]]
// CHECK-SAME: ins(%[[X]], %[[SS]]#0, %[[SS]]#1 :
// CHECK: arith.mulf
// CHECK: arith.addf
func.func @batch_norm(%x: tensor<2x5x5x4xf32>, %g: tensor<4xf32>, %b: tensor<4xf32>,
                      %m: tensor<4xf32>, %v: tensor<4xf32>) -> tensor<2x5x5x4xf32> {
  %y = dlc.batch_norm %x, %g, %b, %m, %v {epsilon = 1.0e-5 : f32}
      : (tensor<2x5x5x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<2x5x5x4xf32>
  return %y : tensor<2x5x5x4xf32>
}

// -----

// Training: one pass over the input for the per-channel sum and sum of
// squares in f64, then per channel (count 2*5*5 = 50) the mean, the biased
// variance E[x^2] - E[x]^2 (clamped at 0), rounded to f32, scale, shift and
// the running statistics new = momentum * old + (1 - momentum) * batch, then
// one multiply-add per element.

// CHECK-DAG: #[[ID:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
// CHECK-DAG: #[[CH:.*]] = affine_map<(d0, d1, d2, d3) -> (d3)>
// CHECK-LABEL: func @batch_norm_train
// CHECK-SAME: (%[[X:.*]]: tensor<2x5x5x4xf32>, %[[G:.*]]: tensor<4xf32>, %[[B:.*]]: tensor<4xf32>, %[[RM:.*]]: tensor<4xf32>, %[[RV:.*]]: tensor<4xf32>)
// CHECK: %[[SUMS:.*]]:2 = linalg.generic {indexing_maps = [#[[ID]], #[[CH]], #[[CH]]], iterator_types = ["reduction", "reduction", "reduction", "parallel"]}
// CHECK-SAME: ins(%[[X]] : tensor<2x5x5x4xf32>) outs(%{{.*}}, %{{.*}} : tensor<4xf64>, tensor<4xf64>)
// CHECK: arith.extf
// CHECK: arith.mulf {{.*}} : f64
// CHECK: %[[PC:.*]]:6 = linalg.generic
// CHECK-SAME: ins(%[[SUMS]]#0, %[[SUMS]]#1, %[[G]], %[[B]], %[[RM]], %[[RV]] :
// CHECK: arith.constant 5.000000e+01 : f64
// CHECK: arith.maximumf {{.*}} : f64
// CHECK: arith.truncf
// CHECK: arith.constant 0.899999976 : f32
// CHECK: arith.constant 0.100000024 : f32
// CHECK: %[[Y:.*]] = linalg.generic {indexing_maps = [#[[ID]], #[[CH]], #[[CH]], #[[ID]]]
// CHECK-SAME: ins(%[[X]], %[[PC]]#2, %[[PC]]#3 :
// CHECK: arith.mulf
// CHECK: arith.addf
// CHECK-NOT: arith.maximumf
// CHECK: return %[[Y]], %[[PC]]#0, %[[PC]]#1, %[[PC]]#4, %[[PC]]#5
func.func @batch_norm_train(%x: tensor<2x5x5x4xf32>, %g: tensor<4xf32>, %b: tensor<4xf32>,
                            %m: tensor<4xf32>, %v: tensor<4xf32>)
    -> (tensor<2x5x5x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) {
  %y:5 = dlc.batch_norm_train %x, %g, %b, %m, %v {momentum = 0.9 : f32}
      : (tensor<2x5x5x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>)
     -> (tensor<2x5x5x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>)
  return %y#0, %y#1, %y#2, %y#3, %y#4
      : tensor<2x5x5x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>
}
