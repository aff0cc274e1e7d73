// RUN: dlc-opt %s -split-input-file -convert-dlc-to-linalg | FileCheck %s

// The input gradient of a strided convolution: one stride-1 convolution
// per phase (input rows and columns of one residue modulo the stride), each
// with only the flipped, channel-swapped filter taps that reach it (every
// second tap from offset 0 or 1: 2 x 2, 2 x 1, 1 x 2 and 1 x 1 of the 3 x 3),
// written into every second row and column of dx. Every position of dx is
// in exactly one phase, so dx starts empty; no multiply-add is by zero (the
// dilated form convolved s - 1 zeros between rows and columns of dy).

// CHECK-DAG: #[[FLIP:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (-d0 + 2, -d1 + 2, d4, d3, d2)>
// CHECK-LABEL: func @grad_input_strided
// CHECK-SAME: (%[[DY:.*]]: tensor<2x4x4x6xf32>, %[[W:.*]]: tensor<3x3x3x6xf32>)
// CHECK: %[[WG:.*]] = tensor.expand_shape %[[W]] {{\[}}[0], [1], [2], [3, 4]]
// CHECK: %[[FLIPPED:.*]] = linalg.generic {indexing_maps = [#[[FLIP]], {{.*}}]{{.*}} ins(%[[WG]] : tensor<3x3x3x1x6xf32>)
// CHECK: %[[WT:.*]] = tensor.collapse_shape %[[FLIPPED]] {{.*}} into tensor<3x3x6x3xf32>
// CHECK: %[[DX0:.*]] = tensor.empty() : tensor<2x9x9x3xf32>
// CHECK-NOT: linalg.fill {{.*}} -> tensor<2x9x9x3xf32>
// CHECK: %[[Z00:.*]] = tensor.pad %[[DY]] low[0, 1, 1, 0] high[0, 1, 1, 0]
// CHECK: %[[W00:.*]] = tensor.extract_slice %[[WT]][0, 0, 0, 0] [2, 2, 6, 3] [2, 2, 1, 1]
// CHECK: %[[P00:.*]] = linalg.conv_2d_nhwc_hwcf {{.*}}strides = dense<1>{{.*}} ins(%[[Z00]], %[[W00]] : tensor<2x6x6x6xf32>, tensor<2x2x6x3xf32>)
// CHECK: %[[DX1:.*]] = tensor.insert_slice %[[P00]] into %[[DX0]][0, 0, 0, 0] [2, 5, 5, 3] [1, 2, 2, 1]
// CHECK: %[[W01:.*]] = tensor.extract_slice %[[WT]][0, 1, 0, 0] [2, 1, 6, 3] [2, 2, 1, 1]
// CHECK: %[[P01:.*]] = linalg.conv_2d_nhwc_hwcf {{.*}}, %[[W01]] : tensor<2x6x4x6xf32>, tensor<2x1x6x3xf32>)
// CHECK: %[[DX2:.*]] = tensor.insert_slice %[[P01]] into %[[DX1]][0, 0, 1, 0] [2, 5, 4, 3] [1, 2, 2, 1]
// CHECK: %[[W10:.*]] = tensor.extract_slice %[[WT]][1, 0, 0, 0] [1, 2, 6, 3] [2, 2, 1, 1]
// CHECK: %[[P10:.*]] = linalg.conv_2d_nhwc_hwcf {{.*}}, %[[W10]] : tensor<2x4x6x6xf32>, tensor<1x2x6x3xf32>)
// CHECK: %[[DX3:.*]] = tensor.insert_slice %[[P10]] into %[[DX2]][0, 1, 0, 0] [2, 4, 5, 3] [1, 2, 2, 1]
// CHECK: %[[W11:.*]] = tensor.extract_slice %[[WT]][1, 1, 0, 0] [1, 1, 6, 3] [2, 2, 1, 1]
// CHECK: %[[P11:.*]] = linalg.conv_2d_nhwc_hwcf {{.*}} ins(%[[DY]], %[[W11]] : tensor<2x4x4x6xf32>, tensor<1x1x6x3xf32>)
// CHECK: %[[DX:.*]] = tensor.insert_slice %[[P11]] into %[[DX3]][0, 1, 1, 0] [2, 4, 4, 3] [1, 2, 2, 1]
// CHECK: return %[[DX]]
func.func @grad_input_strided(%dy: tensor<2x4x4x6xf32>, %w: tensor<3x3x3x6xf32>) -> tensor<2x9x9x3xf32> {
  %dx = dlc.conv2d_grad_input %dy, %w {input_shape = array<i64: 2, 9, 9, 3>, strides = array<i64: 2, 2>}
      : (tensor<2x4x4x6xf32>, tensor<3x3x3x6xf32>) -> tensor<2x9x9x3xf32>
  return %dx : tensor<2x9x9x3xf32>
}

// -----

// Stride with dilation keeps the dilated form: dy dilated by the stride (a
// strided insert into zeros) and padded by the kernel extent, convolved
// with the flipped filter at the forward dilation.

// CHECK-LABEL: func @grad_input_strided_dilated
// CHECK: %[[DX0:.*]] = linalg.fill {{.*}} -> tensor<1x9x9x2xf32>
// CHECK: %[[Z0:.*]] = linalg.fill {{.*}} -> tensor<1x13x13x3xf32>
// CHECK: %[[Z:.*]] = tensor.insert_slice %{{.*}} into %[[Z0]][0, 4, 4, 0] [1, 3, 3, 3] [1, 2, 2, 1]
// CHECK: linalg.conv_2d_nhwc_hwcf
// CHECK-SAME: dilations = dense<2>
// CHECK-SAME: strides = dense<1>
// CHECK-SAME: ins(%[[Z]], %{{.*}} : tensor<1x13x13x3xf32>, tensor<3x3x3x2xf32>)
// CHECK-SAME: outs(%[[DX0]] : tensor<1x9x9x2xf32>)
func.func @grad_input_strided_dilated(%dy: tensor<1x3x3x3xf32>, %w: tensor<3x3x2x3xf32>) -> tensor<1x9x9x2xf32> {
  %dx = dlc.conv2d_grad_input %dy, %w {input_shape = array<i64: 1, 9, 9, 2>, strides = array<i64: 2, 2>, dilations = array<i64: 2, 2>}
      : (tensor<1x3x3x3xf32>, tensor<3x3x2x3xf32>) -> tensor<1x9x9x2xf32>
  return %dx : tensor<1x9x9x2xf32>
}

// -----

// Stride 1 with `same` padding: no dilation, only a pad of the kernel extent
// minus the forward padding (here 2 - 1 on each side).

// CHECK-LABEL: func @grad_input_same
// CHECK-NOT: tensor.insert_slice
// CHECK: tensor.pad %{{.*}} low[0, 1, 1, 0] high[0, 1, 1, 0]
// CHECK: linalg.conv_2d_nhwc_hwcf
// CHECK-SAME: tensor<1x7x8x4xf32>, tensor<3x3x4x2xf32>
func.func @grad_input_same(%dy: tensor<1x5x6x4xf32>, %w: tensor<3x3x2x4xf32>) -> tensor<1x5x6x2xf32> {
  %dx = dlc.conv2d_grad_input %dy, %w {input_shape = array<i64: 1, 5, 6, 2>, padding = #dlc.padding<same>}
      : (tensor<1x5x6x4xf32>, tensor<3x3x2x4xf32>) -> tensor<1x5x6x2xf32>
  return %dx : tensor<1x5x6x2xf32>
}

// -----

// Padding beyond the kernel extent: the rows of dy that saw only padding are
// cropped before the (smaller) pad.

// CHECK-LABEL: func @grad_input_crop
// CHECK: tensor.extract_slice %{{.*}}[0, 2, 0, 0] [1, 5, 5, 2] [1, 1, 1, 1]
// CHECK: tensor.pad %{{.*}} low[0, 0, 1, 0] high[0, 1, 0, 0]
func.func @grad_input_crop(%dy: tensor<1x7x5x2xf32>, %w: tensor<2x2x1x2xf32>) -> tensor<1x5x5x1xf32> {
  %dx = dlc.conv2d_grad_input %dy, %w {input_shape = array<i64: 1, 5, 5, 1>,
      padding = #dlc.padding<explicit>, pads = array<i64: 3, 0, 0, 1>}
      : (tensor<1x7x5x2xf32>, tensor<2x2x1x2xf32>) -> tensor<1x5x5x1xf32>
  return %dx : tensor<1x5x5x1xf32>
}

// -----

// Depthwise input gradient: the backward convolution is depthwise too.

// CHECK-LABEL: func @grad_input_depthwise
// CHECK: linalg.depthwise_conv_2d_nhwc_hwc
// CHECK-NOT: linalg.conv_2d_nhwc_hwcf
func.func @grad_input_depthwise(%dy: tensor<1x4x4x3xf32>, %w: tensor<3x3x1x3xf32>) -> tensor<1x6x6x3xf32> {
  %dx = dlc.conv2d_grad_input %dy, %w {input_shape = array<i64: 1, 6, 6, 3>, groups = 3 : i64}
      : (tensor<1x4x4x3xf32>, tensor<3x3x1x3xf32>) -> tensor<1x6x6x3xf32>
  return %dx : tensor<1x6x6x3xf32>
}

// -----

// The filter gradient swaps roles: x as [C, H, W, N], dy as an [OH, OW, N, F]
// filter; the forward stride becomes the dilation and the forward dilation
// the stride; the [C, KH, KW, F] result is transposed back to HWCF.

// CHECK-LABEL: func @grad_filter
// CHECK-SAME: (%[[X:.*]]: tensor<2x9x9x3xf32>, %[[DY:.*]]: tensor<2x4x4x6xf32>)
// CHECK: %[[XT:.*]] = linalg.transpose ins(%[[X]] : tensor<2x9x9x3xf32>) {{.*}} permutation = [3, 1, 2, 0]
// CHECK: %[[DYT:.*]] = linalg.transpose ins(%[[DY]] : tensor<2x4x4x6xf32>) {{.*}} permutation = [1, 2, 0, 3]
// CHECK: %[[CONV:.*]] = linalg.conv_2d_nhwc_hwcf
// CHECK-SAME: dilations = dense<2>
// CHECK-SAME: strides = dense<1>
// CHECK-SAME: ins(%[[XT]], %[[DYT]] : tensor<3x9x9x2xf32>, tensor<4x4x2x6xf32>)
// CHECK-SAME: -> tensor<3x3x3x6xf32>
// CHECK: %[[DW:.*]] = linalg.transpose ins(%[[CONV]] : tensor<3x3x3x6xf32>) {{.*}} permutation = [1, 2, 0, 3]
// CHECK: return %[[DW]]
func.func @grad_filter(%x: tensor<2x9x9x3xf32>, %dy: tensor<2x4x4x6xf32>) -> tensor<3x3x3x6xf32> {
  %dw = dlc.conv2d_grad_filter %x, %dy {kernel_size = array<i64: 3, 3>, strides = array<i64: 2, 2>}
      : (tensor<2x9x9x3xf32>, tensor<2x4x4x6xf32>) -> tensor<3x3x3x6xf32>
  return %dw : tensor<3x3x3x6xf32>
}

// -----

// Grouped filter gradient: a generic on grouped views reducing (n, oh, ow).

// CHECK-DAG: #[[XMAP:.*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d5, d0 + d6, d1 + d7, d2, d3)>
// CHECK-DAG: #[[DYMAP:.*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d5, d6, d7, d2, d4)>
// CHECK-DAG: #[[DWMAP:.*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d0, d1, d3, d2, d4)>
// CHECK-LABEL: func @grad_filter_grouped
// CHECK: linalg.generic {indexing_maps = [#[[XMAP]], #[[DYMAP]], #[[DWMAP]]], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]}
// CHECK-SAME: ins(%{{.*}}, %{{.*}} : tensor<2x9x9x2x2xf32>, tensor<2x7x7x2x3xf32>)
// CHECK: tensor.collapse_shape %{{.*}} into tensor<3x3x2x6xf32>
func.func @grad_filter_grouped(%x: tensor<2x9x9x4xf32>, %dy: tensor<2x7x7x6xf32>) -> tensor<3x3x2x6xf32> {
  %dw = dlc.conv2d_grad_filter %x, %dy {kernel_size = array<i64: 3, 3>, groups = 2 : i64}
      : (tensor<2x9x9x4xf32>, tensor<2x7x7x6xf32>) -> tensor<3x3x2x6xf32>
  return %dw : tensor<3x3x2x6xf32>
}

// -----

// The dense input gradient dy x kernel^T is computed as (kernel x dy^T)^T:
// the large kernel is read in place, only dy and the result are transposed,
// and the products stay default linalg.matmul ops (the form the CPU
// schedule tiles).

// CHECK-LABEL: func @matmul_transpose_rhs
// CHECK-SAME: (%[[DY:.*]]: tensor<4x8xf32>, %[[W:.*]]: tensor<16x8xf32>)
// CHECK: %[[DYT:.*]] = linalg.transpose ins(%[[DY]] : tensor<4x8xf32>) {{.*}} permutation = [1, 0]
// CHECK: %[[P:.*]] = linalg.matmul ins(%[[W]], %[[DYT]] : tensor<16x8xf32>, tensor<8x4xf32>)
// CHECK: %[[DX:.*]] = linalg.transpose ins(%[[P]] : tensor<16x4xf32>) {{.*}} permutation = [1, 0]
// CHECK: return %[[DX]]
func.func @matmul_transpose_rhs(%dy: tensor<4x8xf32>, %w: tensor<16x8xf32>) -> tensor<4x16xf32> {
  %0 = dlc.matmul %dy, %w {transpose_rhs} : (tensor<4x8xf32>, tensor<16x8xf32>) -> tensor<4x16xf32>
  return %0 : tensor<4x16xf32>
}

// -----

// The kernel gradient x^T x dy transposes x.

// CHECK-LABEL: func @matmul_transpose_lhs
// CHECK-SAME: (%[[A:.*]]: tensor<8x4xf32>, %[[B:.*]]: tensor<8x2xf32>)
// CHECK: %[[AT:.*]] = linalg.transpose ins(%[[A]] : tensor<8x4xf32>)
// CHECK: linalg.matmul ins(%[[AT]], %[[B]] : tensor<4x8xf32>, tensor<8x2xf32>)
func.func @matmul_transpose_lhs(%a: tensor<8x4xf32>, %b: tensor<8x2xf32>) -> tensor<4x2xf32> {
  %0 = dlc.matmul %a, %b {transpose_lhs} : (tensor<8x4xf32>, tensor<8x2xf32>) -> tensor<4x2xf32>
  return %0 : tensor<4x2xf32>
}

// -----

// Both transposed: a^T x b^T = (b x a)^T, one transpose of the result.

// CHECK-LABEL: func @matmul_transpose_both
// CHECK-SAME: (%[[A:.*]]: tensor<8x4xf32>, %[[B:.*]]: tensor<2x8xf32>)
// CHECK: %[[P:.*]] = linalg.matmul ins(%[[B]], %[[A]] : tensor<2x8xf32>, tensor<8x4xf32>)
// CHECK: linalg.transpose ins(%[[P]] : tensor<2x4xf32>)
func.func @matmul_transpose_both(%a: tensor<8x4xf32>, %b: tensor<2x8xf32>) -> tensor<4x2xf32> {
  %0 = dlc.matmul %a, %b {transpose_lhs, transpose_rhs} : (tensor<8x4xf32>, tensor<2x8xf32>) -> tensor<4x2xf32>
  return %0 : tensor<4x2xf32>
}

// -----

// Without transposes nothing is copied.

// CHECK-LABEL: func @matmul_plain
// CHECK-NOT: linalg.transpose
// CHECK: linalg.matmul
func.func @matmul_plain(%a: tensor<4x8xf32>, %b: tensor<8x2xf32>) -> tensor<4x2xf32> {
  %0 = dlc.matmul %a, %b : (tensor<4x8xf32>, tensor<8x2xf32>) -> tensor<4x2xf32>
  return %0 : tensor<4x2xf32>
}

// -----

// CHECK-LABEL: func @channel_sum
// CHECK: linalg.generic
// CHECK-SAME: iterator_types = ["reduction", "reduction", "reduction", "parallel"]
// CHECK-SAME: outs(%{{.*}} : tensor<16xf32>)
// CHECK: arith.addf
func.func @channel_sum(%dy: tensor<2x3x3x16xf32>) -> tensor<16xf32> {
  %0 = dlc.channel_sum %dy : (tensor<2x3x3x16xf32>) -> tensor<16xf32>
  return %0 : tensor<16xf32>
}
