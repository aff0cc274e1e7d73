// RUN: dlc-opt %s -split-input-file -verify-diagnostics -dlc-describe-model | FileCheck %s

// The step functions' names, roles, initializers and types become one
// module attribute, with the module's dlc.* settings as JSON. An argument
// tied to a result is `in_place` and its result is not listed.

// CHECK-LABEL: module @tiny attributes
// CHECK-SAME: dlc.model = {functions = [
// CHECK-SAME: {args = [{in_place, init = "he_normal", name = "w", role = "param", type = tensor<4x2xf32>},
// CHECK-SAME: {name = "input", role = "input", type = tensor<8x1x1x4xf32>},
// CHECK-SAME: {name = "step", role = "step", type = i64}],
// CHECK-SAME: name = "train_step",
// CHECK-SAME: results = [{name = "loss", role = "loss", type = tensor<f32>}]},
// CHECK-SAME: {args = [{init = "he_normal", name = "w", role = "param", type = tensor<4x2xf32>}, {name = "input", role = "input", type = tensor<8x1x1x4xf32>}],
// CHECK-SAME: name = "predict", results = [{name = "logits", role = "logits", type = tensor<8x2xf32>}]}],
// CHECK-SAME: name = "tiny", settings = "{\22loss\22:\22mse\22}"}
module @tiny attributes {dlc.loss = "mse"} {
  func.func @predict(%w: tensor<4x2xf32> {dlc.name = "w", dlc.role = "param", dlc.init = "he_normal"},
                     %x: tensor<8x1x1x4xf32> {dlc.name = "input", dlc.role = "input"})
      -> (tensor<8x2xf32> {dlc.name = "logits", dlc.role = "logits"}) {
    %0 = tensor.empty() : tensor<8x2xf32>
    return %0 : tensor<8x2xf32>
  }
  func.func @train_step(%w: tensor<4x2xf32> {dlc.name = "w", dlc.role = "param", dlc.init = "he_normal", dlc.result = 0 : i64},
                        %x: tensor<8x1x1x4xf32> {dlc.name = "input", dlc.role = "input"},
                        %s: i64 {dlc.name = "step", dlc.role = "step"})
      -> (tensor<4x2xf32> {dlc.name = "w", dlc.role = "param"}, tensor<f32> {dlc.name = "loss", dlc.role = "loss"}) {
    %0 = tensor.empty() : tensor<f32>
    return %w, %0 : tensor<4x2xf32>, tensor<f32>
  }
}

// -----

// Without step functions there is nothing to describe.
// CHECK-LABEL: module @kernels
// CHECK-NOT: dlc.model
module @kernels {
  func.func @relu(%x: tensor<8xf32>) -> tensor<8xf32> {
    return %x : tensor<8xf32>
  }
}

// -----

module {
  // expected-error @+1 {{'func.func' op argument 0 has the unknown role 'weights'}}
  func.func @predict(%w: tensor<4xf32> {dlc.name = "w", dlc.role = "weights"}) -> (tensor<4xf32> {dlc.role = "logits"}) {
    return %w : tensor<4xf32>
  }
}

// -----

module {
  // expected-error @+1 {{'func.func' op result 0 has no dlc.role}}
  func.func @predict(%w: tensor<4xf32> {dlc.name = "w", dlc.role = "param"}) -> tensor<4xf32> {
    return %w : tensor<4xf32>
  }
}

// -----

module {
  // expected-error @+1 {{'func.func' op argument 0 has type tensor<?xf32>; the runtime holds static tensors of rank <= 4 and scalars of f32, i32 and i64}}
  func.func @eval_step(%w: tensor<?xf32> {dlc.name = "w", dlc.role = "param"}) -> (tensor<f32> {dlc.role = "loss"}) {
    %0 = tensor.empty() : tensor<f32>
    return %0 : tensor<f32>
  }
}

// -----

module {
  // expected-error @+1 {{'func.func' op argument 0 is tied to result 3, which does not exist}}
  func.func @train_step(%w: tensor<4xf32> {dlc.name = "w", dlc.role = "param", dlc.result = 3 : i64}) -> (tensor<4xf32> {dlc.role = "param"}) {
    return %w : tensor<4xf32>
  }
}
