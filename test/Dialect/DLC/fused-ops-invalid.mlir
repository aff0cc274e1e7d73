// RUN: dlc-opt %s -split-input-file -verify-diagnostics

// Every verifier message of the fused ops (the shape rules they share with
// conv2d and batch_norm_train are covered in invalid.mlir).

func.func @conv2d_bn_stats_result(%x: tensor<1x8x8x3xf32>, %w: tensor<3x3x3x4xf32>) {
  // expected-error @+1 {{'dlc.conv2d_bn_stats' op result #1 has type 'tensor<3xf64>' but the shape rule gives 'tensor<4xf64>'}}
  %0:3 = dlc.conv2d_bn_stats %x, %w : (tensor<1x8x8x3xf32>, tensor<3x3x3x4xf32>) -> (tensor<1x6x6x4xf32>, tensor<3xf64>, tensor<4xf64>)
  return
}

// -----

func.func @conv2d_bn_stats_f32_sums(%x: tensor<1x8x8x3xf32>, %w: tensor<3x3x3x4xf32>) {
  // expected-error @+1 {{'dlc.conv2d_bn_stats' op result #1 must be statically shaped 1D tensor of f64, but got 'tensor<4xf32>'}}
  %0:3 = dlc.conv2d_bn_stats %x, %w : (tensor<1x8x8x3xf32>, tensor<3x3x3x4xf32>) -> (tensor<1x6x6x4xf32>, tensor<4xf32>, tensor<4xf32>)
  return
}

// -----

func.func @conv2d_bn_stats_groups(%x: tensor<1x8x8x3xf32>, %w: tensor<3x3x3x4xf32>) {
  // expected-error @+1 {{'dlc.conv2d_bn_stats' op input channels (3) must be divisible by groups (2)}}
  %0:3 = dlc.conv2d_bn_stats %x, %w {groups = 2} : (tensor<1x8x8x3xf32>, tensor<3x3x3x4xf32>) -> (tensor<1x6x6x4xf32>, tensor<4xf64>, tensor<4xf64>)
  return
}

// -----

func.func @batch_norm_train_apply_sum(%x: tensor<2x4xf32>, %v: tensor<4xf32>, %d: tensor<4xf64>, %s: tensor<3xf64>) {
  // expected-error @+1 {{'dlc.batch_norm_train_apply' op sum_squares has 3 elements but the input has 4 channels}}
  %0:5 = dlc.batch_norm_train_apply %x, %d, %s, %v, %v, %v, %v : (tensor<2x4xf32>, tensor<4xf64>, tensor<3xf64>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> (tensor<2x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>)
  return
}

// -----

func.func @batch_norm_train_apply_momentum(%x: tensor<2x4xf32>, %d: tensor<4xf64>, %v: tensor<4xf32>) {
  // expected-error @+1 {{'dlc.batch_norm_train_apply' op momentum must be in [0, 1], got 1.500000e+00}}
  %0:5 = dlc.batch_norm_train_apply %x, %d, %d, %v, %v, %v, %v {momentum = 1.5 : f32} : (tensor<2x4xf32>, tensor<4xf64>, tensor<4xf64>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> (tensor<2x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>)
  return
}

// -----

func.func @batch_norm_train_apply_epsilon(%x: tensor<2x4xf32>, %d: tensor<4xf64>, %v: tensor<4xf32>) {
  // expected-error @+1 {{'dlc.batch_norm_train_apply' op epsilon must be positive, got 0.000000e+00}}
  %0:5 = dlc.batch_norm_train_apply %x, %d, %d, %v, %v, %v, %v {epsilon = 0.0 : f32} : (tensor<2x4xf32>, tensor<4xf64>, tensor<4xf64>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> (tensor<2x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>)
  return
}

// -----

func.func @batch_norm_relu_grad_output_grad(%dy: tensor<2x5xf32>, %x: tensor<2x4xf32>, %v: tensor<4xf32>) {
  // expected-error @+1 {{'dlc.batch_norm_relu_grad' op output_grad has type 'tensor<2x5xf32>' but the forward op produces 'tensor<2x4xf32>'}}
  %0:3 = dlc.batch_norm_relu_grad %dy, %x, %x, %v, %v, %v : (tensor<2x5xf32>, tensor<2x4xf32>, tensor<2x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> (tensor<2x4xf32>, tensor<4xf32>, tensor<4xf32>)
  return
}

// -----

func.func @batch_norm_relu_grad_output(%y: tensor<3x4xf32>, %x: tensor<2x4xf32>, %v: tensor<4xf32>) {
  // expected-error @+1 {{'dlc.batch_norm_relu_grad' op output has type 'tensor<3x4xf32>' but the input has type 'tensor<2x4xf32>'}}
  %0:3 = dlc.batch_norm_relu_grad %x, %y, %x, %v, %v, %v : (tensor<2x4xf32>, tensor<3x4xf32>, tensor<2x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> (tensor<2x4xf32>, tensor<4xf32>, tensor<4xf32>)
  return
}

// -----

func.func @batch_norm_relu_grad_gamma(%x: tensor<2x4xf32>, %v: tensor<4xf32>, %g: tensor<5xf32>) {
  // expected-error @+1 {{'dlc.batch_norm_relu_grad' op gamma has 5 elements but the input has 4 channels}}
  %0:3 = dlc.batch_norm_relu_grad %x, %x, %x, %g, %v, %v : (tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>, tensor<5xf32>, tensor<4xf32>, tensor<4xf32>) -> (tensor<2x4xf32>, tensor<4xf32>, tensor<4xf32>)
  return
}

// -----

func.func @fold_batch_norm_params_bias(%w: tensor<3x3x2x8xf32>, %v: tensor<8xf32>, %b: tensor<4xf32>) {
  // expected-error @+1 {{'dlc.fold_batch_norm_params' op bias must have 8 elements, one per filter}}
  %0:2 = dlc.fold_batch_norm_params %w, %b, %v, %v, %v, %v : (tensor<3x3x2x8xf32>, tensor<4xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>) -> (tensor<3x3x2x8xf32>, tensor<8xf32>)
  return
}

// -----

func.func @fold_batch_norm_params_epsilon(%w: tensor<3x3x2x8xf32>, %v: tensor<8xf32>) {
  // expected-error @+1 {{'dlc.fold_batch_norm_params' op epsilon must be positive, got -1.000000e+00}}
  %0:2 = dlc.fold_batch_norm_params %w, %v, %v, %v, %v {epsilon = -1.0 : f32} : (tensor<3x3x2x8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>) -> (tensor<3x3x2x8xf32>, tensor<8xf32>)
  return
}

// -----

func.func @softmax_cross_entropy_with_grad_labels(%l: tensor<8x10xf32>, %y: tensor<4xi32>, %g: tensor<f32>) {
  // expected-error @+1 {{'dlc.softmax_cross_entropy_with_grad' op labels have 4 entries but logits have a batch of 8}}
  %0:2 = dlc.softmax_cross_entropy_with_grad %l, %y, %g : (tensor<8x10xf32>, tensor<4xi32>, tensor<f32>) -> (tensor<f32>, tensor<8x10xf32>)
  return
}

// -----

func.func @softmax_cross_entropy_with_grad_no_class(%l: tensor<8x0xf32>, %y: tensor<8xi32>, %g: tensor<f32>) {
  // expected-error @+1 {{'dlc.softmax_cross_entropy_with_grad' op logits must have at least one class}}
  %0:2 = dlc.softmax_cross_entropy_with_grad %l, %y, %g : (tensor<8x0xf32>, tensor<8xi32>, tensor<f32>) -> (tensor<f32>, tensor<8x0xf32>)
  return
}

// -----

func.func @softmax_cross_entropy_with_grad_result(%l: tensor<8x10xf32>, %y: tensor<8xi32>, %g: tensor<f32>) {
  // expected-error @+1 {{'dlc.softmax_cross_entropy_with_grad' op result #1 has type 'tensor<8x5xf32>' but the shape rule gives 'tensor<8x10xf32>'}}
  %0:2 = dlc.softmax_cross_entropy_with_grad %l, %y, %g : (tensor<8x10xf32>, tensor<8xi32>, tensor<f32>) -> (tensor<f32>, tensor<8x5xf32>)
  return
}

// -----

func.func @softmax_cross_entropy_with_grad_seed(%l: tensor<8x10xf32>, %y: tensor<8xi32>, %g: tensor<1xf32>) {
  // expected-error @+1 {{'dlc.softmax_cross_entropy_with_grad' op operand #2 must be 0D tensor of 32-bit float values, but got 'tensor<1xf32>'}}
  %0:2 = dlc.softmax_cross_entropy_with_grad %l, %y, %g : (tensor<8x10xf32>, tensor<8xi32>, tensor<1xf32>) -> (tensor<f32>, tensor<8x10xf32>)
  return
}
