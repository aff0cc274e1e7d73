// RUN: dlc-opt %s -split-input-file | FileCheck %s
// RUN: dlc-opt %s -split-input-file -mlir-print-op-generic | dlc-opt -split-input-file | FileCheck %s

// Every dlc op round-trips through the custom and the generic form.

// CHECK-LABEL: func @conv2d
func.func @conv2d(%x: tensor<8x28x28x3xf32>, %w: tensor<3x3x3x16xf32>, %b: tensor<16xf32>)
    -> (tensor<8x26x26x16xf32>, tensor<8x14x14x16xf32>, tensor<8x30x28x16xf32>) {
  // CHECK: dlc.conv2d %{{.*}}, %{{.*}} : (tensor<8x28x28x3xf32>, tensor<3x3x3x16xf32>) -> tensor<8x26x26x16xf32>
  %0 = dlc.conv2d %x, %w : (tensor<8x28x28x3xf32>, tensor<3x3x3x16xf32>) -> tensor<8x26x26x16xf32>
  // CHECK: dlc.conv2d %{{.*}}, %{{.*}}, %{{.*}} {padding = #dlc.padding<same>, strides = array<i64: 2, 2>}
  %1 = dlc.conv2d %x, %w, %b {padding = #dlc.padding<same>, strides = array<i64: 2, 2>}
      : (tensor<8x28x28x3xf32>, tensor<3x3x3x16xf32>, tensor<16xf32>) -> tensor<8x14x14x16xf32>
  // CHECK: dlc.conv2d {{.*}} {padding = #dlc.padding<explicit>, pads = array<i64: 2, 2, 1, 1>}
  %2 = dlc.conv2d %x, %w {padding = #dlc.padding<explicit>, pads = array<i64: 2, 2, 1, 1>}
      : (tensor<8x28x28x3xf32>, tensor<3x3x3x16xf32>) -> tensor<8x30x28x16xf32>
  return %0, %1, %2 : tensor<8x26x26x16xf32>, tensor<8x14x14x16xf32>, tensor<8x30x28x16xf32>
}

// -----

// CHECK-LABEL: func @dense_and_bias
func.func @dense_and_bias(%x: tensor<4x32xf32>, %w: tensor<32x10xf32>, %b: tensor<10xf32>)
    -> (tensor<4x10xf32>, tensor<4x10xf32>) {
  // CHECK: dlc.dense %{{.*}}, %{{.*}}, %{{.*}} : (tensor<4x32xf32>, tensor<32x10xf32>, tensor<10xf32>) -> tensor<4x10xf32>
  %0 = dlc.dense %x, %w, %b : (tensor<4x32xf32>, tensor<32x10xf32>, tensor<10xf32>) -> tensor<4x10xf32>
  // CHECK: dlc.dense %{{.*}}, %{{.*}} : (tensor<4x32xf32>, tensor<32x10xf32>) -> tensor<4x10xf32>
  %1 = dlc.dense %x, %w : (tensor<4x32xf32>, tensor<32x10xf32>) -> tensor<4x10xf32>
  // CHECK: dlc.bias_add %{{.*}}, %{{.*}} : (tensor<4x10xf32>, tensor<10xf32>) -> tensor<4x10xf32>
  %2 = dlc.bias_add %1, %b : (tensor<4x10xf32>, tensor<10xf32>) -> tensor<4x10xf32>
  return %0, %2 : tensor<4x10xf32>, tensor<4x10xf32>
}

// -----

// CHECK-LABEL: func @activations
func.func @activations(%x: tensor<4x10xf32>) -> tensor<4x10xf32> {
  // CHECK: dlc.relu %{{.*}} : tensor<4x10xf32>
  %0 = dlc.relu %x : tensor<4x10xf32>
  // CHECK: dlc.leaky_relu %{{.*}} {alpha = 1.000000e-01 : f32} : tensor<4x10xf32>
  %1 = dlc.leaky_relu %0 {alpha = 0.1 : f32} : tensor<4x10xf32>
  // CHECK: dlc.sigmoid %{{.*}} : tensor<4x10xf32>
  %2 = dlc.sigmoid %1 : tensor<4x10xf32>
  // CHECK: dlc.tanh %{{.*}} : tensor<4x10xf32>
  %3 = dlc.tanh %2 : tensor<4x10xf32>
  // CHECK: dlc.softmax %{{.*}} {axis = 0 : i64} : tensor<4x10xf32>
  %4 = dlc.softmax %3 {axis = 0} : tensor<4x10xf32>
  // CHECK: dlc.softmax %{{.*}} : tensor<4x10xf32>
  %5 = dlc.softmax %4 : tensor<4x10xf32>
  return %5 : tensor<4x10xf32>
}

// -----

// CHECK-LABEL: func @pooling
func.func @pooling(%x: tensor<2x24x24x8xf32>)
    -> (tensor<2x12x12x8xf32>, tensor<2x12x12x8xf32>, tensor<2x8xf32>) {
  // CHECK: dlc.max_pool2d %{{.*}} {pool_size = array<i64: 2, 2>, strides = array<i64: 2, 2>} : (tensor<2x24x24x8xf32>) -> tensor<2x12x12x8xf32>
  %0 = dlc.max_pool2d %x {pool_size = array<i64: 2, 2>, strides = array<i64: 2, 2>}
      : (tensor<2x24x24x8xf32>) -> tensor<2x12x12x8xf32>
  // CHECK: dlc.avg_pool2d %{{.*}} {padding = #dlc.padding<same>, pool_size = array<i64: 3, 3>, strides = array<i64: 2, 2>}
  %1 = dlc.avg_pool2d %x {padding = #dlc.padding<same>, pool_size = array<i64: 3, 3>, strides = array<i64: 2, 2>}
      : (tensor<2x24x24x8xf32>) -> tensor<2x12x12x8xf32>
  // CHECK: dlc.global_avg_pool %{{.*}} : (tensor<2x24x24x8xf32>) -> tensor<2x8xf32>
  %2 = dlc.global_avg_pool %x : (tensor<2x24x24x8xf32>) -> tensor<2x8xf32>
  // Explicit pads (PyTorch's MaxPool2d(3, 2, padding=1)): 24 + 2 -> 12.
  // CHECK: dlc.max_pool2d %{{.*}} {padding = #dlc.padding<explicit>, pads = array<i64: 1, 1, 1, 1>, pool_size = array<i64: 3, 3>, strides = array<i64: 2, 2>} : (tensor<2x24x24x8xf32>) -> tensor<2x12x12x8xf32>
  %3 = dlc.max_pool2d %x {padding = #dlc.padding<explicit>, pads = array<i64: 1, 1, 1, 1>, pool_size = array<i64: 3, 3>, strides = array<i64: 2, 2>}
      : (tensor<2x24x24x8xf32>) -> tensor<2x12x12x8xf32>
  return %0, %1, %2 : tensor<2x12x12x8xf32>, tensor<2x12x12x8xf32>, tensor<2x8xf32>
}

// -----

// CHECK-LABEL: func @reshaping
func.func @reshaping(%x: tensor<2x12x12x8xf32>) -> (tensor<2x1152xf32>, tensor<2x24x6x8xf32>) {
  // CHECK: dlc.flatten %{{.*}} : (tensor<2x12x12x8xf32>) -> tensor<2x1152xf32>
  %0 = dlc.flatten %x : (tensor<2x12x12x8xf32>) -> tensor<2x1152xf32>
  // CHECK: dlc.reshape %{{.*}} {shape = array<i64: 2, 24, -1, 8>} : (tensor<2x1152xf32>) -> tensor<2x24x6x8xf32>
  %1 = dlc.reshape %0 {shape = array<i64: 2, 24, -1, 8>} : (tensor<2x1152xf32>) -> tensor<2x24x6x8xf32>
  return %0, %1 : tensor<2x1152xf32>, tensor<2x24x6x8xf32>
}

// -----

// CHECK-LABEL: func @merging
func.func @merging(%a: tensor<2x7x7x16xf32>, %b: tensor<2x7x7x32xf32>) -> (tensor<2x7x7x16xf32>, tensor<2x7x7x48xf32>) {
  // CHECK: dlc.add %{{.*}}, %{{.*}} : tensor<2x7x7x16xf32>
  %0 = dlc.add %a, %a : tensor<2x7x7x16xf32>
  // CHECK: dlc.concat %{{.*}}, %{{.*}} : (tensor<2x7x7x16xf32>, tensor<2x7x7x32xf32>) -> tensor<2x7x7x48xf32>
  %1 = dlc.concat %0, %b : (tensor<2x7x7x16xf32>, tensor<2x7x7x32xf32>) -> tensor<2x7x7x48xf32>
  return %0, %1 : tensor<2x7x7x16xf32>, tensor<2x7x7x48xf32>
}

// -----

// CHECK-LABEL: func @dropout
func.func @dropout(%x: tensor<4x128xf32>, %key: i64) -> (tensor<4x128xf32>, tensor<4x128xf32>) {
  // CHECK: dlc.dropout %{{.*}}, %{{.*}} {rate = 2.500000e-01 : f32, stream = 3 : i64} : (tensor<4x128xf32>, i64) -> tensor<4x128xf32>
  %0 = dlc.dropout %x, %key {rate = 0.25 : f32, stream = 3} : (tensor<4x128xf32>, i64) -> tensor<4x128xf32>
  // CHECK: dlc.dropout %{{.*}} {rate = 5.000000e-01 : f32} : (tensor<4x128xf32>) -> tensor<4x128xf32>
  %1 = dlc.dropout %0 {rate = 0.5 : f32} : (tensor<4x128xf32>) -> tensor<4x128xf32>
  return %0, %1 : tensor<4x128xf32>, tensor<4x128xf32>
}

// -----

// CHECK-LABEL: func @batch_norm
func.func @batch_norm(%x: tensor<2x5x5x4xf32>, %g: tensor<4xf32>, %b: tensor<4xf32>,
                      %m: tensor<4xf32>, %v: tensor<4xf32>) -> tensor<2x5x5x4xf32> {
  // CHECK: dlc.batch_norm %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {epsilon = 9.99999974E-6 : f32}
  %0 = dlc.batch_norm %x, %g, %b, %m, %v {epsilon = 1.0e-5 : f32}
      : (tensor<2x5x5x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<2x5x5x4xf32>
  // CHECK: dlc.batch_norm_train %{{.*}} : (tensor<2x5x5x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> (tensor<2x5x5x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>)
  %1:5 = dlc.batch_norm_train %0, %g, %b, %m, %v
      : (tensor<2x5x5x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>)
     -> (tensor<2x5x5x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>)
  return %1#0 : tensor<2x5x5x4xf32>
}

// -----

// CHECK-LABEL: func @augmentation
func.func @augmentation(%x: tensor<2x32x32x3xf32>, %key: i64) -> tensor<2x24x24x3xf32> {
  // CHECK: dlc.random_flip %{{.*}}, %{{.*}} {mode = #dlc.flip_mode<horizontal>, stream = 1 : i64}
  %0 = dlc.random_flip %x, %key {mode = #dlc.flip_mode<horizontal>, stream = 1}
      : (tensor<2x32x32x3xf32>, i64) -> tensor<2x32x32x3xf32>
  // CHECK: dlc.random_translation %{{.*}}, %{{.*}} {fill_mode = #dlc.fill_mode<constant>, height_factor = array<f32: -1.000000e-01, 1.000000e-01>, stream = 2 : i64, width_factor = array<f32: 0.000000e+00, 2.000000e-01>}
  %1 = dlc.random_translation %0, %key {fill_mode = #dlc.fill_mode<constant>,
      height_factor = array<f32: -0.1, 0.1>, width_factor = array<f32: 0.0, 0.2>, stream = 2}
      : (tensor<2x32x32x3xf32>, i64) -> tensor<2x32x32x3xf32>
  // CHECK: dlc.random_crop %{{.*}}, %{{.*}} {height = 24 : i64, stream = 3 : i64, width = 24 : i64}
  %2 = dlc.random_crop %1, %key {height = 24, width = 24, stream = 3}
      : (tensor<2x32x32x3xf32>, i64) -> tensor<2x24x24x3xf32>
  // CHECK: dlc.random_crop %{{.*}} {height = 24 : i64, width = 24 : i64} : (tensor<2x32x32x3xf32>) -> tensor<2x24x24x3xf32>
  %3 = dlc.random_crop %1 {height = 24, width = 24} : (tensor<2x32x32x3xf32>) -> tensor<2x24x24x3xf32>
  return %3 : tensor<2x24x24x3xf32>
}

// -----

// CHECK-LABEL: func @losses_and_metrics
func.func @losses_and_metrics(%logits: tensor<8x10xf32>, %labels: tensor<8xi32>,
                              %p: tensor<8x1xf32>, %t: tensor<8x1xf32>)
    -> (tensor<f32>, tensor<f32>, tensor<f32>, tensor<i32>) {
  // CHECK: dlc.softmax_cross_entropy %{{.*}}, %{{.*}} : (tensor<8x10xf32>, tensor<8xi32>) -> tensor<f32>
  %0 = dlc.softmax_cross_entropy %logits, %labels : (tensor<8x10xf32>, tensor<8xi32>) -> tensor<f32>
  // CHECK: dlc.mse %{{.*}}, %{{.*}} : (tensor<8x1xf32>, tensor<8x1xf32>) -> tensor<f32>
  %1 = dlc.mse %p, %t : (tensor<8x1xf32>, tensor<8x1xf32>) -> tensor<f32>
  // CHECK: dlc.binary_cross_entropy %{{.*}}, %{{.*}} {from_logits} : (tensor<8x1xf32>, tensor<8x1xf32>) -> tensor<f32>
  %2 = dlc.binary_cross_entropy %p, %t {from_logits} : (tensor<8x1xf32>, tensor<8x1xf32>) -> tensor<f32>
  // CHECK: dlc.accuracy %{{.*}}, %{{.*}} : (tensor<8x10xf32>, tensor<8xi32>) -> tensor<i32>
  %3 = dlc.accuracy %logits, %labels : (tensor<8x10xf32>, tensor<8xi32>) -> tensor<i32>
  return %0, %1, %2, %3 : tensor<f32>, tensor<f32>, tensor<f32>, tensor<i32>
}

// -----

// CHECK-LABEL: func @conv_gradients
func.func @conv_gradients(%x: tensor<8x28x28x3xf32>, %w: tensor<3x3x3x16xf32>, %dy: tensor<8x14x14x16xf32>)
    -> (tensor<8x28x28x3xf32>, tensor<3x3x3x16xf32>, tensor<16xf32>) {
  // CHECK: dlc.conv2d_grad_input %{{.*}}, %{{.*}} {input_shape = array<i64: 8, 28, 28, 3>, padding = #dlc.padding<same>, strides = array<i64: 2, 2>}
  %0 = dlc.conv2d_grad_input %dy, %w {input_shape = array<i64: 8, 28, 28, 3>, padding = #dlc.padding<same>, strides = array<i64: 2, 2>}
      : (tensor<8x14x14x16xf32>, tensor<3x3x3x16xf32>) -> tensor<8x28x28x3xf32>
  // CHECK: dlc.conv2d_grad_filter %{{.*}}, %{{.*}} {kernel_size = array<i64: 3, 3>, padding = #dlc.padding<same>, strides = array<i64: 2, 2>}
  %1 = dlc.conv2d_grad_filter %x, %dy {kernel_size = array<i64: 3, 3>, padding = #dlc.padding<same>, strides = array<i64: 2, 2>}
      : (tensor<8x28x28x3xf32>, tensor<8x14x14x16xf32>) -> tensor<3x3x3x16xf32>
  // CHECK: dlc.channel_sum %{{.*}} : (tensor<8x14x14x16xf32>) -> tensor<16xf32>
  %2 = dlc.channel_sum %dy : (tensor<8x14x14x16xf32>) -> tensor<16xf32>
  return %0, %1, %2 : tensor<8x28x28x3xf32>, tensor<3x3x3x16xf32>, tensor<16xf32>
}

// -----

// CHECK-LABEL: func @dense_and_activation_gradients
func.func @dense_and_activation_gradients(%x: tensor<4x32xf32>, %w: tensor<32x10xf32>, %dy: tensor<4x10xf32>, %y: tensor<4x10xf32>)
    -> (tensor<4x32xf32>, tensor<32x10xf32>, tensor<4x10xf32>) {
  // CHECK: dlc.matmul %{{.*}}, %{{.*}} {transpose_rhs} : (tensor<4x10xf32>, tensor<32x10xf32>) -> tensor<4x32xf32>
  %0 = dlc.matmul %dy, %w {transpose_rhs} : (tensor<4x10xf32>, tensor<32x10xf32>) -> tensor<4x32xf32>
  // CHECK: dlc.matmul %{{.*}}, %{{.*}} {transpose_lhs} : (tensor<4x32xf32>, tensor<4x10xf32>) -> tensor<32x10xf32>
  %1 = dlc.matmul %x, %dy {transpose_lhs} : (tensor<4x32xf32>, tensor<4x10xf32>) -> tensor<32x10xf32>
  // CHECK: dlc.relu_grad %{{.*}}, %{{.*}} : tensor<4x10xf32>
  %2 = dlc.relu_grad %dy, %y : tensor<4x10xf32>
  // CHECK: dlc.leaky_relu_grad %{{.*}}, %{{.*}} {alpha = 1.000000e-01 : f32} : tensor<4x10xf32>
  %3 = dlc.leaky_relu_grad %2, %y {alpha = 0.1 : f32} : tensor<4x10xf32>
  // CHECK: dlc.sigmoid_grad
  %4 = dlc.sigmoid_grad %3, %y : tensor<4x10xf32>
  // CHECK: dlc.tanh_grad
  %5 = dlc.tanh_grad %4, %y : tensor<4x10xf32>
  // CHECK: dlc.softmax_grad %{{.*}}, %{{.*}} : tensor<4x10xf32>
  %6 = dlc.softmax_grad %5, %y : tensor<4x10xf32>
  return %0, %1, %6 : tensor<4x32xf32>, tensor<32x10xf32>, tensor<4x10xf32>
}

// -----

// CHECK-LABEL: func @pool_gradients
func.func @pool_gradients(%x: tensor<2x24x24x8xf32>, %dy: tensor<2x12x12x8xf32>, %dg: tensor<2x8xf32>)
    -> (tensor<2x24x24x8xf32>, tensor<2x24x24x8xf32>, tensor<2x24x24x8xf32>) {
  // CHECK: dlc.max_pool2d_grad %{{.*}}, %{{.*}} {pool_size = array<i64: 2, 2>, strides = array<i64: 2, 2>}
  %0 = dlc.max_pool2d_grad %dy, %x {pool_size = array<i64: 2, 2>, strides = array<i64: 2, 2>}
      : (tensor<2x12x12x8xf32>, tensor<2x24x24x8xf32>) -> tensor<2x24x24x8xf32>
  // CHECK: dlc.avg_pool2d_grad %{{.*}} {input_shape = array<i64: 2, 24, 24, 8>, padding = #dlc.padding<same>, pool_size = array<i64: 3, 3>, strides = array<i64: 2, 2>}
  %1 = dlc.avg_pool2d_grad %dy {input_shape = array<i64: 2, 24, 24, 8>, padding = #dlc.padding<same>, pool_size = array<i64: 3, 3>, strides = array<i64: 2, 2>}
      : (tensor<2x12x12x8xf32>) -> tensor<2x24x24x8xf32>
  // CHECK: dlc.global_avg_pool_grad %{{.*}} {input_shape = array<i64: 2, 24, 24, 8>} : (tensor<2x8xf32>) -> tensor<2x24x24x8xf32>
  %2 = dlc.global_avg_pool_grad %dg {input_shape = array<i64: 2, 24, 24, 8>} : (tensor<2x8xf32>) -> tensor<2x24x24x8xf32>
  return %0, %1, %2 : tensor<2x24x24x8xf32>, tensor<2x24x24x8xf32>, tensor<2x24x24x8xf32>
}

// -----

// CHECK-LABEL: func @batch_norm_and_loss_gradients
func.func @batch_norm_and_loss_gradients(%dy: tensor<2x5x5x4xf32>, %x: tensor<2x5x5x4xf32>, %v: tensor<4xf32>,
    %logits: tensor<8x10xf32>, %labels: tensor<8xi32>, %p: tensor<8x1xf32>, %t: tensor<8x1xf32>, %one: tensor<f32>)
    -> (tensor<2x5x5x4xf32>, tensor<8x10xf32>, tensor<8x1xf32>, tensor<8x1xf32>) {
  // CHECK: dlc.batch_norm_grad {{.*}} -> (tensor<2x5x5x4xf32>, tensor<4xf32>, tensor<4xf32>)
  %0:3 = dlc.batch_norm_grad %dy, %x, %v, %v, %v
      : (tensor<2x5x5x4xf32>, tensor<2x5x5x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>)
     -> (tensor<2x5x5x4xf32>, tensor<4xf32>, tensor<4xf32>)
  // CHECK: dlc.softmax_cross_entropy_grad {{.*}} -> tensor<8x10xf32>
  %1 = dlc.softmax_cross_entropy_grad %logits, %labels, %one : (tensor<8x10xf32>, tensor<8xi32>, tensor<f32>) -> tensor<8x10xf32>
  // CHECK: dlc.mse_grad {{.*}} -> tensor<8x1xf32>
  %2 = dlc.mse_grad %p, %t, %one : (tensor<8x1xf32>, tensor<8x1xf32>, tensor<f32>) -> tensor<8x1xf32>
  // CHECK: dlc.binary_cross_entropy_grad {{.*}} {from_logits} {{.*}} -> tensor<8x1xf32>
  %3 = dlc.binary_cross_entropy_grad %p, %t, %one {from_logits} : (tensor<8x1xf32>, tensor<8x1xf32>, tensor<f32>) -> tensor<8x1xf32>
  return %0#0, %1, %2, %3 : tensor<2x5x5x4xf32>, tensor<8x10xf32>, tensor<8x1xf32>, tensor<8x1xf32>
}

// -----

// CHECK-LABEL: func @optimizer_updates
func.func @optimizer_updates(%p: tensor<16xf32>, %g: tensor<16xf32>, %s: tensor<16xf32>, %lr: f32, %t: i64) -> tensor<16xf32> {
  // CHECK: dlc.sgd_update %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {momentum = 0.899999976 : f32, nesterov} : tensor<16xf32>, f32
  %0:2 = dlc.sgd_update %p, %g, %s, %lr {momentum = 0.9 : f32, nesterov} : tensor<16xf32>, f32
  // CHECK: dlc.adam_update %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {decoupled_weight_decay, weight_decay = 0.00999999977 : f32} : tensor<16xf32>, f32, i64
  %1:3 = dlc.adam_update %0#0, %g, %s, %s, %lr, %t {decoupled_weight_decay, weight_decay = 0.01 : f32} : tensor<16xf32>, f32, i64
  // ONNX's Momentum and Adam (the step operand of sgd_update is optional).
  // CHECK: dlc.sgd_update %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {dampening = 5.000000e-01 : f32, momentum = 0.899999976 : f32} : tensor<16xf32>, f32, i64
  %2:2 = dlc.sgd_update %1#0, %g, %s, %lr, %t {dampening = 0.5 : f32, momentum = 0.9 : f32} : tensor<16xf32>, f32, i64
  // CHECK: dlc.adam_update %{{.*}} {epsilon_hat, post_decay = 2.000000e-02 : f32} : tensor<16xf32>, f32, i64
  %3:3 = dlc.adam_update %2#0, %g, %s, %s, %lr, %t {epsilon_hat, post_decay = 0.02 : f32} : tensor<16xf32>, f32, i64
  return %3#0 : tensor<16xf32>
}
