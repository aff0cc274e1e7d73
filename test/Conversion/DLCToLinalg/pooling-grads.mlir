// RUN: dlc-opt %s -split-input-file -convert-dlc-to-linalg | FileCheck %s

// Max pooling backward: each window's argmax (first maximum in row-major
// order, padding -inf), then every input position gathers the gradients of
// the windows whose argmax it is. With `same` 3x3 windows and stride 2, a
// position lies in up to 2 x 2 windows: the gather reduces over a 2x2 space.
// A window of 9 positions is unrolled: one elementwise generic over
// (n, oh, ow, c) reads the 9 strided views of the input at the window
// offsets, and "strictly greater than the running maximum", in row-major
// order, keeps the first maximum.

// CHECK-DAG: #[[ID:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
// CHECK-LABEL: func @max_pool_grad_same
// CHECK-SAME: (%[[DY:.*]]: tensor<2x4x4x3xf32>, %[[X:.*]]: tensor<2x7x7x3xf32>)
// CHECK: %[[NEGINF:.*]] = arith.constant 0xFF800000 : f32
// CHECK: %[[PADDED:.*]] = tensor.pad %[[X]] low[0, 1, 1, 0] high[0, 1, 1, 0]
// CHECK: tensor.yield %[[NEGINF]]
// CHECK: %[[V00:.*]] = tensor.extract_slice %[[PADDED]][0, 0, 0, 0] [2, 4, 4, 3] [1, 2, 2, 1] : tensor<2x9x9x3xf32> to tensor<2x4x4x3xf32>
// CHECK: %[[V01:.*]] = tensor.extract_slice %[[PADDED]][0, 0, 1, 0] [2, 4, 4, 3] [1, 2, 2, 1]
// CHECK-COUNT-6: tensor.extract_slice %[[PADDED]]
// CHECK: %[[V22:.*]] = tensor.extract_slice %[[PADDED]][0, 2, 2, 0] [2, 4, 4, 3] [1, 2, 2, 1]
// CHECK: %[[ARG:.*]] = linalg.generic {indexing_maps = [#[[ID]], #[[ID]], #[[ID]], #[[ID]], #[[ID]], #[[ID]], #[[ID]], #[[ID]], #[[ID]], #[[ID]]], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
// CHECK-SAME: ins(%[[V00]], %[[V01]], {{.*}}, %[[V22]] : tensor<2x4x4x3xf32>, {{.*}}) outs(%{{.*}} : tensor<2x4x4x3xi32>)
// CHECK: ^bb0(%[[IN0:[^:]*]]: f32, %[[IN1:[^:]*]]: f32,
// CHECK-NOT: linalg.index
// CHECK: %[[T0:.*]] = arith.cmpf ogt, %[[IN0]], %[[NEGINF0:.*]] : f32
// CHECK: %[[M0:.*]] = arith.select %[[T0]], %[[IN0]], %[[NEGINF0]] : f32
// CHECK: %[[T1:.*]] = arith.cmpf ogt, %[[IN1]], %[[M0]] : f32
// CHECK: %[[ONE:.*]] = arith.constant 1 : i32
// CHECK: arith.select %[[T1]], %[[ONE]], %{{.*}} : i32
// CHECK-COUNT-7: arith.cmpf ogt
// CHECK-NOT: arith.cmpf
// CHECK: linalg.yield %{{.*}} : i32
// CHECK: %[[STEPS:.*]] = tensor.empty() : tensor<2x2xf32>
// CHECK: linalg.generic
// CHECK-SAME: iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]
// CHECK-SAME: ins(%[[STEPS]] : tensor<2x2xf32>) outs(%{{.*}} : tensor<2x7x7x3xf32>)
// CHECK: %[[WINNER:.*]] = tensor.extract %[[ARG]]
// CHECK: arith.cmpi eq, %{{.*}}, %[[WINNER]] : i32
// CHECK: tensor.extract %[[DY]]
func.func @max_pool_grad_same(%dy: tensor<2x4x4x3xf32>, %x: tensor<2x7x7x3xf32>) -> tensor<2x7x7x3xf32> {
  %0 = dlc.max_pool2d_grad %dy, %x {padding = #dlc.padding<same>, pool_size = array<i64: 3, 3>, strides = array<i64: 2, 2>}
      : (tensor<2x4x4x3xf32>, tensor<2x7x7x3xf32>) -> tensor<2x7x7x3xf32>
  return %0 : tensor<2x7x7x3xf32>
}

// -----

// Non-overlapping windows (2x2, stride 2): one window per position, so the
// gather's reduction has a single step.

// CHECK-LABEL: func @max_pool_grad_2x2
// CHECK-NOT: tensor.pad
// CHECK: tensor.empty() : tensor<1x1xf32>
// CHECK: linalg.generic
// CHECK-SAME: outs(%{{.*}} : tensor<2x24x24x8xf32>)
func.func @max_pool_grad_2x2(%dy: tensor<2x12x12x8xf32>, %x: tensor<2x24x24x8xf32>) -> tensor<2x24x24x8xf32> {
  %0 = dlc.max_pool2d_grad %dy, %x {pool_size = array<i64: 2, 2>, strides = array<i64: 2, 2>}
      : (tensor<2x12x12x8xf32>, tensor<2x24x24x8xf32>) -> tensor<2x24x24x8xf32>
  return %0 : tensor<2x24x24x8xf32>
}

// -----

// Stride 1 (3x2 windows): the views overlap; each is [N, OH, OW, C].

// CHECK-LABEL: func @max_pool_grad_s1
// CHECK: tensor.extract_slice %{{.*}}[0, 0, 0, 0] [1, 3, 5, 2] [1, 1, 1, 1] : tensor<1x5x6x2xf32> to tensor<1x3x5x2xf32>
// CHECK-COUNT-4: tensor.extract_slice
// CHECK: tensor.extract_slice %{{.*}}[0, 2, 1, 0] [1, 3, 5, 2] [1, 1, 1, 1]
// CHECK: linalg.generic
// CHECK-SAME: outs(%{{.*}} : tensor<1x3x5x2xi32>)
// CHECK-COUNT-6: arith.cmpf ogt
func.func @max_pool_grad_s1(%dy: tensor<1x3x5x2xf32>, %x: tensor<1x5x6x2xf32>) -> tensor<1x5x6x2xf32> {
  %0 = dlc.max_pool2d_grad %dy, %x {pool_size = array<i64: 3, 2>, strides = array<i64: 1, 1>}
      : (tensor<1x3x5x2xf32>, tensor<1x5x6x2xf32>) -> tensor<1x5x6x2xf32>
  return %0 : tensor<1x5x6x2xf32>
}

// -----

// A window of more than 16 positions (5x5) keeps the window as reduction
// loops: (max, offset) accumulated, the first maximum winning on equal
// values whatever the visiting order.

// CHECK-DAG: #[[WIN:.*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1 * 5 + d4, d2 * 5 + d5, d3)>
// CHECK-LABEL: func @max_pool_grad_5x5
// CHECK: %[[ARG:.*]]:2 = linalg.generic {indexing_maps = [#[[WIN]], {{.*}}], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]}
// CHECK-SAME: ins(%{{.*}}, %{{.*}} : tensor<1x10x10x4xf32>, tensor<5x5xf32>)
// CHECK-SAME: outs(%{{.*}}, %{{.*}} : tensor<1x2x2x4xf32>, tensor<1x2x2x4xi32>)
// CHECK: arith.cmpf ogt
// CHECK: arith.cmpf oeq
// CHECK: arith.cmpi slt
// CHECK: linalg.generic
// CHECK: tensor.extract %[[ARG]]#1
func.func @max_pool_grad_5x5(%dy: tensor<1x2x2x4xf32>, %x: tensor<1x10x10x4xf32>) -> tensor<1x10x10x4xf32> {
  %0 = dlc.max_pool2d_grad %dy, %x {pool_size = array<i64: 5, 5>, strides = array<i64: 5, 5>}
      : (tensor<1x2x2x4xf32>, tensor<1x10x10x4xf32>) -> tensor<1x10x10x4xf32>
  return %0 : tensor<1x10x10x4xf32>
}

// -----

// Average pooling backward, `valid`: dy / (KH * KW), then the gather.

// CHECK-LABEL: func @avg_pool_grad_valid
// CHECK-SAME: (%[[DY:.*]]: tensor<2x3x4x5xf32>)
// CHECK: %[[SCALED:.*]] = linalg.generic
// CHECK-SAME: ins(%[[DY]] : tensor<2x3x4x5xf32>)
// CHECK-NOT: linalg.index
// CHECK: arith.constant 6.000000e+00 : f32
// CHECK: linalg.generic
// CHECK-SAME: ins(%{{.*}} : tensor<3x1xf32>) outs(%{{.*}} : tensor<2x5x8x5xf32>)
// CHECK: tensor.extract %[[SCALED]]
func.func @avg_pool_grad_valid(%dy: tensor<2x3x4x5xf32>) -> tensor<2x5x8x5xf32> {
  %0 = dlc.avg_pool2d_grad %dy {input_shape = array<i64: 2, 5, 8, 5>, pool_size = array<i64: 3, 2>, strides = array<i64: 1, 2>}
      : (tensor<2x3x4x5xf32>) -> tensor<2x5x8x5xf32>
  return %0 : tensor<2x5x8x5xf32>
}

// -----

// `same` average pooling divides each window by its valid positions, as the
// forward op does (from linalg.index).

// CHECK-LABEL: func @avg_pool_grad_same
// CHECK: linalg.generic
// CHECK: linalg.index 1
// CHECK: linalg.index 2
// CHECK: arith.sitofp
// CHECK: arith.divf
func.func @avg_pool_grad_same(%dy: tensor<1x4x4x2xf32>) -> tensor<1x7x7x2xf32> {
  %0 = dlc.avg_pool2d_grad %dy {input_shape = array<i64: 1, 7, 7, 2>, padding = #dlc.padding<same>, pool_size = array<i64: 3, 3>, strides = array<i64: 2, 2>}
      : (tensor<1x4x4x2xf32>) -> tensor<1x7x7x2xf32>
  return %0 : tensor<1x7x7x2xf32>
}

// -----

// Global average pooling backward: dy / (H * W) broadcast over (h, w).

// CHECK-DAG: #[[NC:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d3)>
// CHECK-LABEL: func @global_avg_pool_grad
// CHECK: linalg.generic {indexing_maps = [#[[NC]], {{.*}}], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
// CHECK: arith.constant 4.900000e+01 : f32
func.func @global_avg_pool_grad(%dy: tensor<2x3xf32>) -> tensor<2x7x7x3xf32> {
  %0 = dlc.global_avg_pool_grad %dy {input_shape = array<i64: 2, 7, 7, 3>} : (tensor<2x3xf32>) -> tensor<2x7x7x3xf32>
  return %0 : tensor<2x7x7x3xf32>
}
