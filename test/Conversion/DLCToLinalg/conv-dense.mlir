// RUN: dlc-opt %s -split-input-file -convert-dlc-to-linalg | FileCheck %s

// Convolutions keep NHWC x HWCF and become linalg.conv_2d_nhwc_hwcf; strides
// and dilations carry over, the accumulator starts at zero without a bias.

// CHECK-LABEL: func @conv_valid_strided
// CHECK-SAME: (%[[X:.*]]: tensor<2x9x9x3xf32>, %[[W:.*]]: tensor<3x3x3x8xf32>)
// CHECK-NOT: tensor.pad
// CHECK: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK: %[[EMPTY:.*]] = tensor.empty() : tensor<2x4x4x8xf32>
// CHECK: %[[INIT:.*]] = linalg.fill ins(%[[ZERO]] : f32) outs(%[[EMPTY]] : tensor<2x4x4x8xf32>)
// CHECK: %[[Y:.*]] = linalg.conv_2d_nhwc_hwcf
// CHECK-SAME: dilations = dense<1>
// CHECK-SAME: strides = dense<2>
// CHECK-SAME: ins(%[[X]], %[[W]] : tensor<2x9x9x3xf32>, tensor<3x3x3x8xf32>)
// CHECK-SAME: outs(%[[INIT]] : tensor<2x4x4x8xf32>)
// CHECK: return %[[Y]]
func.func @conv_valid_strided(%x: tensor<2x9x9x3xf32>, %w: tensor<3x3x3x8xf32>) -> tensor<2x4x4x8xf32> {
  %y = dlc.conv2d %x, %w {strides = array<i64: 2, 2>}
      : (tensor<2x9x9x3xf32>, tensor<3x3x3x8xf32>) -> tensor<2x4x4x8xf32>
  return %y : tensor<2x4x4x8xf32>
}

// -----

// `same` padding with dilation 2: a 3x3 kernel spans 5, so 2 rows and
// columns of zeros on each side; the bias is broadcast into the accumulator.

// CHECK-LABEL: func @conv_same_dilated_bias
// CHECK-SAME: (%[[X:.*]]: tensor<1x8x8x4xf32>, %[[W:.*]]: tensor<3x3x4x16xf32>, %[[B:.*]]: tensor<16xf32>)
// CHECK: %[[PAD:.*]] = tensor.pad %[[X]] low[0, 2, 2, 0] high[0, 2, 2, 0]
// CHECK: tensor.yield %{{.*}} : f32
// CHECK: } : tensor<1x8x8x4xf32> to tensor<1x12x12x4xf32>
// CHECK: %[[INIT:.*]] = linalg.broadcast ins(%[[B]] : tensor<16xf32>) outs(%{{.*}} : tensor<1x8x8x16xf32>) dimensions = [0, 1, 2]
// CHECK: linalg.conv_2d_nhwc_hwcf
// CHECK-SAME: dilations = dense<2>
// CHECK-SAME: strides = dense<1>
// CHECK-SAME: ins(%[[PAD]], %[[W]] : tensor<1x12x12x4xf32>, tensor<3x3x4x16xf32>)
// CHECK-SAME: outs(%[[INIT]] : tensor<1x8x8x16xf32>)
func.func @conv_same_dilated_bias(%x: tensor<1x8x8x4xf32>, %w: tensor<3x3x4x16xf32>, %b: tensor<16xf32>) -> tensor<1x8x8x16xf32> {
  %y = dlc.conv2d %x, %w, %b {dilations = array<i64: 2, 2>, padding = #dlc.padding<same>}
      : (tensor<1x8x8x4xf32>, tensor<3x3x4x16xf32>, tensor<16xf32>) -> tensor<1x8x8x16xf32>
  return %y : tensor<1x8x8x16xf32>
}

// -----

// TensorFlow's rule puts the odd row/column of `same` padding after:
// 8 -> 4 with a 3x3 window and stride 2 needs one row, at the bottom.

// CHECK-LABEL: func @conv_same_odd_pad_after
// CHECK: tensor.pad %{{.*}} low[0, 0, 0, 0] high[0, 1, 1, 0]
// CHECK: linalg.conv_2d_nhwc_hwcf
// CHECK-SAME: strides = dense<2>
// CHECK-SAME: tensor<1x9x9x4xf32>
func.func @conv_same_odd_pad_after(%x: tensor<1x8x8x4xf32>, %w: tensor<3x3x4x16xf32>) -> tensor<1x4x4x16xf32> {
  %y = dlc.conv2d %x, %w {padding = #dlc.padding<same>, strides = array<i64: 2, 2>}
      : (tensor<1x8x8x4xf32>, tensor<3x3x4x16xf32>) -> tensor<1x4x4x16xf32>
  return %y : tensor<1x4x4x16xf32>
}

// -----

// Explicit pads are applied as given: [top, bottom, left, right].

// CHECK-LABEL: func @conv_explicit
// CHECK: tensor.pad %{{.*}} low[0, 2, 0, 0] high[0, 1, 2, 0]
// CHECK: } : tensor<1x7x7x3xf32> to tensor<1x10x9x3xf32>
func.func @conv_explicit(%x: tensor<1x7x7x3xf32>, %w: tensor<5x3x3x7xf32>) -> tensor<1x6x7x7xf32> {
  %y = dlc.conv2d %x, %w {padding = #dlc.padding<explicit>, pads = array<i64: 2, 1, 0, 2>}
      : (tensor<1x7x7x3xf32>, tensor<5x3x3x7xf32>) -> tensor<1x6x7x7xf32>
  return %y : tensor<1x6x7x7xf32>
}

// -----

// Depthwise (groups == C, one filter per channel): the [KH, KW, 1, C] filter
// is viewed as [KH, KW, C] for linalg.depthwise_conv_2d_nhwc_hwc.

// CHECK-LABEL: func @depthwise
// CHECK-SAME: (%[[X:.*]]: tensor<2x8x8x6xf32>, %[[W:.*]]: tensor<3x3x1x6xf32>)
// CHECK: %[[F:.*]] = tensor.collapse_shape %[[W]] {{\[}}[0], [1], [2, 3]] : tensor<3x3x1x6xf32> into tensor<3x3x6xf32>
// CHECK: linalg.depthwise_conv_2d_nhwc_hwc
// CHECK-SAME: ins(%[[X]], %[[F]] : tensor<2x8x8x6xf32>, tensor<3x3x6xf32>)
// CHECK-SAME: -> tensor<2x6x6x6xf32>
func.func @depthwise(%x: tensor<2x8x8x6xf32>, %w: tensor<3x3x1x6xf32>) -> tensor<2x6x6x6xf32> {
  %y = dlc.conv2d %x, %w {groups = 6 : i64}
      : (tensor<2x8x8x6xf32>, tensor<3x3x1x6xf32>) -> tensor<2x6x6x6xf32>
  return %y : tensor<2x6x6x6xf32>
}

// -----

// Depthwise with a channel multiplier (F = 2 * C): output channel c * 2 + m
// belongs to input channel c, which is exactly the [C, M] split of
// linalg.depthwise_conv_2d_nhwc_hwcm; the result is collapsed back.

// CHECK-LABEL: func @depthwise_multiplier
// CHECK: %[[FLAT:.*]] = tensor.collapse_shape %{{.*}} {{\[}}[0], [1], [2, 3]] : tensor<3x3x1x8xf32> into tensor<3x3x8xf32>
// CHECK: %[[HWCM:.*]] = tensor.expand_shape %[[FLAT]] {{\[}}[0], [1], [2, 3]] output_shape [3, 3, 4, 2]
// CHECK: %[[INIT:.*]] = tensor.expand_shape %{{.*}} {{\[}}[0], [1], [2], [3, 4]] output_shape [1, 3, 3, 4, 2]
// CHECK: %[[Y:.*]] = linalg.depthwise_conv_2d_nhwc_hwcm
// CHECK-SAME: strides = dense<2>
// CHECK-SAME: ins(%{{.*}}, %[[HWCM]] : tensor<1x7x7x4xf32>, tensor<3x3x4x2xf32>)
// CHECK-SAME: outs(%[[INIT]] : tensor<1x3x3x4x2xf32>)
// CHECK: tensor.collapse_shape %[[Y]] {{\[}}[0], [1], [2], [3, 4]] : tensor<1x3x3x4x2xf32> into tensor<1x3x3x8xf32>
func.func @depthwise_multiplier(%x: tensor<1x7x7x4xf32>, %w: tensor<3x3x1x8xf32>) -> tensor<1x3x3x8xf32> {
  %y = dlc.conv2d %x, %w {groups = 4 : i64, strides = array<i64: 2, 2>}
      : (tensor<1x7x7x4xf32>, tensor<3x3x1x8xf32>) -> tensor<1x3x3x8xf32>
  return %y : tensor<1x3x3x8xf32>
}

// -----

// 1 < groups < C: a generic over (n, oh, ow, g, f, kh, kw, c) on grouped
// views; strides and dilations appear in the input map.

// CHECK-DAG: #[[IN:.*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d0, d1 * 2 + d5, d2 + d6 * 2, d3, d7)>
// CHECK-DAG: #[[FIL:.*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d5, d6, d7, d3, d4)>
// CHECK-DAG: #[[OUT:.*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d0, d1, d2, d3, d4)>
// CHECK-LABEL: func @grouped
// CHECK: %[[XG:.*]] = tensor.expand_shape %{{.*}} {{\[}}[0], [1], [2], [3, 4]] output_shape [2, 9, 9, 2, 4] : tensor<2x9x9x8xf32> into tensor<2x9x9x2x4xf32>
// CHECK: %[[WG:.*]] = tensor.expand_shape %{{.*}} {{\[}}[0], [1], [2], [3, 4]] output_shape [3, 3, 4, 2, 6] : tensor<3x3x4x12xf32> into tensor<3x3x4x2x6xf32>
// CHECK: %[[Y:.*]] = linalg.generic
// CHECK-SAME: indexing_maps = [#[[IN]], #[[FIL]], #[[OUT]]]
// CHECK-SAME: iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]
// CHECK-SAME: ins(%[[XG]], %[[WG]] :
// CHECK: arith.mulf
// CHECK: arith.addf
// CHECK: tensor.collapse_shape %[[Y]] {{\[}}[0], [1], [2], [3, 4]] : tensor<2x4x5x2x6xf32> into tensor<2x4x5x12xf32>
func.func @grouped(%x: tensor<2x9x9x8xf32>, %w: tensor<3x3x4x12xf32>) -> tensor<2x4x5x12xf32> {
  %y = dlc.conv2d %x, %w {groups = 2 : i64, strides = array<i64: 2, 1>, dilations = array<i64: 1, 2>}
      : (tensor<2x9x9x8xf32>, tensor<3x3x4x12xf32>) -> tensor<2x4x5x12xf32>
  return %y : tensor<2x4x5x12xf32>
}

// -----

// dense is a row-major matmul accumulating into the broadcast bias.

// CHECK-LABEL: func @dense_bias
// CHECK-SAME: (%[[X:.*]]: tensor<4x32xf32>, %[[W:.*]]: tensor<32x10xf32>, %[[B:.*]]: tensor<10xf32>)
// CHECK: %[[INIT:.*]] = linalg.broadcast ins(%[[B]] : tensor<10xf32>) outs(%{{.*}} : tensor<4x10xf32>) dimensions = [0]
// CHECK: %[[Y:.*]] = linalg.matmul ins(%[[X]], %[[W]] : tensor<4x32xf32>, tensor<32x10xf32>) outs(%[[INIT]] : tensor<4x10xf32>)
// CHECK: return %[[Y]]
func.func @dense_bias(%x: tensor<4x32xf32>, %w: tensor<32x10xf32>, %b: tensor<10xf32>) -> tensor<4x10xf32> {
  %y = dlc.dense %x, %w, %b : (tensor<4x32xf32>, tensor<32x10xf32>, tensor<10xf32>) -> tensor<4x10xf32>
  return %y : tensor<4x10xf32>
}

// -----

// CHECK-LABEL: func @dense_no_bias
// CHECK: %[[INIT:.*]] = linalg.fill
// CHECK: linalg.matmul {{.*}} outs(%[[INIT]] : tensor<3x5xf32>)
func.func @dense_no_bias(%x: tensor<3x7xf32>, %w: tensor<7x5xf32>) -> tensor<3x5xf32> {
  %y = dlc.dense %x, %w : (tensor<3x7xf32>, tensor<7x5xf32>) -> tensor<3x5xf32>
  return %y : tensor<3x5xf32>
}
