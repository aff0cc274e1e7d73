// RUN: dlc-opt %s -split-input-file -convert-dlc-to-linalg | FileCheck %s

// Flatten collapses every dimension but the batch, in NHWC order.

// CHECK-LABEL: func @flatten
// CHECK-SAME: (%[[X:.*]]: tensor<8x12x12x64xf32>)
// CHECK: %[[Y:.*]] = tensor.collapse_shape %[[X]] {{\[}}[0], [1, 2, 3]] : tensor<8x12x12x64xf32> into tensor<8x9216xf32>
// CHECK: return %[[Y]]
func.func @flatten(%x: tensor<8x12x12x64xf32>) -> tensor<8x9216xf32> {
  %y = dlc.flatten %x : (tensor<8x12x12x64xf32>) -> tensor<8x9216xf32>
  return %y : tensor<8x9216xf32>
}

// -----

// A rank-2 input is already flat: no op is emitted.

// CHECK-LABEL: func @flatten_noop
// CHECK-SAME: (%[[X:.*]]: tensor<3x7xf32>)
// CHECK-NEXT: return %[[X]]
func.func @flatten_noop(%x: tensor<3x7xf32>) -> tensor<3x7xf32> {
  %y = dlc.flatten %x : (tensor<3x7xf32>) -> tensor<3x7xf32>
  return %y : tensor<3x7xf32>
}

// -----

// CHECK-LABEL: func @flatten_vector
// CHECK: tensor.expand_shape %{{.*}} {{\[}}[0, 1]] output_shape [4, 1] : tensor<4xf32> into tensor<4x1xf32>
func.func @flatten_vector(%x: tensor<4xf32>) -> tensor<4x1xf32> {
  %y = dlc.flatten %x : (tensor<4xf32>) -> tensor<4x1xf32>
  return %y : tensor<4x1xf32>
}

// -----

// A general reshape goes through 1-D (one reassociation need not exist).

// CHECK-LABEL: func @reshape
// CHECK-SAME: (%[[X:.*]]: tensor<2x12xf32>)
// CHECK: %[[FLAT:.*]] = tensor.collapse_shape %[[X]] {{\[}}[0, 1]] : tensor<2x12xf32> into tensor<24xf32>
// CHECK: %[[Y:.*]] = tensor.expand_shape %[[FLAT]] {{\[}}[0, 1, 2]] output_shape [2, 3, 4] : tensor<24xf32> into tensor<2x3x4xf32>
// CHECK: return %[[Y]]
func.func @reshape(%x: tensor<2x12xf32>) -> tensor<2x3x4xf32> {
  %y = dlc.reshape %x {shape = array<i64: 2, -1, 4>} : (tensor<2x12xf32>) -> tensor<2x3x4xf32>
  return %y : tensor<2x3x4xf32>
}

// -----

// Concatenation along the channels inserts each input at its offset.

// CHECK-LABEL: func @concat_channels
// CHECK-SAME: (%[[A:.*]]: tensor<2x3x3x4xf32>, %[[B:.*]]: tensor<2x3x3x5xf32>)
// CHECK: %[[E:.*]] = tensor.empty() : tensor<2x3x3x9xf32>
// CHECK: %[[I0:.*]] = tensor.insert_slice %[[A]] into %[[E]][0, 0, 0, 0] [2, 3, 3, 4] [1, 1, 1, 1]
// CHECK: %[[I1:.*]] = tensor.insert_slice %[[B]] into %[[I0]][0, 0, 0, 4] [2, 3, 3, 5] [1, 1, 1, 1]
// CHECK: return %[[I1]]
func.func @concat_channels(%a: tensor<2x3x3x4xf32>, %b: tensor<2x3x3x5xf32>) -> tensor<2x3x3x9xf32> {
  %y = dlc.concat %a, %b : (tensor<2x3x3x4xf32>, tensor<2x3x3x5xf32>) -> tensor<2x3x3x9xf32>
  return %y : tensor<2x3x3x9xf32>
}

// -----

// CHECK-LABEL: func @concat_axis0
// CHECK: tensor.insert_slice %{{.*}} into %{{.*}}[0, 0] [1, 4] [1, 1]
// CHECK: tensor.insert_slice %{{.*}} into %{{.*}}[1, 0] [3, 4] [1, 1]
// CHECK: tensor.insert_slice %{{.*}} into %{{.*}}[4, 0] [2, 4] [1, 1]
func.func @concat_axis0(%a: tensor<1x4xf32>, %b: tensor<3x4xf32>, %c: tensor<2x4xf32>) -> tensor<6x4xf32> {
  %y = dlc.concat %a, %b, %c {axis = 0 : i64} : (tensor<1x4xf32>, tensor<3x4xf32>, tensor<2x4xf32>) -> tensor<6x4xf32>
  return %y : tensor<6x4xf32>
}
