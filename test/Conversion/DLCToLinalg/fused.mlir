// RUN: dlc-opt %s -split-input-file -convert-dlc-to-linalg | FileCheck %s

// conv2d_bn_stats: the convolution, then ONE reduction over its output that
// yields both sums, in f64.

// CHECK-DAG: #[[ID:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
// CHECK-DAG: #[[CH:.*]] = affine_map<(d0, d1, d2, d3) -> (d3)>
// CHECK-LABEL: func @conv2d_bn_stats
// CHECK: %[[CONV:.*]] = linalg.conv_2d_nhwc_hwcf
// CHECK: %[[SUMS:.*]]:2 = linalg.generic {indexing_maps = [#[[ID]], #[[CH]], #[[CH]]], iterator_types = ["reduction", "reduction", "reduction", "parallel"]}
// CHECK-SAME: ins(%[[CONV]] : tensor<2x4x4x4xf32>) outs(%{{.*}}, %{{.*}} : tensor<4xf64>, tensor<4xf64>)
// CHECK: arith.extf
// CHECK: return %[[CONV]], %[[SUMS]]#0, %[[SUMS]]#1
func.func @conv2d_bn_stats(%x: tensor<2x6x6x1xf32>, %k: tensor<3x3x1x4xf32>) -> (tensor<2x4x4x4xf32>, tensor<4xf64>, tensor<4xf64>) {
  %c:3 = dlc.conv2d_bn_stats %x, %k : (tensor<2x6x6x1xf32>, tensor<3x3x1x4xf32>) -> (tensor<2x4x4x4xf32>, tensor<4xf64>, tensor<4xf64>)
  return %c#0, %c#1, %c#2 : tensor<2x4x4x4xf32>, tensor<4xf64>, tensor<4xf64>
}

// -----

// batch_norm_train_apply {relu}: per-channel statistics (count 2*4*4 = 32),
// then a single elementwise pass: multiply-add and the relu.

// CHECK-LABEL: func @batch_norm_train_apply
// CHECK: %[[PC:.*]]:6 = linalg.generic
// CHECK: arith.constant 3.200000e+01 : f64
// CHECK: math.sqrt
// CHECK: linalg.generic
// CHECK-SAME: ins(%{{.*}}, %[[PC]]#2, %[[PC]]#3 :
// CHECK: arith.mulf
// CHECK: arith.addf
// CHECK: arith.maximumf
// CHECK-NOT: linalg.generic
// CHECK: return
func.func @batch_norm_train_apply(%x: tensor<2x4x4x4xf32>, %s: tensor<4xf64>, %v: tensor<4xf32>) -> (tensor<2x4x4x4xf32>, tensor<4xf32>) {
  %y:5 = dlc.batch_norm_train_apply %x, %s, %s, %v, %v, %v, %v {relu}
      : (tensor<2x4x4x4xf32>, tensor<4xf64>, tensor<4xf64>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>)
      -> (tensor<2x4x4x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>)
  return %y#0, %y#3 : tensor<2x4x4x4xf32>, tensor<4xf32>
}

// -----

// batch_norm_relu_grad: one reduction pass for both sums (accumulated in
// f64, then rounded to f32 per channel), one elementwise pass for the input
// gradient; the mask is recomputed in each, never stored.

// CHECK-LABEL: func @batch_norm_relu_grad
// CHECK-SAME: (%[[DY:[^:]+]]: {{[^,]*}}, %[[Y:[^:]+]]: {{[^,]*}}, %[[X:[^:]+]]: {{[^,]*}},
// CHECK: %[[SUMS:.*]]:2 = linalg.generic {{.*}} iterator_types = ["reduction", "reduction", "reduction", "parallel"]}
// CHECK-SAME: ins(%[[DY]], %[[Y]], %[[X]],
// CHECK-SAME: tensor<4xf64>, tensor<4xf64>)
// CHECK: arith.cmpf ogt
// CHECK: arith.extf {{.*}} : f32 to f64
// CHECK: %[[T:.*]]:5 = linalg.generic {{.*}} ins(%{{.*}}, %{{.*}}, %[[SUMS]]#0, %[[SUMS]]#1 :
// CHECK: arith.truncf {{.*}} : f64 to f32
// CHECK: %[[DX:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
// CHECK-SAME: ins(%[[DY]], %[[Y]], %[[X]], {{.*}}, %[[T]]#2, %[[T]]#3, %[[T]]#4 :
// CHECK: arith.cmpf ogt
// CHECK: return %[[DX]], %[[T]]#0, %[[T]]#1
func.func @batch_norm_relu_grad(%dy: tensor<2x4x4x4xf32>, %y: tensor<2x4x4x4xf32>, %x: tensor<2x4x4x4xf32>, %v: tensor<4xf32>)
    -> (tensor<2x4x4x4xf32>, tensor<4xf32>, tensor<4xf32>) {
  %d:3 = dlc.batch_norm_relu_grad %dy, %y, %x, %v, %v, %v
      : (tensor<2x4x4x4xf32>, tensor<2x4x4x4xf32>, tensor<2x4x4x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>)
      -> (tensor<2x4x4x4xf32>, tensor<4xf32>, tensor<4xf32>)
  return %d#0, %d#1, %d#2 : tensor<2x4x4x4xf32>, tensor<4xf32>, tensor<4xf32>
}

// -----

// fold_batch_norm_params: per-channel scale and bias, then the filter
// scaled along its last (output channel) dimension.

// CHECK-DAG: #[[F:.*]] = affine_map<(d0, d1, d2, d3) -> (d3)>
// CHECK-LABEL: func @fold_batch_norm_params
// CHECK-SAME: (%[[W:[^:]+]]: tensor<3x3x1x4xf32>
// CHECK: %[[P:.*]]:2 = linalg.generic
// CHECK: math.sqrt
// CHECK: %[[NW:.*]] = linalg.generic {indexing_maps = [#{{.*}}, #[[F]], #{{.*}}]
// CHECK-SAME: ins(%[[W]], %[[P]]#0 :
// CHECK: return %[[NW]], %[[P]]#1
func.func @fold_batch_norm_params(%w: tensor<3x3x1x4xf32>, %v: tensor<4xf32>) -> (tensor<3x3x1x4xf32>, tensor<4xf32>) {
  %p:2 = dlc.fold_batch_norm_params %w, %v, %v, %v, %v
      : (tensor<3x3x1x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> (tensor<3x3x1x4xf32>, tensor<4xf32>)
  return %p#0, %p#1 : tensor<3x3x1x4xf32>, tensor<4xf32>
}

// -----

// softmax_cross_entropy_with_grad: three passes over the [N, K] logits (row
// max; sum of exp(x - max) with the label logit picked, the label clamped
// to [0, K); the gradient), the loss from the per-row values.

// CHECK-DAG: #[[NK:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[N:.*]] = affine_map<(d0, d1) -> (d0)>
// CHECK-DAG: #[[S:.*]] = affine_map<(d0, d1) -> ()>
// CHECK-LABEL: func @softmax_cross_entropy_with_grad
// CHECK-SAME: (%[[L:.*]]: tensor<4x10xf32>, %[[Y:.*]]: tensor<4xi32>, %[[G:.*]]: tensor<f32>)
// CHECK: %[[MAX:.*]] = linalg.generic {indexing_maps = [#[[NK]], #[[N]]], iterator_types = ["parallel", "reduction"]}
// CHECK-SAME: ins(%[[L]] :
// CHECK: arith.maximumf
// CHECK: %[[ROWS:.*]]:2 = linalg.generic {indexing_maps = [#[[NK]], #[[N]], #[[N]], #[[N]], #[[N]]], iterator_types = ["parallel", "reduction"]}
// CHECK-SAME: ins(%[[L]], %[[MAX]], %[[Y]] :
// CHECK: ^bb0(%[[X:.*]]: f32, %{{.*}}: f32, %[[LABEL:.*]]: i32, %[[SUM:.*]]: f32, %[[PICK:.*]]: f32):
// CHECK: math.exp
// CHECK: %[[LO:.*]] = arith.maxsi %[[LABEL]]
// CHECK: %[[HI:.*]] = arith.minsi %[[LO]]
// CHECK: %[[K:.*]] = arith.index_cast {{.*}} : index to i32
// CHECK: %[[HIT:.*]] = arith.cmpi eq, %[[K]], %[[HI]]
// CHECK: arith.addf %[[SUM]]
// CHECK: arith.select %[[HIT]], %[[X]], %[[PICK]]
// CHECK: %[[ROW:.*]] = linalg.generic
// CHECK-SAME: ins(%[[MAX]], %[[ROWS]]#0, %[[ROWS]]#1 :
// CHECK: math.log
// CHECK: %[[TOTAL:.*]] = linalg.generic {{.*}} iterator_types = ["reduction"]} ins(%[[ROW]] :
// CHECK: %[[LOSS:.*]] = linalg.generic {{.*}} ins(%[[TOTAL]] : tensor<f32>)
// CHECK: %[[SCALE:.*]] = linalg.generic {{.*}} ins(%[[G]] : tensor<f32>)
// CHECK: %[[DL:.*]] = linalg.generic {indexing_maps = [#[[NK]], #[[N]], #[[N]], #[[N]], #[[S]], #[[NK]]], iterator_types = ["parallel", "parallel"]}
// CHECK-SAME: ins(%[[L]], %[[MAX]], %[[ROWS]]#0, %[[Y]], %[[SCALE]] :
// CHECK: arith.divf
// CHECK: arith.cmpi eq
// CHECK-NOT: linalg.generic
// CHECK: return %[[LOSS]], %[[DL]]
func.func @softmax_cross_entropy_with_grad(%l: tensor<4x10xf32>, %y: tensor<4xi32>, %g: tensor<f32>)
    -> (tensor<f32>, tensor<4x10xf32>) {
  %0:2 = dlc.softmax_cross_entropy_with_grad %l, %y, %g
      : (tensor<4x10xf32>, tensor<4xi32>, tensor<f32>) -> (tensor<f32>, tensor<4x10xf32>)
  return %0#0, %0#1 : tensor<f32>, tensor<4x10xf32>
}
