// RUN: dlc-opt %s -split-input-file -dlc-build-train-step -verify-diagnostics

// expected-error @+1 {{no function @forward to differentiate}}
module {
  func.func @model(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
    return %x : tensor<4x8xf32>
  }
}

// -----

// expected-error @+1 {{unknown loss 'hinge' (expected sparse_categorical_crossentropy, mse or binary_crossentropy)}}
module attributes {dlc.loss = "hinge"} {
  func.func @forward(%x: tensor<4x8xf32>, %w: tensor<8x2xf32>) -> tensor<4x2xf32> {
    %0 = dlc.dense %x, %w : (tensor<4x8xf32>, tensor<8x2xf32>) -> tensor<4x2xf32>
    return %0 : tensor<4x2xf32>
  }
}

// -----

// expected-error @+1 {{unknown optimizer 'rmsprop' (expected sgd, adam or adamw)}}
module attributes {dlc.optimizer = {name = "rmsprop"}} {
  func.func @forward(%x: tensor<4x8xf32>, %w: tensor<8x2xf32>) -> tensor<4x2xf32> {
    %0 = dlc.dense %x, %w : (tensor<4x8xf32>, tensor<8x2xf32>) -> tensor<4x2xf32>
    return %0 : tensor<4x2xf32>
  }
}

// -----

// expected-error @+1 {{the module already has a @train_step}}
module {
  func.func @forward(%x: tensor<4x8xf32>, %w: tensor<8x2xf32>) -> tensor<4x2xf32> {
    %0 = dlc.dense %x, %w : (tensor<4x8xf32>, tensor<8x2xf32>) -> tensor<4x2xf32>
    return %0 : tensor<4x2xf32>
  }
  func.func @train_step() {
    return
  }
}

// -----

// expected-error @+1 {{'func.func' op must take the input first and return the logits alone}}
func.func @forward(%x: tensor<4x8xf32>) -> (tensor<4x8xf32>, tensor<4x8xf32>) {
  return %x, %x : tensor<4x8xf32>, tensor<4x8xf32>
}

// -----

module attributes {dlc.loss = {name = "sparse_categorical_crossentropy", from_logits = false}} {
  // expected-error @+1 {{sparse_categorical_crossentropy with from_logits: false needs a model that ends in a softmax}}
  func.func @forward(%x: tensor<4x8xf32>, %w: tensor<8x2xf32>) -> tensor<4x2xf32> {
    %0 = dlc.dense %x, %w : (tensor<4x8xf32>, tensor<8x2xf32>) -> tensor<4x2xf32>
    return %0 : tensor<4x2xf32>
  }
}

// -----

// A trainable parameter before an op without a gradient rule.
func.func @forward(%x: tensor<2x8x8x1xf32>, %k: tensor<3x3x1x2xf32>, %w: tensor<72x3xf32>) -> tensor<2x3xf32> {
  %0 = dlc.conv2d %x, %k {padding = #dlc.padding<same>} : (tensor<2x8x8x1xf32>, tensor<3x3x1x2xf32>) -> tensor<2x8x8x2xf32>
  // expected-error @+1 {{'dlc.random_crop' op has no gradient rule, but a trainable parameter reaches the loss through it}}
  %1 = dlc.random_crop %0 {height = 6, width = 6} : (tensor<2x8x8x2xf32>) -> tensor<2x6x6x2xf32>
  %2 = dlc.flatten %1 : (tensor<2x6x6x2xf32>) -> tensor<2x72xf32>
  %3 = dlc.dense %2, %w : (tensor<2x72xf32>, tensor<72x3xf32>) -> tensor<2x3xf32>
  return %3 : tensor<2x3xf32>
}

// -----

// Running statistics computed inside the model cannot be updated.
func.func @forward(%x: tensor<2x4xf32>, %g: tensor<4xf32>, %w: tensor<4x2xf32>) -> tensor<2x2xf32> {
  %m = arith.constant dense<0.0> : tensor<4xf32>
  // expected-error @+1 {{'dlc.batch_norm' op running statistics must be arguments of @forward to be updated in training}}
  %0 = dlc.batch_norm %x, %g, %g, %m, %g : (tensor<2x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<2x4xf32>
  %1 = dlc.dense %0, %w : (tensor<2x4xf32>, tensor<4x2xf32>) -> tensor<2x2xf32>
  return %1 : tensor<2x2xf32>
}

// -----

// A parameter that does not reach the loss is reported and left alone.
// expected-warning @+1 {{parameter 'unused' does not affect the loss; it is not updated}}
func.func @forward(%x: tensor<4x8xf32>, %w: tensor<8x2xf32>, %u: tensor<3xf32> {dlc.name = "unused"}) -> tensor<4x2xf32> {
  %0 = dlc.dense %x, %w : (tensor<4x8xf32>, tensor<8x2xf32>) -> tensor<4x2xf32>
  return %0 : tensor<4x2xf32>
}
