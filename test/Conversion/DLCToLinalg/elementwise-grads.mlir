// RUN: dlc-opt %s -split-input-file -convert-dlc-to-linalg | FileCheck %s

// Activation gradients are elementwise generics over (dy, saved value).

// relu: dy where the forward output is positive.
// CHECK-LABEL: func @relu_grad
// CHECK-SAME: (%[[DY:.*]]: tensor<4x8xf32>, %[[Y:.*]]: tensor<4x8xf32>)
// CHECK: linalg.generic
// CHECK-SAME: iterator_types = ["parallel", "parallel"]
// CHECK-SAME: ins(%[[DY]], %[[Y]] : tensor<4x8xf32>, tensor<4x8xf32>)
// CHECK: ^bb0(%[[D:.*]]: f32, %[[V:.*]]: f32, %{{.*}}: f32):
// CHECK: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK: %[[POS:.*]] = arith.cmpf ogt, %[[V]], %[[ZERO]]
// CHECK: arith.select %[[POS]], %[[D]], %[[ZERO]]
func.func @relu_grad(%dy: tensor<4x8xf32>, %y: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %0 = dlc.relu_grad %dy, %y : tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

// leaky relu: the forward's branch (x >= 0) picks dy or alpha * dy.
// CHECK-LABEL: func @leaky_relu_grad
// CHECK: ^bb0(%[[D:.*]]: f32, %[[X:.*]]: f32, %{{.*}}: f32):
// CHECK: %[[POS:.*]] = arith.cmpf oge, %[[X]], %{{.*}}
// CHECK: %[[ALPHA:.*]] = arith.constant 1.000000e-01 : f32
// CHECK: %[[SCALED:.*]] = arith.mulf %[[D]], %[[ALPHA]]
// CHECK: arith.select %[[POS]], %[[D]], %[[SCALED]]
func.func @leaky_relu_grad(%dy: tensor<4x8xf32>, %x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %0 = dlc.leaky_relu_grad %dy, %x {alpha = 0.1 : f32} : tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

// sigmoid: dy * y * (1 - y).
// CHECK-LABEL: func @sigmoid_grad
// CHECK: ^bb0(%[[D:.*]]: f32, %[[Y:.*]]: f32, %{{.*}}: f32):
// CHECK: %[[ONE:.*]] = arith.constant 1.000000e+00 : f32
// CHECK: %[[C:.*]] = arith.subf %[[ONE]], %[[Y]]
// CHECK: %[[S:.*]] = arith.mulf %[[Y]], %[[C]]
// CHECK: arith.mulf %[[D]], %[[S]]
func.func @sigmoid_grad(%dy: tensor<4x8xf32>, %y: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %0 = dlc.sigmoid_grad %dy, %y : tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

// tanh: dy * (1 - y^2).
// CHECK-LABEL: func @tanh_grad
// CHECK: ^bb0(%[[D:.*]]: f32, %[[Y:.*]]: f32, %{{.*}}: f32):
// CHECK: %[[Y2:.*]] = arith.mulf %[[Y]], %[[Y]]
// CHECK: %[[S:.*]] = arith.subf %{{.*}}, %[[Y2]]
// CHECK: arith.mulf %[[D]], %[[S]]
func.func @tanh_grad(%dy: tensor<4x8xf32>, %y: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %0 = dlc.tanh_grad %dy, %y : tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

// softmax along axis 0: sum(dy * y) over the axis, then y * (dy - sum).
// CHECK-DAG: #[[ID:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[COL:.*]] = affine_map<(d0, d1) -> (d1)>
// CHECK-LABEL: func @softmax_grad
// CHECK: %[[DOT:.*]] = linalg.generic {indexing_maps = [#[[ID]], #[[ID]], #[[COL]]], iterator_types = ["reduction", "parallel"]}
// CHECK-SAME: outs(%{{.*}} : tensor<8xf32>)
// CHECK: linalg.generic {indexing_maps = [#[[ID]], #[[ID]], #[[COL]], #[[ID]]], iterator_types = ["parallel", "parallel"]}
// CHECK-SAME: ins(%{{.*}}, %{{.*}}, %[[DOT]] : tensor<4x8xf32>, tensor<4x8xf32>, tensor<8xf32>)
// CHECK: ^bb0(%[[D:.*]]: f32, %[[Y:.*]]: f32, %[[S:.*]]: f32, %{{.*}}: f32):
// CHECK: %[[C:.*]] = arith.subf %[[D]], %[[S]]
// CHECK: arith.mulf %[[Y]], %[[C]]
func.func @softmax_grad(%dy: tensor<4x8xf32>, %y: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %0 = dlc.softmax_grad %dy, %y {axis = 0 : i64} : tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}
