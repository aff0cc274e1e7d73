// RUN: dlc-opt %s -split-input-file -convert-dlc-to-linalg | FileCheck %s

// Max pooling: linalg.pooling_nhwc_max over a window shape tensor, from -inf.

// CHECK-LABEL: func @max_pool_valid
// CHECK-SAME: (%[[X:.*]]: tensor<2x24x24x8xf32>)
// CHECK-NOT: tensor.pad
// CHECK: %[[NEGINF:.*]] = arith.constant 0xFF800000 : f32
// CHECK: %[[INIT:.*]] = linalg.fill ins(%[[NEGINF]] : f32) outs(%{{.*}} : tensor<2x12x12x8xf32>)
// CHECK: %[[WINDOW:.*]] = tensor.empty() : tensor<2x2xf32>
// CHECK: linalg.pooling_nhwc_max
// CHECK-SAME: dilations = dense<1>
// CHECK-SAME: strides = dense<2>
// CHECK-SAME: ins(%[[X]], %[[WINDOW]] : tensor<2x24x24x8xf32>, tensor<2x2xf32>)
// CHECK-SAME: outs(%[[INIT]] : tensor<2x12x12x8xf32>)
func.func @max_pool_valid(%x: tensor<2x24x24x8xf32>) -> tensor<2x12x12x8xf32> {
  %y = dlc.max_pool2d %x {pool_size = array<i64: 2, 2>, strides = array<i64: 2, 2>}
      : (tensor<2x24x24x8xf32>) -> tensor<2x12x12x8xf32>
  return %y : tensor<2x12x12x8xf32>
}

// -----

// `same` max pooling pads with -inf, so padding never wins.

// CHECK-LABEL: func @max_pool_same
// CHECK: %[[NEGINF:.*]] = arith.constant 0xFF800000 : f32
// CHECK: tensor.pad %{{.*}} low[0, 1, 1, 0] high[0, 1, 1, 0]
// CHECK: tensor.yield %[[NEGINF]] : f32
// CHECK: linalg.pooling_nhwc_max
// CHECK-SAME: tensor<1x9x9x3xf32>, tensor<3x3xf32>
func.func @max_pool_same(%x: tensor<1x7x7x3xf32>) -> tensor<1x4x4x3xf32> {
  %y = dlc.max_pool2d %x {padding = #dlc.padding<same>, pool_size = array<i64: 3, 3>, strides = array<i64: 2, 2>}
      : (tensor<1x7x7x3xf32>) -> tensor<1x4x4x3xf32>
  return %y : tensor<1x4x4x3xf32>
}

// -----

// Explicit, asymmetric pads: the given amounts, still -inf.

// CHECK-LABEL: func @max_pool_explicit
// CHECK: %[[NEGINF:.*]] = arith.constant 0xFF800000 : f32
// CHECK: tensor.pad %{{.*}} low[0, 1, 0, 0] high[0, 0, 2, 0]
// CHECK: tensor.yield %[[NEGINF]] : f32
// CHECK: linalg.pooling_nhwc_max
// CHECK-SAME: tensor<1x8x9x3xf32>, tensor<3x3xf32>
func.func @max_pool_explicit(%x: tensor<1x7x7x3xf32>) -> tensor<1x3x4x3xf32> {
  %y = dlc.max_pool2d %x {padding = #dlc.padding<explicit>, pads = array<i64: 1, 0, 0, 2>, pool_size = array<i64: 3, 3>, strides = array<i64: 2, 2>}
      : (tensor<1x7x7x3xf32>) -> tensor<1x3x4x3xf32>
  return %y : tensor<1x3x4x3xf32>
}

// -----

// `valid` average pooling: a sum pool, then every window divides by KH * KW.

// CHECK-LABEL: func @avg_pool_valid
// CHECK: %[[SUM:.*]] = linalg.pooling_nhwc_sum
// CHECK-SAME: strides = dense<[1, 2]>
// CHECK-SAME: tensor<3x2xf32>
// CHECK: linalg.generic
// CHECK-SAME: ins(%[[SUM]] : tensor<2x3x4x5xf32>)
// CHECK-NOT: linalg.index
// CHECK: %[[COUNT:.*]] = arith.constant 6.000000e+00 : f32
// CHECK: arith.divf %{{.*}}, %[[COUNT]] : f32
func.func @avg_pool_valid(%x: tensor<2x5x8x5xf32>) -> tensor<2x3x4x5xf32> {
  %y = dlc.avg_pool2d %x {pool_size = array<i64: 3, 2>, strides = array<i64: 1, 2>}
      : (tensor<2x5x8x5xf32>) -> tensor<2x3x4x5xf32>
  return %y : tensor<2x3x4x5xf32>
}

// -----

// `same` average pooling (Keras) divides each window by its valid positions:
// for output row oh the rows [2 * oh - 1, 2 * oh + 2) clipped to [0, 7).

// CHECK-LABEL: func @avg_pool_same
// CHECK: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK: tensor.pad %{{.*}} low[0, 1, 1, 0] high[0, 1, 1, 0]
// CHECK: tensor.yield %[[ZERO]] : f32
// CHECK: %[[SUM:.*]] = linalg.pooling_nhwc_sum
// CHECK: linalg.generic
// CHECK-SAME: ins(%[[SUM]] : tensor<1x4x4x3xf32>)
// CHECK: %[[OH:.*]] = linalg.index 1 : index
// CHECK: %[[OW:.*]] = linalg.index 2 : index
// CHECK: %[[S:.*]] = arith.muli %[[OH]], %{{.*}} : index
// CHECK: %[[START:.*]] = arith.subi %[[S]], %{{.*}} : index
// CHECK: %[[E:.*]] = arith.addi %[[START]], %{{.*}} : index
// CHECK: %[[END:.*]] = arith.minsi %[[E]], %{{.*}} : index
// CHECK: %[[CLIPPED:.*]] = arith.maxsi %[[START]], %{{.*}} : index
// CHECK: %[[ROWS:.*]] = arith.subi %[[END]], %[[CLIPPED]] : index
// CHECK: %[[N:.*]] = arith.muli %[[ROWS]], %{{.*}} : index
// CHECK: %[[N64:.*]] = arith.index_cast %[[N]] : index to i64
// CHECK: %[[NF:.*]] = arith.sitofp %[[N64]] : i64 to f32
// CHECK: arith.divf %{{.*}}, %[[NF]] : f32
func.func @avg_pool_same(%x: tensor<1x7x7x3xf32>) -> tensor<1x4x4x3xf32> {
  %y = dlc.avg_pool2d %x {padding = #dlc.padding<same>, pool_size = array<i64: 3, 3>, strides = array<i64: 2, 2>}
      : (tensor<1x7x7x3xf32>) -> tensor<1x4x4x3xf32>
  return %y : tensor<1x4x4x3xf32>
}

// -----

// CHECK-DAG: #[[IN:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
// CHECK-DAG: #[[NC:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d3)>
// CHECK-LABEL: func @global_avg_pool
// CHECK: %[[SUM:.*]] = linalg.generic {indexing_maps = [#[[IN]], #[[NC]]], iterator_types = ["parallel", "reduction", "reduction", "parallel"]}
// CHECK: arith.addf
// CHECK: linalg.generic
// CHECK-SAME: ins(%[[SUM]] : tensor<2x3xf32>)
// CHECK: %[[HW:.*]] = arith.constant 3.500000e+01 : f32
// CHECK: arith.divf %{{.*}}, %[[HW]]
func.func @global_avg_pool(%x: tensor<2x5x7x3xf32>) -> tensor<2x3xf32> {
  %y = dlc.global_avg_pool %x : (tensor<2x5x7x3xf32>) -> tensor<2x3xf32>
  return %y : tensor<2x3xf32>
}
