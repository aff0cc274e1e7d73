// RUN: dlc-opt %s -split-input-file -convert-dlc-to-linalg | FileCheck %s

// Max pooling backward: each window's argmax (first maximum in row-major
// order, padding -inf), then every input position gathers the gradients of
// the windows whose argmax it is. With `same` 3x3 windows and stride 2, a
// position lies in up to 2 x 2 windows: the gather reduces over a 2x2 space.

// CHECK-DAG: #[[WIN:.*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1 * 2 + d4, d2 * 2 + d5, d3)>
// CHECK-LABEL: func @max_pool_grad_same
// CHECK-SAME: (%[[DY:.*]]: tensor<2x4x4x3xf32>, %[[X:.*]]: tensor<2x7x7x3xf32>)
// CHECK: %[[NEGINF:.*]] = arith.constant 0xFF800000 : f32
// CHECK: %[[PADDED:.*]] = tensor.pad %[[X]] low[0, 1, 1, 0] high[0, 1, 1, 0]
// CHECK: tensor.yield %[[NEGINF]]
// CHECK: %[[ARG:.*]]:2 = linalg.generic {indexing_maps = [#[[WIN]], {{.*}}], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]}
// CHECK-SAME: ins(%[[PADDED]], %{{.*}} : tensor<2x9x9x3xf32>, tensor<3x3xf32>)
// CHECK-SAME: outs(%{{.*}}, %{{.*}} : tensor<2x4x4x3xf32>, tensor<2x4x4x3xi32>)
// The first maximum wins: strictly greater, or equal at a smaller offset.
// CHECK: arith.cmpf ogt
// CHECK: arith.cmpf oeq
// CHECK: arith.cmpi slt
// CHECK: %[[STEPS:.*]] = tensor.empty() : tensor<2x2xf32>
// CHECK: linalg.generic
// CHECK-SAME: iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]
// CHECK-SAME: ins(%[[STEPS]] : tensor<2x2xf32>) outs(%{{.*}} : tensor<2x7x7x3xf32>)
// CHECK: %[[WINNER:.*]] = tensor.extract %[[ARG]]#1
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
