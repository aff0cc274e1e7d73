// RUN: dlc-opt %s -split-input-file -verify-diagnostics

// Every verifier message of the dlc dialect, once each.

func.func @conv2d_strides(%x: tensor<1x8x8x3xf32>, %w: tensor<3x3x3x4xf32>) {
  // expected-error @+1 {{'dlc.conv2d' op strides must be positive, got [0, 1]}}
  %0 = dlc.conv2d %x, %w {strides = array<i64: 0, 1>} : (tensor<1x8x8x3xf32>, tensor<3x3x3x4xf32>) -> tensor<1x6x6x4xf32>
  return
}

// -----

func.func @conv2d_dilations(%x: tensor<1x8x8x3xf32>, %w: tensor<3x3x3x4xf32>) {
  // expected-error @+1 {{'dlc.conv2d' op dilations must be positive, got [1, -2]}}
  %0 = dlc.conv2d %x, %w {dilations = array<i64: 1, -2>} : (tensor<1x8x8x3xf32>, tensor<3x3x3x4xf32>) -> tensor<1x6x6x4xf32>
  return
}

// -----

func.func @conv2d_strides_count(%x: tensor<1x8x8x3xf32>, %w: tensor<3x3x3x4xf32>) {
  // expected-error @+1 {{'dlc.conv2d' op attribute 'strides' failed to satisfy constraint: i64 dense array attribute with exactly 2 elements}}
  %0 = dlc.conv2d %x, %w {strides = array<i64: 1, 1, 1>} : (tensor<1x8x8x3xf32>, tensor<3x3x3x4xf32>) -> tensor<1x6x6x4xf32>
  return
}

// -----

func.func @conv2d_groups(%x: tensor<1x8x8x4xf32>, %w: tensor<3x3x4x4xf32>) {
  // expected-error @+1 {{'dlc.conv2d' op groups must be positive, got 0}}
  %0 = dlc.conv2d %x, %w {groups = 0} : (tensor<1x8x8x4xf32>, tensor<3x3x4x4xf32>) -> tensor<1x6x6x4xf32>
  return
}

// -----

func.func @conv2d_pads_count(%x: tensor<1x8x8x3xf32>, %w: tensor<3x3x3x4xf32>) {
  // expected-error @+1 {{'dlc.conv2d' op pads must have 4 entries [top, bottom, left, right], got 2}}
  %0 = dlc.conv2d %x, %w {padding = #dlc.padding<explicit>, pads = array<i64: 1, 1>} : (tensor<1x8x8x3xf32>, tensor<3x3x3x4xf32>) -> tensor<1x8x8x4xf32>
  return
}

// -----

func.func @conv2d_pads_negative(%x: tensor<1x8x8x3xf32>, %w: tensor<3x3x3x4xf32>) {
  // expected-error @+1 {{'dlc.conv2d' op pads must be non-negative, got [1, -1, 0, 0]}}
  %0 = dlc.conv2d %x, %w {padding = #dlc.padding<explicit>, pads = array<i64: 1, -1, 0, 0>} : (tensor<1x8x8x3xf32>, tensor<3x3x3x4xf32>) -> tensor<1x6x6x4xf32>
  return
}

// -----

func.func @conv2d_pads_without_explicit(%x: tensor<1x8x8x3xf32>, %w: tensor<3x3x3x4xf32>) {
  // expected-error @+1 {{'dlc.conv2d' op pads [1, 1, 1, 1] require explicit padding, not same}}
  %0 = dlc.conv2d %x, %w {padding = #dlc.padding<same>, pads = array<i64: 1, 1, 1, 1>} : (tensor<1x8x8x3xf32>, tensor<3x3x3x4xf32>) -> tensor<1x8x8x4xf32>
  return
}

// -----

func.func @conv2d_channels_vs_groups(%x: tensor<1x8x8x6xf32>, %w: tensor<3x3x2x8xf32>) {
  // expected-error @+1 {{'dlc.conv2d' op input channels (6) must be divisible by groups (4)}}
  %0 = dlc.conv2d %x, %w {groups = 4} : (tensor<1x8x8x6xf32>, tensor<3x3x2x8xf32>) -> tensor<1x6x6x8xf32>
  return
}

// -----

func.func @conv2d_filters_vs_groups(%x: tensor<1x8x8x6xf32>, %w: tensor<3x3x3x5xf32>) {
  // expected-error @+1 {{'dlc.conv2d' op filters (5) must be divisible by groups (2)}}
  %0 = dlc.conv2d %x, %w {groups = 2} : (tensor<1x8x8x6xf32>, tensor<3x3x3x5xf32>) -> tensor<1x6x6x5xf32>
  return
}

// -----

func.func @conv2d_filter_channels(%x: tensor<1x8x8x3xf32>, %w: tensor<3x3x1x4xf32>) {
  // expected-error @+1 {{'dlc.conv2d' op filter expects 1 input channels per group but the input has 3 channels in 1 group(s)}}
  %0 = dlc.conv2d %x, %w : (tensor<1x8x8x3xf32>, tensor<3x3x1x4xf32>) -> tensor<1x6x6x4xf32>
  return
}

// -----

func.func @conv2d_bias(%x: tensor<1x8x8x3xf32>, %w: tensor<3x3x3x4xf32>, %b: tensor<3xf32>) {
  // expected-error @+1 {{'dlc.conv2d' op bias must have 4 elements, one per filter}}
  %0 = dlc.conv2d %x, %w, %b : (tensor<1x8x8x3xf32>, tensor<3x3x3x4xf32>, tensor<3xf32>) -> tensor<1x6x6x4xf32>
  return
}

// -----

func.func @conv2d_kernel_too_large(%x: tensor<1x4x4x3xf32>, %w: tensor<3x3x3x4xf32>) {
  // expected-error @+1 {{'dlc.conv2d' op dilated kernel (5x5) is larger than the input (4x4)}}
  %0 = dlc.conv2d %x, %w {dilations = array<i64: 2, 2>} : (tensor<1x4x4x3xf32>, tensor<3x3x3x4xf32>) -> tensor<1x1x1x4xf32>
  return
}

// -----

func.func @conv2d_wrong_result(%x: tensor<1x8x8x3xf32>, %w: tensor<3x3x3x4xf32>) {
  // expected-error @+1 {{'dlc.conv2d' op result #0 has type 'tensor<1x6x6x4xf32>' but the shape rule gives 'tensor<1x8x8x4xf32>'}}
  %0 = dlc.conv2d %x, %w {padding = #dlc.padding<same>} : (tensor<1x8x8x3xf32>, tensor<3x3x3x4xf32>) -> tensor<1x6x6x4xf32>
  return
}

// -----

func.func @conv2d_rank(%x: tensor<8x8x3xf32>, %w: tensor<3x3x3x4xf32>) {
  // expected-error @+1 {{'dlc.conv2d' op operand #0 must be statically shaped 4D tensor of f32, but got 'tensor<8x8x3xf32>'}}
  %0 = dlc.conv2d %x, %w : (tensor<8x8x3xf32>, tensor<3x3x3x4xf32>) -> tensor<1x6x6x4xf32>
  return
}

// -----

func.func @conv2d_dynamic(%x: tensor<?x8x8x3xf32>, %w: tensor<3x3x3x4xf32>) {
  // expected-error @+1 {{'dlc.conv2d' op operand #0 must be statically shaped 4D tensor of f32, but got 'tensor<?x8x8x3xf32>'}}
  %0 = dlc.conv2d %x, %w : (tensor<?x8x8x3xf32>, tensor<3x3x3x4xf32>) -> tensor<1x6x6x4xf32>
  return
}

// -----

func.func @dense_features(%x: tensor<4x16xf32>, %w: tensor<32x10xf32>) {
  // expected-error @+1 {{'dlc.dense' op input has 16 features but the kernel expects 32}}
  %0 = dlc.dense %x, %w : (tensor<4x16xf32>, tensor<32x10xf32>) -> tensor<4x10xf32>
  return
}

// -----

func.func @dense_bias(%x: tensor<4x32xf32>, %w: tensor<32x10xf32>, %b: tensor<32xf32>) {
  // expected-error @+1 {{'dlc.dense' op bias must have 10 elements, one per unit}}
  %0 = dlc.dense %x, %w, %b : (tensor<4x32xf32>, tensor<32x10xf32>, tensor<32xf32>) -> tensor<4x10xf32>
  return
}

// -----

func.func @bias_add_scalar(%x: tensor<f32>, %b: tensor<1xf32>) {
  // expected-error @+1 {{'dlc.bias_add' op input must have a channel dimension}}
  %0 = dlc.bias_add %x, %b : (tensor<f32>, tensor<1xf32>) -> tensor<f32>
  return
}

// -----

func.func @bias_add_channels(%x: tensor<4x10xf32>, %b: tensor<8xf32>) {
  // expected-error @+1 {{'dlc.bias_add' op bias has 8 elements but the input has 10 channels}}
  %0 = dlc.bias_add %x, %b : (tensor<4x10xf32>, tensor<8xf32>) -> tensor<4x10xf32>
  return
}

// -----

func.func @leaky_relu_alpha(%x: tensor<4x10xf32>) {
  // expected-error @+1 {{'dlc.leaky_relu' op alpha must be a finite non-negative number, got -1.000000e-01}}
  %0 = dlc.leaky_relu %x {alpha = -0.1 : f32} : tensor<4x10xf32>
  return
}

// -----

func.func @softmax_axis(%x: tensor<4x10xf32>) {
  // expected-error @+1 {{'dlc.softmax' op axis 2 is out of range for an input of rank 2}}
  %0 = dlc.softmax %x {axis = 2} : tensor<4x10xf32>
  return
}

// -----

func.func @relu_type(%x: tensor<4x10xf32>) {
  // expected-error @+1 {{'dlc.relu' op requires the same type for all operands and results}}
  %0 = "dlc.relu"(%x) : (tensor<4x10xf32>) -> tensor<4x11xf32>
  return
}

// -----

func.func @pool_size(%x: tensor<1x8x8x3xf32>) {
  // expected-error @+1 {{'dlc.max_pool2d' op pool_size must be positive, got [0, 2]}}
  %0 = dlc.max_pool2d %x {pool_size = array<i64: 0, 2>, strides = array<i64: 2, 2>} : (tensor<1x8x8x3xf32>) -> tensor<1x4x4x3xf32>
  return
}

// -----

func.func @pool_strides(%x: tensor<1x8x8x3xf32>) {
  // expected-error @+1 {{'dlc.avg_pool2d' op strides must be positive, got [2, 0]}}
  %0 = dlc.avg_pool2d %x {pool_size = array<i64: 2, 2>, strides = array<i64: 2, 0>} : (tensor<1x8x8x3xf32>) -> tensor<1x4x4x3xf32>
  return
}

// -----

func.func @pool_pads_not_explicit(%x: tensor<1x8x8x3xf32>) {
  // expected-error @+1 {{'dlc.max_pool2d' op pads [1, 1, 1, 1] require explicit padding, not same}}
  %0 = dlc.max_pool2d %x {padding = #dlc.padding<same>, pads = array<i64: 1, 1, 1, 1>, pool_size = array<i64: 2, 2>, strides = array<i64: 2, 2>} : (tensor<1x8x8x3xf32>) -> tensor<1x4x4x3xf32>
  return
}

// -----

func.func @pool_pads_whole_window(%x: tensor<1x8x8x3xf32>) {
  // expected-error @+1 {{'dlc.avg_pool2d' op pads must be non-negative and smaller than the pool window ([2, 2]), got [0, 2, 0, 0]}}
  %0 = dlc.avg_pool2d %x {padding = #dlc.padding<explicit>, pads = array<i64: 0, 2, 0, 0>, pool_size = array<i64: 2, 2>, strides = array<i64: 2, 2>} : (tensor<1x8x8x3xf32>) -> tensor<1x5x4x3xf32>
  return
}

// -----

func.func @pool_pads_count(%x: tensor<1x8x8x3xf32>) {
  // expected-error @+1 {{'dlc.max_pool2d' op pads must have 4 entries [top, bottom, left, right], got 2}}
  %0 = dlc.max_pool2d %x {padding = #dlc.padding<explicit>, pads = array<i64: 1, 1>, pool_size = array<i64: 2, 2>, strides = array<i64: 2, 2>} : (tensor<1x8x8x3xf32>) -> tensor<1x4x4x3xf32>
  return
}

// -----

func.func @pool_too_large(%x: tensor<1x2x2x3xf32>) {
  // expected-error @+1 {{'dlc.max_pool2d' op pool window (3x3) is larger than the input (2x2)}}
  %0 = dlc.max_pool2d %x {pool_size = array<i64: 3, 3>, strides = array<i64: 1, 1>} : (tensor<1x2x2x3xf32>) -> tensor<1x1x1x3xf32>
  return
}

// -----

func.func @flatten_scalar(%x: tensor<f32>) {
  // expected-error @+1 {{'dlc.flatten' op input must have a batch dimension}}
  %0 = dlc.flatten %x : (tensor<f32>) -> tensor<1x1xf32>
  return
}

// -----

func.func @reshape_two_inferred(%x: tensor<2x12xf32>) {
  // expected-error @+1 {{'dlc.reshape' op shape [2, -1, -1] may contain at most one -1}}
  %0 = dlc.reshape %x {shape = array<i64: 2, -1, -1>} : (tensor<2x12xf32>) -> tensor<2x3x4xf32>
  return
}

// -----

func.func @reshape_nonpositive(%x: tensor<2x12xf32>) {
  // expected-error @+1 {{'dlc.reshape' op shape [2, 0, 12] must have positive sizes (or one -1)}}
  %0 = dlc.reshape %x {shape = array<i64: 2, 0, 12>} : (tensor<2x12xf32>) -> tensor<2x1x12xf32>
  return
}

// -----

func.func @reshape_indivisible(%x: tensor<2x12xf32>) {
  // expected-error @+1 {{'dlc.reshape' op cannot reshape 24 elements into shape [5, -1]}}
  %0 = dlc.reshape %x {shape = array<i64: 5, -1>} : (tensor<2x12xf32>) -> tensor<5x5xf32>
  return
}

// -----

func.func @reshape_count(%x: tensor<2x12xf32>) {
  // expected-error @+1 {{'dlc.reshape' op cannot reshape 24 elements into shape [2, 13] (26 elements)}}
  %0 = dlc.reshape %x {shape = array<i64: 2, 13>} : (tensor<2x12xf32>) -> tensor<2x13xf32>
  return
}

// -----

func.func @add_types(%a: tensor<2x4xf32>, %b: tensor<2x5xf32>) {
  // expected-error @+1 {{'dlc.add' op requires the same type for all operands and results}}
  %0 = "dlc.add"(%a, %b) : (tensor<2x4xf32>, tensor<2x5xf32>) -> tensor<2x4xf32>
  return
}

// -----

func.func @concat_empty() {
  // expected-error @+1 {{'dlc.concat' op requires at least one input}}
  %0 = "dlc.concat"() : () -> tensor<2x4xf32>
  return
}

// -----

func.func @concat_axis(%a: tensor<2x4xf32>) {
  // expected-error @+1 {{'dlc.concat' op axis -3 is out of range for inputs of rank 2}}
  %0 = dlc.concat %a, %a {axis = -3} : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x8xf32>
  return
}

// -----

func.func @concat_rank(%a: tensor<2x4xf32>, %b: tensor<2x4x1xf32>) {
  // expected-error @+1 {{'dlc.concat' op input #1 has rank 3 but input #0 has rank 2}}
  %0 = dlc.concat %a, %b : (tensor<2x4xf32>, tensor<2x4x1xf32>) -> tensor<2x8xf32>
  return
}

// -----

func.func @concat_shape(%a: tensor<2x7x7x4xf32>, %b: tensor<2x6x7x4xf32>) {
  // expected-error @+1 {{'dlc.concat' op input #1 has shape 2x6x7x4, which differs from input #0 (2x7x7x4) outside the concatenation axis 3}}
  %0 = dlc.concat %a, %b : (tensor<2x7x7x4xf32>, tensor<2x6x7x4xf32>) -> tensor<2x7x7x8xf32>
  return
}

// -----

func.func @dropout_rate(%x: tensor<4x10xf32>) {
  // expected-error @+1 {{'dlc.dropout' op rate must be in [0, 1), got 1.000000e+00}}
  %0 = dlc.dropout %x {rate = 1.0 : f32} : (tensor<4x10xf32>) -> tensor<4x10xf32>
  return
}

// -----

func.func @batch_norm_rank(%x: tensor<4xf32>, %v: tensor<4xf32>) {
  // expected-error @+1 {{'dlc.batch_norm' op input must have a batch and a channel dimension}}
  %0 = dlc.batch_norm %x, %v, %v, %v, %v : (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return
}

// -----

func.func @batch_norm_epsilon(%x: tensor<2x4xf32>, %v: tensor<4xf32>) {
  // expected-error @+1 {{'dlc.batch_norm' op epsilon must be positive, got 0.000000e+00}}
  %0 = dlc.batch_norm %x, %v, %v, %v, %v {epsilon = 0.0 : f32} : (tensor<2x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<2x4xf32>
  return
}

// -----

func.func @batch_norm_channels(%x: tensor<2x4xf32>, %v: tensor<4xf32>, %w: tensor<3xf32>) {
  // expected-error @+1 {{'dlc.batch_norm' op variance has 3 elements but the input has 4 channels}}
  %0 = dlc.batch_norm %x, %v, %v, %v, %w : (tensor<2x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<3xf32>) -> tensor<2x4xf32>
  return
}

// -----

func.func @batch_norm_train_momentum(%x: tensor<2x4xf32>, %v: tensor<4xf32>) {
  // expected-error @+1 {{'dlc.batch_norm_train' op momentum must be in [0, 1], got 1.500000e+00}}
  %0:5 = dlc.batch_norm_train %x, %v, %v, %v, %v {momentum = 1.5 : f32}
      : (tensor<2x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>)
     -> (tensor<2x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>)
  return
}

// -----

func.func @batch_norm_train_running_mean(%x: tensor<2x4xf32>, %v: tensor<4xf32>, %w: tensor<5xf32>) {
  // expected-error @+1 {{'dlc.batch_norm_train' op running_mean has 5 elements but the input has 4 channels}}
  %0:5 = dlc.batch_norm_train %x, %v, %v, %w, %v
      : (tensor<2x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<5xf32>, tensor<4xf32>)
     -> (tensor<2x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>)
  return
}

// -----

func.func @translation_count(%x: tensor<1x8x8x3xf32>) {
  // expected-error @+1 {{'dlc.random_translation' op height_factor must be [lower, upper], got 1 values}}
  %0 = dlc.random_translation %x {height_factor = array<f32: 0.1>, width_factor = array<f32: -0.1, 0.1>}
      : (tensor<1x8x8x3xf32>) -> tensor<1x8x8x3xf32>
  return
}

// -----

func.func @translation_range(%x: tensor<1x8x8x3xf32>) {
  // expected-error @+1 {{'dlc.random_translation' op width_factor [-2.000000e+00, 5.000000e-01] must satisfy -1 <= lower <= upper <= 1}}
  %0 = dlc.random_translation %x {height_factor = array<f32: -0.1, 0.1>, width_factor = array<f32: -2.0, 0.5>}
      : (tensor<1x8x8x3xf32>) -> tensor<1x8x8x3xf32>
  return
}

// -----

func.func @crop_nonpositive(%x: tensor<1x8x8x3xf32>) {
  // expected-error @+1 {{'dlc.random_crop' op crop size 0x4 must be positive}}
  %0 = dlc.random_crop %x {height = 0, width = 4} : (tensor<1x8x8x3xf32>) -> tensor<1x1x4x3xf32>
  return
}

// -----

func.func @crop_too_large(%x: tensor<1x8x8x3xf32>) {
  // expected-error @+1 {{'dlc.random_crop' op crop size 9x4 is larger than the input (8x8)}}
  %0 = dlc.random_crop %x {height = 9, width = 4} : (tensor<1x8x8x3xf32>) -> tensor<1x9x4x3xf32>
  return
}

// -----

func.func @cross_entropy_batch(%l: tensor<8x10xf32>, %y: tensor<4xi32>) {
  // expected-error @+1 {{'dlc.softmax_cross_entropy' op labels have 4 entries but logits have a batch of 8}}
  %0 = dlc.softmax_cross_entropy %l, %y : (tensor<8x10xf32>, tensor<4xi32>) -> tensor<f32>
  return
}

// -----

func.func @cross_entropy_classes(%l: tensor<8x0xf32>, %y: tensor<8xi32>) {
  // expected-error @+1 {{'dlc.accuracy' op logits must have at least one class}}
  %0 = dlc.accuracy %l, %y : (tensor<8x0xf32>, tensor<8xi32>) -> tensor<i32>
  return
}

// -----

func.func @cross_entropy_label_type(%l: tensor<8x10xf32>, %y: tensor<8xf32>) {
  // expected-error @+1 {{'dlc.softmax_cross_entropy' op operand #1 must be statically shaped 1D tensor of i32 class labels, but got 'tensor<8xf32>'}}
  %0 = dlc.softmax_cross_entropy %l, %y : (tensor<8x10xf32>, tensor<8xf32>) -> tensor<f32>
  return
}

// -----

func.func @mse_shapes(%p: tensor<8x1xf32>, %t: tensor<8xf32>) {
  // expected-error @+1 {{'dlc.mse' op targets shape (8) differs from predictions shape (8x1)}}
  %0 = dlc.mse %p, %t : (tensor<8x1xf32>, tensor<8xf32>) -> tensor<f32>
  return
}

// -----

func.func @conv_grad_input_shape(%dy: tensor<1x6x6x4xf32>, %w: tensor<3x3x3x4xf32>) {
  // expected-error @+1 {{'dlc.conv2d_grad_input' op input_shape [1, 8, 8] must have 4 positive sizes}}
  %0 = dlc.conv2d_grad_input %dy, %w {input_shape = array<i64: 1, 8, 8>} : (tensor<1x6x6x4xf32>, tensor<3x3x3x4xf32>) -> tensor<1x8x8x3xf32>
  return
}

// -----

func.func @conv_grad_input_mismatch(%dy: tensor<1x7x7x4xf32>, %w: tensor<3x3x3x4xf32>) {
  // expected-error @+1 {{'dlc.conv2d_grad_input' op output_grad has type 'tensor<1x7x7x4xf32>' but the forward op produces 'tensor<1x6x6x4xf32>'}}
  %0 = dlc.conv2d_grad_input %dy, %w {input_shape = array<i64: 1, 8, 8, 3>} : (tensor<1x7x7x4xf32>, tensor<3x3x3x4xf32>) -> tensor<1x8x8x3xf32>
  return
}

// -----

func.func @conv_grad_filter_kernel(%x: tensor<1x8x8x3xf32>, %dy: tensor<1x6x6x4xf32>) {
  // expected-error @+1 {{'dlc.conv2d_grad_filter' op kernel_size must be positive, got [0, 3]}}
  %0 = dlc.conv2d_grad_filter %x, %dy {kernel_size = array<i64: 0, 3>} : (tensor<1x8x8x3xf32>, tensor<1x6x6x4xf32>) -> tensor<1x3x3x4xf32>
  return
}

// -----

func.func @matmul_contraction(%a: tensor<4x10xf32>, %b: tensor<32x10xf32>) {
  // expected-error @+1 {{'dlc.matmul' op contracts 10 columns of the lhs with 32 rows of the rhs}}
  %0 = dlc.matmul %a, %b : (tensor<4x10xf32>, tensor<32x10xf32>) -> tensor<4x10xf32>
  return
}

// -----

func.func @channel_sum_scalar(%a: tensor<f32>) {
  // expected-error @+1 {{'dlc.channel_sum' op input must have a channel dimension}}
  %0 = dlc.channel_sum %a : (tensor<f32>) -> tensor<1xf32>
  return
}

// -----

func.func @sgd_momentum(%p: tensor<4xf32>, %lr: f32) {
  // expected-error @+1 {{'dlc.sgd_update' op momentum must be in [0, 1), got 1.000000e+00}}
  %0:2 = dlc.sgd_update %p, %p, %p, %lr {momentum = 1.0 : f32} : tensor<4xf32>, f32
  return
}

// -----

func.func @sgd_nesterov(%p: tensor<4xf32>, %lr: f32) {
  // expected-error @+1 {{'dlc.sgd_update' op nesterov requires a non-zero momentum}}
  %0:2 = dlc.sgd_update %p, %p, %p, %lr {nesterov} : tensor<4xf32>, f32
  return
}

// -----

func.func @sgd_weight_decay(%p: tensor<4xf32>, %lr: f32) {
  // expected-error @+1 {{'dlc.sgd_update' op weight_decay must be non-negative, got -1.000000e+00}}
  %0:2 = dlc.sgd_update %p, %p, %p, %lr {weight_decay = -1.0 : f32} : tensor<4xf32>, f32
  return
}

// -----

func.func @sgd_dampening_step(%p: tensor<4xf32>, %lr: f32) {
  // expected-error @+1 {{'dlc.sgd_update' op dampening requires the step operand}}
  %0:2 = dlc.sgd_update %p, %p, %p, %lr {momentum = 0.9 : f32, dampening = 0.5 : f32} : tensor<4xf32>, f32
  return
}

// -----

func.func @sgd_dampening_range(%p: tensor<4xf32>, %lr: f32, %t: i64) {
  // expected-error @+1 {{'dlc.sgd_update' op dampening must be in [0, 1], got -5.000000e-01}}
  %0:2 = dlc.sgd_update %p, %p, %p, %lr, %t {momentum = 0.9 : f32, dampening = -0.5 : f32} : tensor<4xf32>, f32, i64
  return
}

// -----

func.func @adam_post_decay(%p: tensor<4xf32>, %lr: f32, %t: i64) {
  // expected-error @+1 {{'dlc.adam_update' op post_decay must be in [0, 1), got 1.000000e+00}}
  %0:3 = dlc.adam_update %p, %p, %p, %p, %lr, %t {post_decay = 1.0 : f32} : tensor<4xf32>, f32, i64
  return
}

// -----

func.func @adam_beta(%p: tensor<4xf32>, %lr: f32, %t: i64) {
  // expected-error @+1 {{'dlc.adam_update' op beta2 must be in [0, 1), got 1.000000e+00}}
  %0:3 = dlc.adam_update %p, %p, %p, %p, %lr, %t {beta2 = 1.0 : f32} : tensor<4xf32>, f32, i64
  return
}

// -----

func.func @adam_epsilon(%p: tensor<4xf32>, %lr: f32, %t: i64) {
  // expected-error @+1 {{'dlc.adam_update' op epsilon must be positive, got 0.000000e+00}}
  %0:3 = dlc.adam_update %p, %p, %p, %p, %lr, %t {epsilon = 0.0 : f32} : tensor<4xf32>, f32, i64
  return
}

// -----

func.func @adam_weight_decay(%p: tensor<4xf32>, %lr: f32, %t: i64) {
  // expected-error @+1 {{'dlc.adam_update' op weight_decay must be non-negative, got -1.000000e-02}}
  %0:3 = dlc.adam_update %p, %p, %p, %p, %lr, %t {weight_decay = -0.01 : f32} : tensor<4xf32>, f32, i64
  return
}

// -----

func.func @adam_types(%p: tensor<4xf32>, %q: tensor<5xf32>, %lr: f32, %t: i64) {
  // expected-error @+1 {{'dlc.adam_update' op failed to verify that all of {param, grad, m, v, new_param, new_m, new_v} have same type}}
  %0:3 = "dlc.adam_update"(%p, %q, %p, %p, %lr, %t) : (tensor<4xf32>, tensor<5xf32>, tensor<4xf32>, tensor<4xf32>, f32, i64) -> (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>)
  return
}

// -----

func.func @all_reduce_empty() {
  // expected-error @+1 {{'dlc.all_reduce' op needs at least one tensor to reduce}}
  "dlc.all_reduce"() {bucket = 0 : i64, reduction = #dlc.reduction<sum>} : () -> ()
  return
}

// -----

func.func @all_reduce_negative_bucket(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'dlc.all_reduce' op attribute 'bucket' failed to satisfy constraint: 64-bit signless integer attribute whose value is non-negative}}
  %r = dlc.all_reduce %x {bucket = -1 : i64, reduction = #dlc.reduction<sum>} : tensor<4xf32>
  return %r : tensor<4xf32>
}

// -----

func.func @all_reduce_i32(%x: tensor<4xi32>) -> tensor<4xi32> {
  // expected-error @+1 {{'dlc.all_reduce' op operand #0 must be variadic of statically shaped tensor of f32}}
  %r = dlc.all_reduce %x {bucket = 0 : i64, reduction = #dlc.reduction<sum>} : tensor<4xi32>
  return %r : tensor<4xi32>
}

// -----

func.func @all_reduce_start_read(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'dlc.all_reduce_start' op result is in flight and may only be used by dlc.all_reduce_wait, not by dlc.relu}}
  %f = dlc.all_reduce_start %x {bucket = 0 : i64, reduction = #dlc.reduction<mean>} : tensor<4xf32>
  %r = dlc.relu %f : tensor<4xf32>
  %w = dlc.all_reduce_wait %f : tensor<4xf32>
  return %r : tensor<4xf32>
}

// -----

func.func @all_reduce_start_never_waited(%x: tensor<4xf32>) {
  // expected-error @+1 {{'dlc.all_reduce_start' op is never waited for (no dlc.all_reduce_wait)}}
  %f = dlc.all_reduce_start %x {bucket = 0 : i64, reduction = #dlc.reduction<mean>} : tensor<4xf32>
  return
}

// -----

func.func @all_reduce_wait_part(%x: tensor<4xf32>, %y: tensor<2xf32>) -> tensor<4xf32> {
  %f:2 = dlc.all_reduce_start %x, %y {bucket = 1 : i64, reduction = #dlc.reduction<mean>} : tensor<4xf32>, tensor<2xf32>
  // expected-error @+1 {{'dlc.all_reduce_wait' op must take every result of its dlc.all_reduce_start (bucket 1), in order}}
  %w = dlc.all_reduce_wait %f#0 : tensor<4xf32>
  return %w : tensor<4xf32>
}

// -----

func.func @all_reduce_wait_swapped(%x: tensor<4xf32>, %y: tensor<4xf32>) -> tensor<4xf32> {
  %f:2 = dlc.all_reduce_start %x, %y {bucket = 0 : i64, reduction = #dlc.reduction<mean>} : tensor<4xf32>, tensor<4xf32>
  // expected-error @+1 {{'dlc.all_reduce_wait' op must take every result of its dlc.all_reduce_start (bucket 0), in order}}
  %w:2 = dlc.all_reduce_wait %f#1, %f#0 : tensor<4xf32>, tensor<4xf32>
  return %w#0 : tensor<4xf32>
}

// -----

func.func @all_reduce_wait_not_started(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'dlc.all_reduce_wait' op operands must be the results of one dlc.all_reduce_start}}
  %w = dlc.all_reduce_wait %x : tensor<4xf32>
  return %w : tensor<4xf32>
}
