// RUN: dlc-opt %s -split-input-file -dlc-build-train-step | FileCheck %s

// A conv + batch-norm + relu + dropout + dense classifier, Adam by default.
// The train step keeps exactly the forward values backward reads: the conv
// input (filter gradient), the batch statistics, the relu output (its mask)
// and the dense input; the first layer gets no input gradient.

// CHECK-LABEL: func.func @predict(
// CHECK-SAME: {dlc.init = "glorot_uniform", dlc.name = "conv/kernel", dlc.role = "param"}
// CHECK-SAME: {dlc.name = "bn/moving_mean", dlc.role = "state"}
// CHECK-SAME: {dlc.name = "input", dlc.role = "input"}
// CHECK-NOT: dlc.dropout
// CHECK: dlc.batch_norm %
// CHECK-NOT: dlc.dropout
// CHECK: return

// CHECK-LABEL: func.func @eval_step(
// CHECK-SAME: {dlc.name = "labels", dlc.role = "labels"})
// CHECK-SAME: -> (tensor<f32> {dlc.name = "loss", dlc.role = "loss"}, tensor<i32> {dlc.name = "correct", dlc.role = "correct"})
// CHECK-NOT: dlc.dropout
// CHECK-NOT: dlc.batch_norm_train
// CHECK: dlc.softmax_cross_entropy
// CHECK: dlc.accuracy

// CHECK-LABEL: func.func @train_step(
// CHECK-SAME: %[[K:[^:]+]]: tensor<3x3x1x4xf32> {dlc.init = "glorot_uniform", dlc.name = "conv/kernel", dlc.role = "param"}
// CHECK-SAME: %[[G:[^:]+]]: tensor<4xf32> {dlc.name = "bn/gamma", dlc.role = "param"}
// CHECK-SAME: {dlc.name = "conv/kernel/m", dlc.role = "opt_state"}
// CHECK-SAME: {dlc.name = "conv/kernel/v", dlc.role = "opt_state"}
// CHECK-SAME: %[[MEAN:[^:]+]]: tensor<4xf32> {dlc.name = "bn/moving_mean", dlc.role = "state"}
// CHECK-SAME: %[[X:[^:]+]]: tensor<2x6x6x1xf32> {dlc.name = "input", dlc.role = "input"}
// CHECK-SAME: %[[Y:[^:]+]]: tensor<2xi32> {dlc.name = "labels", dlc.role = "labels"}
// CHECK-SAME: %[[STEP:[^:]+]]: i64 {dlc.name = "step", dlc.role = "step"}
// CHECK-SAME: %[[SEED:[^:]+]]: i64 {dlc.name = "seed", dlc.role = "seed"}
// CHECK-SAME: %[[LR:[^:]+]]: f32 {dlc.name = "learning_rate", dlc.role = "learning_rate"}
// CHECK-SAME: {dlc.name = "bn/moving_mean", dlc.role = "state"}
// CHECK-SAME: tensor<f32> {dlc.name = "loss", dlc.role = "loss"}
// CHECK: %[[MUL:.*]] = arith.muli %[[SEED]]
// CHECK: %[[KEY:.*]] = arith.addi %[[MUL]], %[[STEP]]
// CHECK: %[[CONV:.*]] = dlc.conv2d %[[X]], %[[K]]
// CHECK: %[[BN:.*]], %[[BMEAN:.*]], %[[BVAR:.*]], %[[NEWMEAN:.*]], %{{.*}} = dlc.batch_norm_train %[[CONV]], %[[G]], %{{.*}}, %[[MEAN]]
// CHECK: %[[RELU:.*]] = dlc.relu %[[BN]]
// CHECK: %[[DROP:.*]] = dlc.dropout %[[RELU]], %[[KEY]] {rate = 5.000000e-01 : f32, stream = 1 : i64}
// CHECK: %[[FLAT:.*]] = dlc.flatten %[[DROP]]
// CHECK: %[[LOGITS:.*]] = dlc.dense %[[FLAT]]
// CHECK: %[[LOSS:.*]] = dlc.softmax_cross_entropy %[[LOGITS]], %[[Y]]
// CHECK: %[[ONE:.*]] = arith.constant dense<1.000000e+00> : tensor<f32>
// CHECK: %[[DLOGITS:.*]] = dlc.softmax_cross_entropy_grad %[[LOGITS]], %[[Y]], %[[ONE]]
// CHECK: dlc.matmul %[[FLAT]], %[[DLOGITS]] {transpose_lhs}
// The dropout mask is replayed from the same key and stream.
// CHECK: %[[DDROP:.*]] = dlc.dropout %{{.*}}, %[[KEY]] {rate = 5.000000e-01 : f32, stream = 1 : i64}
// CHECK: %[[DRELU:.*]] = dlc.relu_grad %[[DDROP]], %[[RELU]]
// CHECK: %[[DBN:.*]], %[[DG:.*]], %[[DB:.*]] = dlc.batch_norm_grad %[[DRELU]], %[[CONV]], %[[G]], %[[BMEAN]], %[[BVAR]]
// CHECK-NOT: dlc.conv2d_grad_input
// CHECK: %[[DK:.*]] = dlc.conv2d_grad_filter %[[X]], %[[DBN]] {kernel_size = array<i64: 3, 3>}
// CHECK: %[[T:.*]] = arith.addi %[[STEP]]
// CHECK: %[[NEWK:.*]], %{{.*}}, %{{.*}} = dlc.adam_update %[[K]], %[[DK]], %{{.*}}, %{{.*}}, %[[LR]], %[[T]]
// CHECK: return %[[NEWK]], {{.*}}, %[[NEWMEAN]], {{.*}}, %[[LOSS]]
func.func @forward(%x: tensor<2x6x6x1xf32>,
    %k: tensor<3x3x1x4xf32> {dlc.init = "glorot_uniform", dlc.name = "conv/kernel"},
    %g: tensor<4xf32> {dlc.name = "bn/gamma"}, %b: tensor<4xf32> {dlc.name = "bn/beta"},
    %m: tensor<4xf32> {dlc.name = "bn/moving_mean"}, %v: tensor<4xf32> {dlc.name = "bn/moving_variance"},
    %w: tensor<64x3xf32> {dlc.name = "dense/kernel"}, %c: tensor<3xf32> {dlc.name = "dense/bias"}) -> tensor<2x3xf32> {
  %0 = dlc.conv2d %x, %k : (tensor<2x6x6x1xf32>, tensor<3x3x1x4xf32>) -> tensor<2x4x4x4xf32>
  %1 = dlc.batch_norm %0, %g, %b, %m, %v : (tensor<2x4x4x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<2x4x4x4xf32>
  %2 = dlc.relu %1 : tensor<2x4x4x4xf32>
  %3 = dlc.dropout %2 {rate = 0.5 : f32} : (tensor<2x4x4x4xf32>) -> tensor<2x4x4x4xf32>
  %4 = dlc.flatten %3 : (tensor<2x4x4x4xf32>) -> tensor<2x64xf32>
  %5 = dlc.dense %4, %w, %c : (tensor<2x64xf32>, tensor<64x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  return %5 : tensor<2x3xf32>
}

// -----

// SGD with Nesterov momentum and weight decay from the module's settings:
// one velocity slot per parameter.
module attributes {dlc.optimizer = {name = "SGD", momentum = 0.9 : f32, nesterov = true, weight_decay = 1.0e-4 : f32}} {
  // CHECK-LABEL: func.func @train_step(
  // CHECK-SAME: {dlc.name = "w/velocity", dlc.role = "opt_state"}
  // CHECK: dlc.sgd_update {{.*}} {momentum = 0.899999976 : f32, nesterov, weight_decay = 9.99999974E-5 : f32} : tensor<8x2xf32>, f32
  func.func @forward(%x: tensor<4x8xf32>, %w: tensor<8x2xf32> {dlc.name = "w"}) -> tensor<4x2xf32> {
    %0 = dlc.dense %x, %w : (tensor<4x8xf32>, tensor<8x2xf32>) -> tensor<4x2xf32>
    return %0 : tensor<4x2xf32>
  }
}

// -----

// AdamW decouples its weight decay; Keras's default decay is 0.004.
module attributes {dlc.optimizer = {name = "adamw", learning_rate = 1.0e-3 : f32}} {
  // CHECK-LABEL: func.func @train_step(
  // CHECK: dlc.adam_update {{.*}} {decoupled_weight_decay, weight_decay = 4.000000e-03 : f32}
  func.func @forward(%x: tensor<4x8xf32>, %w: tensor<8x2xf32> {dlc.name = "w"}) -> tensor<4x2xf32> {
    %0 = dlc.dense %x, %w : (tensor<4x8xf32>, tensor<8x2xf32>) -> tensor<4x2xf32>
    return %0 : tensor<4x2xf32>
  }
}

// -----

// A residual connection: the gradients of a value used twice add up.
// CHECK-LABEL: func.func @train_step(
// CHECK: %[[H:.*]] = dlc.relu
// CHECK: dlc.add %[[H]], %{{.*}}
// CHECK: %[[DBRANCH:.*]] = dlc.conv2d_grad_input
// CHECK: %[[SUM:.*]] = dlc.add %{{.*}}, %[[DBRANCH]] : tensor<2x4x4x4xf32>
// CHECK: %[[DH:.*]] = dlc.relu_grad %[[SUM]], %[[H]]
// CHECK: dlc.conv2d_grad_filter %{{.*}}, %[[DH]]
func.func @forward(%x: tensor<2x4x4x4xf32>, %k1: tensor<3x3x4x4xf32> {dlc.name = "a/kernel"},
    %k2: tensor<3x3x4x4xf32> {dlc.name = "b/kernel"}, %w: tensor<4x2xf32> {dlc.name = "d/kernel"}) -> tensor<2x2xf32> {
  %0 = dlc.conv2d %x, %k1 {padding = #dlc.padding<same>} : (tensor<2x4x4x4xf32>, tensor<3x3x4x4xf32>) -> tensor<2x4x4x4xf32>
  %1 = dlc.relu %0 : tensor<2x4x4x4xf32>
  %2 = dlc.conv2d %1, %k2 {padding = #dlc.padding<same>} : (tensor<2x4x4x4xf32>, tensor<3x3x4x4xf32>) -> tensor<2x4x4x4xf32>
  %3 = dlc.add %1, %2 : tensor<2x4x4x4xf32>
  %4 = dlc.global_avg_pool %3 : (tensor<2x4x4x4xf32>) -> tensor<2x4xf32>
  %5 = dlc.dense %4, %w : (tensor<2x4xf32>, tensor<4x2xf32>) -> tensor<2x2xf32>
  return %5 : tensor<2x2xf32>
}

// -----

// Regression: mse takes float targets of the prediction's type and counts
// no correct classes.
module attributes {dlc.loss = "mse"} {
  // CHECK-LABEL: func.func @train_step(
  // CHECK-SAME: %[[T:[^:]+]]: tensor<4x1xf32> {dlc.name = "labels", dlc.role = "labels"}
  // CHECK: %[[P:.*]] = dlc.dense
  // CHECK: dlc.mse %[[P]], %[[T]]
  // CHECK: arith.constant dense<0> : tensor<i32>
  // CHECK: dlc.mse_grad %[[P]], %[[T]]
  func.func @forward(%x: tensor<4x8xf32>, %w: tensor<8x1xf32> {dlc.name = "w"}) -> tensor<4x1xf32> {
    %0 = dlc.dense %x, %w : (tensor<4x8xf32>, tensor<8x1xf32>) -> tensor<4x1xf32>
    return %0 : tensor<4x1xf32>
  }
}

// -----

// A model ending in softmax with a probability loss: the loss takes the
// softmax's input (same math, numerically stable), and no softmax_grad.
module attributes {dlc.loss = {name = "sparse_categorical_crossentropy", from_logits = false}} {
  // CHECK-LABEL: func.func @train_step(
  // CHECK: %[[L:.*]] = dlc.dense
  // CHECK: dlc.softmax %[[L]]
  // CHECK: dlc.softmax_cross_entropy %[[L]]
  // CHECK-NOT: dlc.softmax_grad
  // CHECK: return
  func.func @forward(%x: tensor<4x8xf32>, %w: tensor<8x3xf32> {dlc.name = "w"}) -> tensor<4x3xf32> {
    %0 = dlc.dense %x, %w : (tensor<4x8xf32>, tensor<8x3xf32>) -> tensor<4x3xf32>
    %1 = dlc.softmax %0 : tensor<4x3xf32>
    return %1 : tensor<4x3xf32>
  }
}

// -----

// A frozen parameter is state: passed through, never updated, no slots;
// nothing before it needs a gradient, so no input gradient is built at all.
// CHECK-LABEL: func.func @train_step(
// CHECK-SAME: %[[W1:[^:]+]]: tensor<8x8xf32> {dlc.name = "trained", dlc.role = "param"}
// CHECK-NOT: frozen/m
// CHECK-SAME: %[[W0:[^:]+]]: tensor<8x8xf32> {dlc.name = "frozen", dlc.role = "state"}
// CHECK-NOT: transpose_rhs
// CHECK: dlc.matmul %{{.*}} {transpose_lhs}
// CHECK-NOT: transpose_rhs
// CHECK: dlc.adam_update %[[W1]]
// CHECK-NOT: dlc.adam_update
// CHECK: return {{.*}}, %[[W0]],
func.func @forward(%x: tensor<4x8xf32>, %w0: tensor<8x8xf32> {dlc.name = "frozen", dlc.trainable = false},
                   %w1: tensor<8x8xf32> {dlc.name = "trained"}) -> tensor<4x8xf32> {
  %0 = dlc.dense %x, %w0 : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32>
  %1 = dlc.dense %0, %w1 : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32>
  return %1 : tensor<4x8xf32>
}

// -----

// Concatenate: each branch receives its slice of the gradient.
// CHECK-LABEL: func.func @train_step(
// CHECK: %[[D:.*]] = dlc.matmul %{{.*}} {transpose_rhs} : (tensor<2x3xf32>, tensor<12x3xf32>) -> tensor<2x12xf32>
// CHECK: tensor.extract_slice %[[D]][0, 0] [2, 4] [1, 1]
// CHECK: tensor.extract_slice %[[D]][0, 4] [2, 8] [1, 1]
func.func @forward(%x: tensor<2x8xf32>, %a: tensor<8x4xf32> {dlc.name = "a"}, %b: tensor<8x8xf32> {dlc.name = "b"},
                   %w: tensor<12x3xf32> {dlc.name = "w"}) -> tensor<2x3xf32> {
  %0 = dlc.dense %x, %a : (tensor<2x8xf32>, tensor<8x4xf32>) -> tensor<2x4xf32>
  %1 = dlc.dense %x, %b : (tensor<2x8xf32>, tensor<8x8xf32>) -> tensor<2x8xf32>
  %2 = dlc.concat %0, %1 : (tensor<2x4xf32>, tensor<2x8xf32>) -> tensor<2x12xf32>
  %3 = dlc.dense %2, %w : (tensor<2x12xf32>, tensor<12x3xf32>) -> tensor<2x3xf32>
  return %3 : tensor<2x3xf32>
}

// -----

// A frozen BatchNormalization keeps its inference form in training, as in
// Keras; its running statistics pass through unchanged.
// CHECK-LABEL: func.func @train_step(
// CHECK-NOT: dlc.batch_norm_train
// CHECK: dlc.batch_norm %{{.*}} {dlc.trainable = false}
// CHECK-NOT: dlc.batch_norm_grad
// CHECK: return
func.func @forward(%x: tensor<2x4xf32>, %g: tensor<4xf32> {dlc.name = "bn/gamma", dlc.trainable = false},
    %b: tensor<4xf32> {dlc.name = "bn/beta", dlc.trainable = false},
    %m: tensor<4xf32> {dlc.name = "bn/moving_mean", dlc.trainable = false},
    %v: tensor<4xf32> {dlc.name = "bn/moving_variance", dlc.trainable = false},
    %w: tensor<4x2xf32> {dlc.init = "random_normal", dlc.init_config = {mean = 0.0 : f32, stddev = 0.01 : f32}, dlc.name = "w"}) -> tensor<2x2xf32> {
  %0 = dlc.batch_norm %x, %g, %b, %m, %v {dlc.trainable = false} : (tensor<2x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<2x4xf32>
  %1 = dlc.dense %0, %w : (tensor<2x4xf32>, tensor<4x2xf32>) -> tensor<2x2xf32>
  return %1 : tensor<2x2xf32>
}

// -----

// Initializer parameters travel with the tensor.
// CHECK-LABEL: func.func @train_step(
// CHECK-SAME: {dlc.init = "random_normal", dlc.init_config = {mean = 0.000000e+00 : f32, stddev = 0.00999999977 : f32}, dlc.name = "w", dlc.role = "param"}
func.func @forward(%x: tensor<2x4xf32>,
    %w: tensor<4x2xf32> {dlc.init = "random_normal", dlc.init_config = {mean = 0.0 : f32, stddev = 0.01 : f32}, dlc.name = "w"}) -> tensor<2x2xf32> {
  %0 = dlc.dense %x, %w : (tensor<2x4xf32>, tensor<4x2xf32>) -> tensor<2x2xf32>
  return %0 : tensor<2x2xf32>
}
