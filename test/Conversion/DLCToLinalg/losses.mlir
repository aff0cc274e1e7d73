// RUN: dlc-opt %s -split-input-file -convert-dlc-to-linalg | FileCheck %s

// Cross-entropy from logits: row max, then one pass for the sum of
// exp(x - max) that also picks x[n, label[n]] (the label clamped to
// [0, K)), then per row log(sum) + max - picked, and the batch mean in a
// 0-D tensor.

// CHECK-DAG: #[[NK:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[N:.*]] = affine_map<(d0, d1) -> (d0)>
// CHECK-DAG: #[[ALL:.*]] = affine_map<(d0) -> ()>
// CHECK-LABEL: func @softmax_cross_entropy
// CHECK-SAME: (%[[L:.*]]: tensor<4x10xf32>, %[[Y:.*]]: tensor<4xi32>)
// CHECK: %[[MAX:.*]] = linalg.generic {indexing_maps = [#[[NK]], #[[N]]], iterator_types = ["parallel", "reduction"]}
// CHECK: arith.maximumf
// CHECK: %[[SUM:.*]]:2 = linalg.generic {indexing_maps = [#[[NK]], #[[N]], #[[N]], #[[N]], #[[N]]], iterator_types = ["parallel", "reduction"]}
// CHECK-SAME: ins(%[[L]], %[[MAX]], %[[Y]] :
// CHECK: ^bb0(%[[X:.*]]: f32, %{{.*}}: f32, %[[LABEL:.*]]: i32, %{{.*}}: f32, %[[ACC:.*]]: f32):
// CHECK: math.exp
// CHECK: %[[LO:.*]] = arith.maxsi %[[LABEL]], %{{.*}} : i32
// CHECK: %[[HI:.*]] = arith.minsi %[[LO]], %{{.*}} : i32
// CHECK: %[[I:.*]] = linalg.index 1 : index
// CHECK: %[[K:.*]] = arith.index_cast %[[I]] : index to i32
// CHECK: %[[HIT:.*]] = arith.cmpi eq, %[[K]], %[[HI]] : i32
// CHECK: arith.select %[[HIT]], %[[X]], %[[ACC]] : f32
// CHECK: %[[ROW:.*]] = linalg.generic
// CHECK-SAME: ins(%[[MAX]], %[[SUM]]#0, %[[SUM]]#1 : tensor<4xf32>, tensor<4xf32>, tensor<4xf32>)
// CHECK: ^bb0(%[[M:.*]]: f32, %[[S:.*]]: f32, %[[PICK:.*]]: f32, %{{.*}}: f32):
// CHECK: %[[LOG:.*]] = math.log %[[S]]
// CHECK: %[[LSE:.*]] = arith.addf %[[LOG]], %[[M]]
// CHECK: arith.subf %[[LSE]], %[[PICK]]
// CHECK: %[[TOTAL:.*]] = linalg.generic {indexing_maps = [#{{.*}}, #[[ALL]]], iterator_types = ["reduction"]}
// CHECK-SAME: ins(%[[ROW]] : tensor<4xf32>) outs(%{{.*}} : tensor<f32>)
// CHECK: %[[MEAN:.*]] = linalg.generic {{.*}} iterator_types = []} ins(%[[TOTAL]] : tensor<f32>)
// CHECK: arith.constant 4.000000e+00 : f32
// CHECK: return %[[MEAN]] : tensor<f32>
func.func @softmax_cross_entropy(%l: tensor<4x10xf32>, %y: tensor<4xi32>) -> tensor<f32> {
  %0 = dlc.softmax_cross_entropy %l, %y : (tensor<4x10xf32>, tensor<4xi32>) -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

// MSE: one reduction over every element into a 0-D tensor, then / 12.

// CHECK-DAG: #[[ID:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[ALL:.*]] = affine_map<(d0, d1) -> ()>
// CHECK-LABEL: func @mse
// CHECK: linalg.generic {indexing_maps = [#[[ID]], #[[ID]], #[[ALL]]], iterator_types = ["reduction", "reduction"]}
// CHECK: %[[D:.*]] = arith.subf
// CHECK: %[[D2:.*]] = arith.mulf %[[D]], %[[D]]
// CHECK: arith.addf %{{.*}}, %[[D2]]
// CHECK: arith.constant 1.200000e+01 : f32
func.func @mse(%p: tensor<4x3xf32>, %t: tensor<4x3xf32>) -> tensor<f32> {
  %0 = dlc.mse %p, %t : (tensor<4x3xf32>, tensor<4x3xf32>) -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

// Binary cross-entropy from logits: max(x, 0) - x * t + log1p(exp(-|x|)).

// CHECK-LABEL: func @bce_from_logits
// CHECK: arith.maximumf
// CHECK: arith.mulf
// CHECK: math.absf
// CHECK: arith.negf
// CHECK: math.exp
// CHECK: math.log1p
func.func @bce_from_logits(%p: tensor<8x1xf32>, %t: tensor<8x1xf32>) -> tensor<f32> {
  %0 = dlc.binary_cross_entropy %p, %t {from_logits} : (tensor<8x1xf32>, tensor<8x1xf32>) -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

// From probabilities: clipped to [1e-7, 1 - 1e-7] as Keras does.

// CHECK-LABEL: func @bce_from_probabilities
// CHECK: %[[EPS:.*]] = arith.constant 1.000000e-07 : f32
// CHECK: %[[ONE:.*]] = arith.constant 1.000000e+00 : f32
// CHECK: %[[LO:.*]] = arith.maximumf %{{.*}}, %[[EPS]]
// CHECK: %[[HIGH:.*]] = arith.subf %[[ONE]], %[[EPS]]
// CHECK: %[[P:.*]] = arith.minimumf %[[LO]], %[[HIGH]]
// CHECK: math.log %[[P]]
// CHECK-NOT: math.log1p
func.func @bce_from_probabilities(%p: tensor<5x4xf32>, %t: tensor<5x4xf32>) -> tensor<f32> {
  %0 = dlc.binary_cross_entropy %p, %t : (tensor<5x4xf32>, tensor<5x4xf32>) -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

// Accuracy: an argmax that moves only on a strict increase (first maximum
// wins), then an i32 count of matches.

// CHECK-LABEL: func @accuracy
// CHECK-SAME: (%[[L:.*]]: tensor<4x10xf32>, %[[Y:.*]]: tensor<4xi32>)
// CHECK: %[[ARG:.*]]:2 = linalg.generic
// CHECK-SAME: iterator_types = ["parallel", "reduction"]
// CHECK-SAME: ins(%[[L]] : tensor<4x10xf32>) outs(%{{.*}}, %{{.*}} : tensor<4xf32>, tensor<4xi32>)
// CHECK: ^bb0(%[[X:.*]]: f32, %[[BEST:.*]]: f32, %[[IDX:.*]]: i32):
// CHECK: %[[K:.*]] = linalg.index 1 : index
// CHECK: %[[K32:.*]] = arith.index_cast %[[K]] : index to i32
// CHECK: %[[GT:.*]] = arith.cmpf ogt, %[[X]], %[[BEST]] : f32
// CHECK: %[[NB:.*]] = arith.select %[[GT]], %[[X]], %[[BEST]] : f32
// CHECK: %[[NI:.*]] = arith.select %[[GT]], %[[K32]], %[[IDX]] : i32
// CHECK: linalg.yield %[[NB]], %[[NI]]
// CHECK: %[[HIT:.*]] = linalg.generic
// CHECK-SAME: ins(%[[ARG]]#1, %[[Y]] : tensor<4xi32>, tensor<4xi32>)
// CHECK: arith.cmpi eq
// CHECK: arith.extui %{{.*}} : i1 to i32
// CHECK: %[[COUNT:.*]] = linalg.generic
// CHECK-SAME: ins(%[[HIT]] : tensor<4xi32>) outs(%{{.*}} : tensor<i32>)
// CHECK: arith.addi
// CHECK: return %[[COUNT]] : tensor<i32>
func.func @accuracy(%l: tensor<4x10xf32>, %y: tensor<4xi32>) -> tensor<i32> {
  %0 = dlc.accuracy %l, %y : (tensor<4x10xf32>, tensor<4xi32>) -> tensor<i32>
  return %0 : tensor<i32>
}
