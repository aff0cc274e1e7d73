// RUN: dlc-opt %s -split-input-file -dlc-fuse-softmax-cross-entropy | FileCheck %s
// RUN: dlc-opt %s -split-input-file -dlc-fuse-softmax-cross-entropy -mlir-print-debuginfo -mlir-print-local-scope | FileCheck %s --check-prefix=LOC

// The tail of a training step (as after canonicalize: the seed hoisted
// first): the loss and its gradient become one op at the loss; the accuracy
// still reads the logits.

// CHECK-LABEL: func @train_tail
// CHECK-SAME: (%[[L:[^:]+]]: {{[^,]*}}, %[[Y:[^:]+]]: {{[^,]*}}, %[[W:[^:]+]]: {{[^,]*}})
// CHECK: %[[ONE:.*]] = arith.constant dense<1.000000e+00> : tensor<f32>
// CHECK: %[[LOSS:.*]], %[[DL:.*]] = dlc.softmax_cross_entropy_with_grad %[[L]], %[[Y]], %[[ONE]] : (tensor<4x3xf32>, tensor<4xi32>, tensor<f32>) -> (tensor<f32>, tensor<4x3xf32>)
// CHECK-NOT: dlc.softmax_cross_entropy
// CHECK: %[[ACC:.*]] = dlc.accuracy %[[L]], %[[Y]]
// CHECK: %[[DW:.*]] = dlc.dense %[[W]], %[[DL]]
// CHECK: return %[[LOSS]], %[[ACC]], %[[DW]]
// LOC-LABEL: func @train_tail
// LOC: dlc.softmax_cross_entropy_with_grad {{.*}} loc(fused["loss", "grad"])
func.func @train_tail(%l: tensor<4x3xf32>, %y: tensor<4xi32>, %w: tensor<5x4xf32>)
    -> (tensor<f32>, tensor<i32>, tensor<5x3xf32>) {
  %one = arith.constant dense<1.0> : tensor<f32>
  %loss = dlc.softmax_cross_entropy %l, %y : (tensor<4x3xf32>, tensor<4xi32>) -> tensor<f32> loc("loss")
  %acc = dlc.accuracy %l, %y : (tensor<4x3xf32>, tensor<4xi32>) -> tensor<i32>
  %dl = dlc.softmax_cross_entropy_grad %l, %y, %one : (tensor<4x3xf32>, tensor<4xi32>, tensor<f32>) -> tensor<4x3xf32> loc("grad")
  %dw = dlc.dense %w, %dl : (tensor<5x4xf32>, tensor<4x3xf32>) -> tensor<5x3xf32>
  return %loss, %acc, %dw : tensor<f32>, tensor<i32>, tensor<5x3xf32>
}

// -----

// The seed is computed after the loss (here from an argument; a constant
// seed would be hoisted): the fused op takes the gradient's place, since
// the loss is only returned.

// CHECK-LABEL: func @seed_after_loss
// CHECK-SAME: (%[[L:[^:]+]]: {{[^,]*}}, %[[Y:[^:]+]]: {{[^,]*}}, %[[G:[^:]+]]: {{[^,]*}})
// CHECK: %[[ACC:.*]] = dlc.accuracy
// CHECK: %[[SEED:.*]] = arith.negf %[[G]]
// CHECK: %[[LOSS:.*]], %[[DL:.*]] = dlc.softmax_cross_entropy_with_grad %[[L]], %[[Y]], %[[SEED]]
// CHECK: return %[[LOSS]], %[[ACC]], %[[DL]]
func.func @seed_after_loss(%l: tensor<4x3xf32>, %y: tensor<4xi32>, %g: tensor<f32>)
    -> (tensor<f32>, tensor<i32>, tensor<4x3xf32>) {
  %loss = dlc.softmax_cross_entropy %l, %y : (tensor<4x3xf32>, tensor<4xi32>) -> tensor<f32>
  %acc = dlc.accuracy %l, %y : (tensor<4x3xf32>, tensor<4xi32>) -> tensor<i32>
  %seed = arith.negf %g : tensor<f32>
  %dl = dlc.softmax_cross_entropy_grad %l, %y, %seed : (tensor<4x3xf32>, tensor<4xi32>, tensor<f32>) -> tensor<4x3xf32>
  return %loss, %acc, %dl : tensor<f32>, tensor<i32>, tensor<4x3xf32>
}

// -----

// An evaluation step has the loss and no gradient: nothing to fuse.

// CHECK-LABEL: func @eval_step
// CHECK: dlc.softmax_cross_entropy %
// CHECK-NOT: dlc.softmax_cross_entropy_with_grad
func.func @eval_step(%l: tensor<4x3xf32>, %y: tensor<4xi32>) -> (tensor<f32>, tensor<i32>) {
  %loss = dlc.softmax_cross_entropy %l, %y : (tensor<4x3xf32>, tensor<4xi32>) -> tensor<f32>
  %acc = dlc.accuracy %l, %y : (tensor<4x3xf32>, tensor<4xi32>) -> tensor<i32>
  return %loss, %acc : tensor<f32>, tensor<i32>
}

// -----

// The gradient differentiates other logits: no shared row statistics.

// CHECK-LABEL: func @other_logits
// CHECK-NOT: dlc.softmax_cross_entropy_with_grad
// CHECK: dlc.softmax_cross_entropy %
// CHECK: dlc.softmax_cross_entropy_grad
func.func @other_logits(%l: tensor<4x3xf32>, %l2: tensor<4x3xf32>, %y: tensor<4xi32>, %g: tensor<f32>)
    -> (tensor<f32>, tensor<4x3xf32>) {
  %loss = dlc.softmax_cross_entropy %l, %y : (tensor<4x3xf32>, tensor<4xi32>) -> tensor<f32>
  %dl = dlc.softmax_cross_entropy_grad %l2, %y, %g : (tensor<4x3xf32>, tensor<4xi32>, tensor<f32>) -> tensor<4x3xf32>
  return %loss, %dl : tensor<f32>, tensor<4x3xf32>
}

// -----

// The gradient reads other labels: it is not this loss's gradient.

// CHECK-LABEL: func @other_labels
// CHECK-NOT: dlc.softmax_cross_entropy_with_grad
// CHECK: dlc.softmax_cross_entropy %
// CHECK: dlc.softmax_cross_entropy_grad
func.func @other_labels(%l: tensor<4x3xf32>, %y: tensor<4xi32>, %y2: tensor<4xi32>, %g: tensor<f32>)
    -> (tensor<f32>, tensor<4x3xf32>) {
  %loss = dlc.softmax_cross_entropy %l, %y : (tensor<4x3xf32>, tensor<4xi32>) -> tensor<f32>
  %dl = dlc.softmax_cross_entropy_grad %l, %y2, %g : (tensor<4x3xf32>, tensor<4xi32>, tensor<f32>) -> tensor<4x3xf32>
  return %loss, %dl : tensor<f32>, tensor<4x3xf32>
}

// -----

// Two gradients of the same loss (two seeds): which one would join the
// loss is arbitrary, so none does.

// CHECK-LABEL: func @two_grads
// CHECK-NOT: dlc.softmax_cross_entropy_with_grad
// CHECK: dlc.softmax_cross_entropy %
// CHECK: dlc.softmax_cross_entropy_grad
// CHECK: dlc.softmax_cross_entropy_grad
func.func @two_grads(%l: tensor<4x3xf32>, %y: tensor<4xi32>, %g: tensor<f32>, %h: tensor<f32>)
    -> (tensor<f32>, tensor<4x3xf32>, tensor<4x3xf32>) {
  %loss = dlc.softmax_cross_entropy %l, %y : (tensor<4x3xf32>, tensor<4xi32>) -> tensor<f32>
  %d1 = dlc.softmax_cross_entropy_grad %l, %y, %g : (tensor<4x3xf32>, tensor<4xi32>, tensor<f32>) -> tensor<4x3xf32>
  %d2 = dlc.softmax_cross_entropy_grad %l, %y, %h : (tensor<4x3xf32>, tensor<4xi32>, tensor<f32>) -> tensor<4x3xf32>
  return %loss, %d1, %d2 : tensor<f32>, tensor<4x3xf32>, tensor<4x3xf32>
}

// -----

// Two losses of the same logits and labels share one gradient: the same
// rule, none is fused.

// CHECK-LABEL: func @two_losses
// CHECK-NOT: dlc.softmax_cross_entropy_with_grad
func.func @two_losses(%l: tensor<4x3xf32>, %y: tensor<4xi32>, %g: tensor<f32>)
    -> (tensor<f32>, tensor<f32>, tensor<4x3xf32>) {
  %a = dlc.softmax_cross_entropy %l, %y : (tensor<4x3xf32>, tensor<4xi32>) -> tensor<f32>
  %b = dlc.softmax_cross_entropy %l, %y : (tensor<4x3xf32>, tensor<4xi32>) -> tensor<f32>
  %d = dlc.softmax_cross_entropy_grad %l, %y, %g : (tensor<4x3xf32>, tensor<4xi32>, tensor<f32>) -> tensor<4x3xf32>
  return %a, %b, %d : tensor<f32>, tensor<f32>, tensor<4x3xf32>
}

// -----

// The seed is computed from the loss: no single op can produce the loss
// before the seed and take the seed as an operand.

// CHECK-LABEL: func @seed_from_loss
// CHECK-NOT: dlc.softmax_cross_entropy_with_grad
// CHECK: %[[LOSS:.*]] = dlc.softmax_cross_entropy %
// CHECK: %[[S:.*]] = arith.mulf %[[LOSS]], %[[LOSS]]
// CHECK: dlc.softmax_cross_entropy_grad %{{.*}}, %{{.*}}, %[[S]]
func.func @seed_from_loss(%l: tensor<4x3xf32>, %y: tensor<4xi32>) -> (tensor<f32>, tensor<4x3xf32>) {
  %loss = dlc.softmax_cross_entropy %l, %y : (tensor<4x3xf32>, tensor<4xi32>) -> tensor<f32>
  %s = arith.mulf %loss, %loss : tensor<f32>
  %dl = dlc.softmax_cross_entropy_grad %l, %y, %s : (tensor<4x3xf32>, tensor<4xi32>, tensor<f32>) -> tensor<4x3xf32>
  return %loss, %dl : tensor<f32>, tensor<4x3xf32>
}
