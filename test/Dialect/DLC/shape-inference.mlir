// RUN: dlc-opt %s -split-input-file -verify-diagnostics | FileCheck %s

// The result types below are what Keras/TensorFlow compute for the same
// layers; the verifier rejects any other result type (see invalid.mlir), so
// each case parsing is the check. FileCheck pins the printed types.

// valid: floor((in - k) / s) + 1, odd and even inputs, strides 1 and 2.
// CHECK-LABEL: func @conv_valid
func.func @conv_valid(%e: tensor<2x28x28x1xf32>, %o: tensor<2x27x27x1xf32>, %w: tensor<3x3x1x4xf32>) {
  // CHECK: -> tensor<2x26x26x4xf32>
  %0 = dlc.conv2d %e, %w : (tensor<2x28x28x1xf32>, tensor<3x3x1x4xf32>) -> tensor<2x26x26x4xf32>
  // CHECK: -> tensor<2x13x13x4xf32>
  %1 = dlc.conv2d %e, %w {strides = array<i64: 2, 2>} : (tensor<2x28x28x1xf32>, tensor<3x3x1x4xf32>) -> tensor<2x13x13x4xf32>
  // CHECK: -> tensor<2x25x25x4xf32>
  %2 = dlc.conv2d %o, %w : (tensor<2x27x27x1xf32>, tensor<3x3x1x4xf32>) -> tensor<2x25x25x4xf32>
  // CHECK: -> tensor<2x13x13x4xf32>
  %3 = dlc.conv2d %o, %w {strides = array<i64: 2, 2>} : (tensor<2x27x27x1xf32>, tensor<3x3x1x4xf32>) -> tensor<2x13x13x4xf32>
  return
}

// -----

// same: ceil(in / s) whatever the kernel, odd and even, strides 1 and 2.
// CHECK-LABEL: func @conv_same
func.func @conv_same(%e: tensor<2x28x28x1xf32>, %o: tensor<2x7x7x1xf32>, %w: tensor<3x3x1x4xf32>, %w4: tensor<4x4x1x4xf32>) {
  // CHECK: -> tensor<2x28x28x4xf32>
  %0 = dlc.conv2d %e, %w {padding = #dlc.padding<same>} : (tensor<2x28x28x1xf32>, tensor<3x3x1x4xf32>) -> tensor<2x28x28x4xf32>
  // CHECK: -> tensor<2x14x14x4xf32>
  %1 = dlc.conv2d %e, %w {padding = #dlc.padding<same>, strides = array<i64: 2, 2>} : (tensor<2x28x28x1xf32>, tensor<3x3x1x4xf32>) -> tensor<2x14x14x4xf32>
  // CHECK: -> tensor<2x7x7x4xf32>
  %2 = dlc.conv2d %o, %w {padding = #dlc.padding<same>} : (tensor<2x7x7x1xf32>, tensor<3x3x1x4xf32>) -> tensor<2x7x7x4xf32>
  // CHECK: -> tensor<2x4x4x4xf32>
  %3 = dlc.conv2d %o, %w {padding = #dlc.padding<same>, strides = array<i64: 2, 2>} : (tensor<2x7x7x1xf32>, tensor<3x3x1x4xf32>) -> tensor<2x4x4x4xf32>
  // Even kernel: still ceil(in / s).
  // CHECK: -> tensor<2x4x4x4xf32>
  %4 = dlc.conv2d %o, %w4 {padding = #dlc.padding<same>, strides = array<i64: 2, 2>} : (tensor<2x7x7x1xf32>, tensor<4x4x1x4xf32>) -> tensor<2x4x4x4xf32>
  return
}

// -----

// Asymmetric kernels and strides act per dimension.
// CHECK-LABEL: func @conv_asymmetric
func.func @conv_asymmetric(%x: tensor<1x11x10x2xf32>, %w: tensor<5x3x2x3xf32>) {
  // CHECK: -> tensor<1x4x8x3xf32>
  %0 = dlc.conv2d %x, %w {strides = array<i64: 2, 1>} : (tensor<1x11x10x2xf32>, tensor<5x3x2x3xf32>) -> tensor<1x4x8x3xf32>
  // CHECK: -> tensor<1x6x10x3xf32>
  %1 = dlc.conv2d %x, %w {padding = #dlc.padding<same>, strides = array<i64: 2, 1>} : (tensor<1x11x10x2xf32>, tensor<5x3x2x3xf32>) -> tensor<1x6x10x3xf32>
  return
}

// -----

// Dilation widens the window to (k - 1) * d + 1 for valid padding only.
// CHECK-LABEL: func @conv_dilation
func.func @conv_dilation(%x: tensor<1x28x28x1xf32>, %y: tensor<1x9x9x1xf32>, %w: tensor<3x3x1x4xf32>) {
  // CHECK: -> tensor<1x24x24x4xf32>
  %0 = dlc.conv2d %x, %w {dilations = array<i64: 2, 2>} : (tensor<1x28x28x1xf32>, tensor<3x3x1x4xf32>) -> tensor<1x24x24x4xf32>
  // CHECK: -> tensor<1x28x28x4xf32>
  %1 = dlc.conv2d %x, %w {dilations = array<i64: 2, 2>, padding = #dlc.padding<same>} : (tensor<1x28x28x1xf32>, tensor<3x3x1x4xf32>) -> tensor<1x28x28x4xf32>
  // CHECK: -> tensor<1x3x3x4xf32>
  %2 = dlc.conv2d %y, %w {dilations = array<i64: 2, 2>, strides = array<i64: 2, 2>} : (tensor<1x9x9x1xf32>, tensor<3x3x1x4xf32>) -> tensor<1x3x3x4xf32>
  return
}

// -----

// Groups: the filter holds C / groups input channels; depthwise when groups == C.
// CHECK-LABEL: func @conv_groups
func.func @conv_groups(%x: tensor<1x8x8x8xf32>, %g: tensor<3x3x2x12xf32>, %d: tensor<3x3x1x8xf32>) {
  // CHECK: -> tensor<1x6x6x12xf32>
  %0 = dlc.conv2d %x, %g {groups = 4} : (tensor<1x8x8x8xf32>, tensor<3x3x2x12xf32>) -> tensor<1x6x6x12xf32>
  // CHECK: -> tensor<1x8x8x8xf32>
  %1 = dlc.conv2d %x, %d {groups = 8, padding = #dlc.padding<same>} : (tensor<1x8x8x8xf32>, tensor<3x3x1x8xf32>) -> tensor<1x8x8x8xf32>
  return
}

// -----

// Explicit pads [top, bottom, left, right].
// CHECK-LABEL: func @conv_explicit
func.func @conv_explicit(%x: tensor<1x8x8x1xf32>, %w: tensor<3x3x1x2xf32>) {
  // CHECK: -> tensor<1x9x9x2xf32>
  %0 = dlc.conv2d %x, %w {padding = #dlc.padding<explicit>, pads = array<i64: 1, 2, 0, 3>} : (tensor<1x8x8x1xf32>, tensor<3x3x1x2xf32>) -> tensor<1x9x9x2xf32>
  // CHECK: -> tensor<1x5x5x2xf32>
  %1 = dlc.conv2d %x, %w {padding = #dlc.padding<explicit>, pads = array<i64: 1, 2, 0, 3>, strides = array<i64: 2, 2>} : (tensor<1x8x8x1xf32>, tensor<3x3x1x2xf32>) -> tensor<1x5x5x2xf32>
  return
}

// -----

// Pooling follows the same rules with dilation 1.
// CHECK-LABEL: func @pooling
func.func @pooling(%x: tensor<1x25x25x3xf32>, %y: tensor<1x7x7x3xf32>) {
  // CHECK: -> tensor<1x12x12x3xf32>
  %0 = dlc.max_pool2d %x {pool_size = array<i64: 2, 2>, strides = array<i64: 2, 2>} : (tensor<1x25x25x3xf32>) -> tensor<1x12x12x3xf32>
  // CHECK: -> tensor<1x13x13x3xf32>
  %1 = dlc.max_pool2d %x {padding = #dlc.padding<same>, pool_size = array<i64: 2, 2>, strides = array<i64: 2, 2>} : (tensor<1x25x25x3xf32>) -> tensor<1x13x13x3xf32>
  // CHECK: -> tensor<1x4x4x3xf32>
  %2 = dlc.avg_pool2d %y {padding = #dlc.padding<same>, pool_size = array<i64: 3, 3>, strides = array<i64: 2, 2>} : (tensor<1x7x7x3xf32>) -> tensor<1x4x4x3xf32>
  // CHECK: -> tensor<1x3x3x3xf32>
  %3 = dlc.avg_pool2d %y {pool_size = array<i64: 3, 3>, strides = array<i64: 2, 2>} : (tensor<1x7x7x3xf32>) -> tensor<1x3x3x3xf32>
  // CHECK: -> tensor<1x5x5x3xf32>
  %4 = dlc.max_pool2d %y {pool_size = array<i64: 3, 3>, strides = array<i64: 1, 1>} : (tensor<1x7x7x3xf32>) -> tensor<1x5x5x3xf32>
  return
}

// -----

// Shape-preserving and reducing ops.
// CHECK-LABEL: func @others
func.func @others(%x: tensor<2x6x6x4xf32>, %l: tensor<2x10xf32>, %y: tensor<2xi32>) {
  // CHECK: -> tensor<2x144xf32>
  %0 = dlc.flatten %x : (tensor<2x6x6x4xf32>) -> tensor<2x144xf32>
  // CHECK: -> tensor<2x4xf32>
  %1 = dlc.global_avg_pool %x : (tensor<2x6x6x4xf32>) -> tensor<2x4xf32>
  // CHECK: -> tensor<2x4x4x4xf32>
  %2 = dlc.random_crop %x {height = 4, width = 4} : (tensor<2x6x6x4xf32>) -> tensor<2x4x4x4xf32>
  // CHECK: -> tensor<2x6x6x8xf32>
  %3 = dlc.concat %x, %x {axis = 3} : (tensor<2x6x6x4xf32>, tensor<2x6x6x4xf32>) -> tensor<2x6x6x8xf32>
  // CHECK: -> tensor<4x6x6x4xf32>
  %4 = dlc.concat %x, %x {axis = 0} : (tensor<2x6x6x4xf32>, tensor<2x6x6x4xf32>) -> tensor<4x6x6x4xf32>
  return
}
