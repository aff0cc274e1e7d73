// RUN: dlc-opt %s -split-input-file -dlc-fold-batch-norm | FileCheck %s

// Inference conv + batch norm + relu: one convolution on folded parameters,
// then the relu.

// CHECK-LABEL: func @conv_bn_relu
// CHECK-SAME: (%[[X:[^:]+]]: {{[^,]*}}, %[[K:[^:]+]]: {{[^,]*}}, %[[G:[^:]+]]: {{[^,]*}}, %[[B:[^:]+]]: {{[^,]*}}, %[[M:[^:]+]]: {{[^,]*}}, %[[V:[^:]+]]: {{[^,]*}})
// CHECK: %[[W:.*]], %[[NB:.*]] = dlc.fold_batch_norm_params %[[K]], %[[G]], %[[B]], %[[M]], %[[V]] {epsilon = 9.99999974E-6 : f32}
// CHECK: %[[C:.*]] = dlc.conv2d %[[X]], %[[W]], %[[NB]] {padding = #dlc.padding<same>, strides = array<i64: 2, 2>}
// CHECK-NOT: dlc.batch_norm
// CHECK: %[[R:.*]] = dlc.relu %[[C]]
// CHECK: return %[[R]]
func.func @conv_bn_relu(%x: tensor<2x8x8x3xf32>, %k: tensor<3x3x3x4xf32>, %g: tensor<4xf32>, %b: tensor<4xf32>,
                        %m: tensor<4xf32>, %v: tensor<4xf32>) -> tensor<2x4x4x4xf32> {
  %c = dlc.conv2d %x, %k {padding = #dlc.padding<same>, strides = array<i64: 2, 2>}
      : (tensor<2x8x8x3xf32>, tensor<3x3x3x4xf32>) -> tensor<2x4x4x4xf32>
  %y = dlc.batch_norm %c, %g, %b, %m, %v {epsilon = 1.0e-5 : f32}
      : (tensor<2x4x4x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<2x4x4x4xf32>
  %r = dlc.relu %y : tensor<2x4x4x4xf32>
  return %r : tensor<2x4x4x4xf32>
}

// -----

// The convolution's own bias is folded too; a grouped convolution keeps its
// groups (the filter's last dimension is still the output channel).
// CHECK-LABEL: func @conv_bias_groups
// CHECK-SAME: (%{{[^:]+}}: {{[^,]*}}, %[[K:[^:]+]]: {{[^,]*}}, %[[BIAS:[^:]+]]: {{[^,]*}}, %[[V:[^:]+]]: {{[^,]*}})
// CHECK: %[[W:.*]], %[[NB:.*]] = dlc.fold_batch_norm_params %[[K]], %[[BIAS]], %[[V]], %[[V]], %[[V]], %[[V]] :
// CHECK: dlc.conv2d %{{.*}}, %[[W]], %[[NB]] {groups = 2 : i64}
func.func @conv_bias_groups(%x: tensor<2x8x8x4xf32>, %k: tensor<3x3x2x4xf32>, %bias: tensor<4xf32>, %v: tensor<4xf32>)
    -> tensor<2x6x6x4xf32> {
  %c = dlc.conv2d %x, %k, %bias {groups = 2 : i64} : (tensor<2x8x8x4xf32>, tensor<3x3x2x4xf32>, tensor<4xf32>) -> tensor<2x6x6x4xf32>
  %y = dlc.batch_norm %c, %v, %v, %v, %v
      : (tensor<2x6x6x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<2x6x6x4xf32>
  return %y : tensor<2x6x6x4xf32>
}

// -----

// The convolution's output is also returned: it stays, and so does the
// batch norm (folding would compute the convolution twice).
// CHECK-LABEL: func @conv_two_users
// CHECK-NOT: dlc.fold_batch_norm_params
// CHECK: dlc.batch_norm
func.func @conv_two_users(%x: tensor<2x4x4x4xf32>, %k: tensor<1x1x4x4xf32>, %v: tensor<4xf32>)
    -> (tensor<2x4x4x4xf32>, tensor<2x4x4x4xf32>) {
  %c = dlc.conv2d %x, %k : (tensor<2x4x4x4xf32>, tensor<1x1x4x4xf32>) -> tensor<2x4x4x4xf32>
  %y = dlc.batch_norm %c, %v, %v, %v, %v
      : (tensor<2x4x4x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<2x4x4x4xf32>
  return %c, %y : tensor<2x4x4x4xf32>, tensor<2x4x4x4xf32>
}

// -----

// Relu before batch norm, and batch norm after dense: no convolution feeds
// the batch norm directly; nothing folds.
// CHECK-LABEL: func @not_after_conv
// CHECK-NOT: dlc.fold_batch_norm_params
// CHECK: dlc.batch_norm
// CHECK: dlc.batch_norm
func.func @not_after_conv(%x: tensor<2x4x4x4xf32>, %k: tensor<1x1x4x4xf32>, %v: tensor<4xf32>,
                          %d: tensor<4x8xf32>, %w: tensor<8x4xf32>) -> (tensor<2x4x4x4xf32>, tensor<4x4xf32>) {
  %c = dlc.conv2d %x, %k : (tensor<2x4x4x4xf32>, tensor<1x1x4x4xf32>) -> tensor<2x4x4x4xf32>
  %r = dlc.relu %c : tensor<2x4x4x4xf32>
  %y = dlc.batch_norm %r, %v, %v, %v, %v
      : (tensor<2x4x4x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<2x4x4x4xf32>
  %e = dlc.dense %d, %w : (tensor<4x8xf32>, tensor<8x4xf32>) -> tensor<4x4xf32>
  %z = dlc.batch_norm %e, %v, %v, %v, %v
      : (tensor<4x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<4x4xf32>
  return %y, %z : tensor<2x4x4x4xf32>, tensor<4x4xf32>
}

// -----

// The training form uses batch statistics: never folded.
// CHECK-LABEL: func @train_form
// CHECK-NOT: dlc.fold_batch_norm_params
// CHECK: dlc.batch_norm_train
func.func @train_form(%x: tensor<2x4x4x4xf32>, %k: tensor<1x1x4x4xf32>, %v: tensor<4xf32>) -> tensor<2x4x4x4xf32> {
  %c = dlc.conv2d %x, %k : (tensor<2x4x4x4xf32>, tensor<1x1x4x4xf32>) -> tensor<2x4x4x4xf32>
  %y:5 = dlc.batch_norm_train %c, %v, %v, %v, %v : (tensor<2x4x4x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>)
      -> (tensor<2x4x4x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>)
  return %y#0 : tensor<2x4x4x4xf32>
}
