// RUN: dlc-opt %s -split-input-file -convert-dlc-to-linalg | FileCheck %s

// Activations are all-parallel generics with identity maps, so that the
// upstream elementwise fusion can chain them.

// CHECK: #[[ID:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-LABEL: func @relu
// CHECK-SAME: (%[[X:.*]]: tensor<4x10xf32>)
// CHECK: linalg.generic {indexing_maps = [#[[ID]], #[[ID]]], iterator_types = ["parallel", "parallel"]}
// CHECK-SAME: ins(%[[X]] : tensor<4x10xf32>)
// CHECK: ^bb0(%[[IN:.*]]: f32, %{{.*}}: f32):
// CHECK: %[[R:.*]] = arith.maximumf %[[IN]], %{{.*}} : f32
// CHECK: linalg.yield %[[R]]
func.func @relu(%x: tensor<4x10xf32>) -> tensor<4x10xf32> {
  %y = dlc.relu %x : tensor<4x10xf32>
  return %y : tensor<4x10xf32>
}

// -----

// CHECK-LABEL: func @leaky_relu
// CHECK: ^bb0(%[[IN:.*]]: f32, %{{.*}}: f32):
// CHECK-DAG: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK-DAG: %[[ALPHA:.*]] = arith.constant 1.000000e-01 : f32
// CHECK-DAG: %[[POS:.*]] = arith.cmpf oge, %[[IN]], %[[ZERO]] : f32
// CHECK-DAG: %[[SCALED:.*]] = arith.mulf %[[IN]], %[[ALPHA]] : f32
// CHECK: arith.select %[[POS]], %[[IN]], %[[SCALED]] : f32
func.func @leaky_relu(%x: tensor<3x7xf32>) -> tensor<3x7xf32> {
  %y = dlc.leaky_relu %x {alpha = 0.1 : f32} : tensor<3x7xf32>
  return %y : tensor<3x7xf32>
}

// -----

// CHECK-LABEL: func @sigmoid
// CHECK: arith.negf
// CHECK: math.exp
// CHECK: arith.addf
// CHECK: arith.divf
func.func @sigmoid(%x: tensor<8x10xf32>) -> tensor<8x10xf32> {
  %y = dlc.sigmoid %x : tensor<8x10xf32>
  return %y : tensor<8x10xf32>
}

// -----

// CHECK-LABEL: func @tanh
// CHECK: math.tanh
func.func @tanh(%x: tensor<8x10xf32>) -> tensor<8x10xf32> {
  %y = dlc.tanh %x : tensor<8x10xf32>
  return %y : tensor<8x10xf32>
}

// -----

// A per-channel vector is read through a map onto the last dimension.

// CHECK-DAG: #[[ID:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
// CHECK-DAG: #[[CH:.*]] = affine_map<(d0, d1, d2, d3) -> (d3)>
// CHECK-LABEL: func @bias_add
// CHECK: linalg.generic {indexing_maps = [#[[ID]], #[[CH]], #[[ID]]]
// CHECK-SAME: ins(%{{.*}}, %{{.*}} : tensor<2x3x3x5xf32>, tensor<5xf32>)
// CHECK: arith.addf
func.func @bias_add(%x: tensor<2x3x3x5xf32>, %b: tensor<5xf32>) -> tensor<2x3x3x5xf32> {
  %y = dlc.bias_add %x, %b : (tensor<2x3x3x5xf32>, tensor<5xf32>) -> tensor<2x3x3x5xf32>
  return %y : tensor<2x3x3x5xf32>
}

// -----

// CHECK-LABEL: func @add
// CHECK: linalg.generic
// CHECK-SAME: ins(%{{.*}}, %{{.*}} : tensor<2x7x7x16xf32>, tensor<2x7x7x16xf32>)
// CHECK: arith.addf
func.func @add(%a: tensor<2x7x7x16xf32>, %b: tensor<2x7x7x16xf32>) -> tensor<2x7x7x16xf32> {
  %y = dlc.add %a, %b : tensor<2x7x7x16xf32>
  return %y : tensor<2x7x7x16xf32>
}

// -----

// Softmax along the last axis (axis = -1): the row max (from -inf), exp of
// the shifted input, the row sum, and a divide, all broadcast through the
// axis-dropped map.

// CHECK-DAG: #[[ID:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[ROW:.*]] = affine_map<(d0, d1) -> (d0)>
// CHECK-LABEL: func @softmax_last
// CHECK: %[[NEGINF:.*]] = arith.constant 0xFF800000 : f32
// CHECK: %[[MAXINIT:.*]] = linalg.fill ins(%[[NEGINF]] : f32) outs(%{{.*}} : tensor<3xf32>)
// CHECK: %[[MAX:.*]] = linalg.generic {indexing_maps = [#[[ID]], #[[ROW]]], iterator_types = ["parallel", "reduction"]}
// CHECK-SAME: outs(%[[MAXINIT]] : tensor<3xf32>)
// CHECK: arith.maximumf
// CHECK: %[[EXP:.*]] = linalg.generic {indexing_maps = [#[[ID]], #[[ROW]], #[[ID]]], iterator_types = ["parallel", "parallel"]}
// CHECK-SAME: ins(%{{.*}}, %[[MAX]] :
// CHECK: arith.subf
// CHECK: math.exp
// CHECK: %[[SUM:.*]] = linalg.generic {indexing_maps = [#[[ID]], #[[ROW]]], iterator_types = ["parallel", "reduction"]}
// CHECK-SAME: ins(%[[EXP]] :
// CHECK: arith.addf
// CHECK: linalg.generic {indexing_maps = [#[[ID]], #[[ROW]], #[[ID]]]
// CHECK-SAME: ins(%[[EXP]], %[[SUM]] :
// CHECK: arith.divf
func.func @softmax_last(%x: tensor<3x10xf32>) -> tensor<3x10xf32> {
  %y = dlc.softmax %x : tensor<3x10xf32>
  return %y : tensor<3x10xf32>
}

// -----

// Softmax along axis 0 reduces the first dimension instead.

// CHECK-DAG: #[[COL:.*]] = affine_map<(d0, d1) -> (d1)>
// CHECK-LABEL: func @softmax_axis0
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #[[COL]]], iterator_types = ["reduction", "parallel"]}
// CHECK-SAME: outs(%{{.*}} : tensor<6xf32>)
func.func @softmax_axis0(%x: tensor<4x6xf32>) -> tensor<4x6xf32> {
  %y = dlc.softmax %x {axis = 0 : i64} : tensor<4x6xf32>
  return %y : tensor<4x6xf32>
}
