// RUN: dlc-opt %s -split-input-file -dlc-fuse-conv-bn-relu | FileCheck %s

// A conv + batch-norm + relu block of a training step, forward and backward:
// the convolution returns the batch statistics' sums, normalization and relu
// are one op, and the relu mask joins the batch-norm backward.

// CHECK-LABEL: func @block
// CHECK-SAME: (%[[X:[^:]+]]: {{[^,]*}}, %[[K:[^:]+]]: {{[^,]*}}, %[[G:[^:]+]]: {{[^,]*}}, %[[B:[^:]+]]: {{[^,]*}}, %[[M:[^:]+]]: {{[^,]*}}, %[[V:[^:]+]]: {{[^,]*}}, %[[DR:[^:]+]]: {{[^,]*}})
// CHECK: %[[C:.*]], %[[S:.*]], %[[SS:.*]] = dlc.conv2d_bn_stats %[[X]], %[[K]] {padding = #dlc.padding<same>}
// CHECK: %[[R:.*]], %[[BM:.*]], %[[BV:.*]], %[[RM:.*]], %[[RV:.*]] = dlc.batch_norm_train_apply %[[C]], %[[S]], %[[SS]], %[[G]], %[[B]], %[[M]], %[[V]] {relu}
// CHECK-NOT: dlc.relu
// CHECK: %[[DC:.*]], %[[DG:.*]], %[[DB:.*]] = dlc.batch_norm_relu_grad %[[DR]], %[[R]], %[[C]], %[[G]], %[[BM]], %[[BV]]
// CHECK: %[[DK:.*]] = dlc.conv2d_grad_filter %[[X]], %[[DC]]
// CHECK: return %[[R]], %[[RM]], %[[RV]], %[[DK]], %[[DG]], %[[DB]]
func.func @block(%x: tensor<2x6x6x1xf32>, %k: tensor<3x3x1x4xf32>, %g: tensor<4xf32>, %b: tensor<4xf32>,
                 %m: tensor<4xf32>, %v: tensor<4xf32>, %dr: tensor<2x6x6x4xf32>)
    -> (tensor<2x6x6x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<3x3x1x4xf32>, tensor<4xf32>, tensor<4xf32>) {
  %c = dlc.conv2d %x, %k {padding = #dlc.padding<same>} : (tensor<2x6x6x1xf32>, tensor<3x3x1x4xf32>) -> tensor<2x6x6x4xf32>
  %y:5 = dlc.batch_norm_train %c, %g, %b, %m, %v : (tensor<2x6x6x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>)
      -> (tensor<2x6x6x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>)
  %r = dlc.relu %y#0 : tensor<2x6x6x4xf32>
  %dz = dlc.relu_grad %dr, %r : tensor<2x6x6x4xf32>
  %dc:3 = dlc.batch_norm_grad %dz, %c, %g, %y#1, %y#2 : (tensor<2x6x6x4xf32>, tensor<2x6x6x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>)
      -> (tensor<2x6x6x4xf32>, tensor<4xf32>, tensor<4xf32>)
  %dk = dlc.conv2d_grad_filter %x, %dc#0 {kernel_size = array<i64: 3, 3>, padding = #dlc.padding<same>}
      : (tensor<2x6x6x1xf32>, tensor<2x6x6x4xf32>) -> tensor<3x3x1x4xf32>
  return %r, %y#3, %y#4, %dk, %dc#1, %dc#2 : tensor<2x6x6x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<3x3x1x4xf32>, tensor<4xf32>, tensor<4xf32>
}

// -----

// The convolution's output has another user (a residual add): the plain
// convolution and batch norm stay. The backward still fuses (its rule only
// needs relu_grad -> batch_norm_grad on a convolution's output).
// CHECK-LABEL: func @conv_two_users
// CHECK: %[[C:.*]] = dlc.conv2d
// CHECK-NOT: dlc.conv2d_bn_stats
// CHECK: dlc.batch_norm_train %[[C]]
// CHECK: dlc.relu
// CHECK: dlc.add %[[C]]
// CHECK: dlc.batch_norm_relu_grad
func.func @conv_two_users(%x: tensor<2x4x4x4xf32>, %k: tensor<1x1x4x4xf32>, %v: tensor<4xf32>, %dr: tensor<2x4x4x4xf32>)
    -> (tensor<2x4x4x4xf32>, tensor<2x4x4x4xf32>) {
  %c = dlc.conv2d %x, %k : (tensor<2x4x4x4xf32>, tensor<1x1x4x4xf32>) -> tensor<2x4x4x4xf32>
  %y:5 = dlc.batch_norm_train %c, %v, %v, %v, %v : (tensor<2x4x4x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>)
      -> (tensor<2x4x4x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>)
  %r = dlc.relu %y#0 : tensor<2x4x4x4xf32>
  %s = dlc.add %c, %r : tensor<2x4x4x4xf32>
  %dz = dlc.relu_grad %dr, %r : tensor<2x4x4x4xf32>
  %dc:3 = dlc.batch_norm_grad %dz, %c, %v, %y#1, %y#2 : (tensor<2x4x4x4xf32>, tensor<2x4x4x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>)
      -> (tensor<2x4x4x4xf32>, tensor<4xf32>, tensor<4xf32>)
  return %s, %dc#0 : tensor<2x4x4x4xf32>, tensor<2x4x4x4xf32>
}

// -----

// Batch norm after a dense layer: not a convolution, nothing fuses (the
// backward neither: its batch norm input is no convolution's output).
// CHECK-LABEL: func @dense_bn
// CHECK-NOT: dlc.batch_norm_train_apply
// CHECK-NOT: dlc.batch_norm_relu_grad
// CHECK: return
func.func @dense_bn(%x: tensor<4x8xf32>, %w: tensor<8x3xf32>, %v: tensor<3xf32>, %dr: tensor<4x3xf32>)
    -> (tensor<4x3xf32>, tensor<4x3xf32>) {
  %d = dlc.dense %x, %w : (tensor<4x8xf32>, tensor<8x3xf32>) -> tensor<4x3xf32>
  %y:5 = dlc.batch_norm_train %d, %v, %v, %v, %v : (tensor<4x3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>)
      -> (tensor<4x3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>)
  %r = dlc.relu %y#0 : tensor<4x3xf32>
  %dz = dlc.relu_grad %dr, %r : tensor<4x3xf32>
  %dd:3 = dlc.batch_norm_grad %dz, %d, %v, %y#1, %y#2 : (tensor<4x3xf32>, tensor<4x3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>)
      -> (tensor<4x3xf32>, tensor<3xf32>, tensor<3xf32>)
  return %r, %dd#0 : tensor<4x3xf32>, tensor<4x3xf32>
}

// -----

// Relu before batch norm: the batch norm's input is the relu, and backward
// the relu_grad consumes the batch-norm gradient; nothing fuses.
// CHECK-LABEL: func @relu_before_bn
// CHECK-NOT: dlc.conv2d_bn_stats
// CHECK-NOT: dlc.batch_norm_relu_grad
// CHECK: return
func.func @relu_before_bn(%x: tensor<2x4x4x4xf32>, %k: tensor<1x1x4x4xf32>, %v: tensor<4xf32>, %dy: tensor<2x4x4x4xf32>)
    -> (tensor<2x4x4x4xf32>, tensor<2x4x4x4xf32>) {
  %c = dlc.conv2d %x, %k : (tensor<2x4x4x4xf32>, tensor<1x1x4x4xf32>) -> tensor<2x4x4x4xf32>
  %r = dlc.relu %c : tensor<2x4x4x4xf32>
  %y:5 = dlc.batch_norm_train %r, %v, %v, %v, %v : (tensor<2x4x4x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>)
      -> (tensor<2x4x4x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>)
  %dr:3 = dlc.batch_norm_grad %dy, %r, %v, %y#1, %y#2 : (tensor<2x4x4x4xf32>, tensor<2x4x4x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>)
      -> (tensor<2x4x4x4xf32>, tensor<4xf32>, tensor<4xf32>)
  %dc = dlc.relu_grad %dr#0, %r : tensor<2x4x4x4xf32>
  return %y#0, %dc : tensor<2x4x4x4xf32>, tensor<2x4x4x4xf32>
}

// -----

// The normalized value is used before the relu too: folding the relu in
// would change what that user sees. The statistics still fuse; the relu
// stays.
// CHECK-LABEL: func @pre_relu_escapes
// CHECK: %[[C:.*]], %{{.*}}, %{{.*}} = dlc.conv2d_bn_stats
// CHECK: %[[Y:[^,]*]], {{.*}} = dlc.batch_norm_train_apply %[[C]], {{[^{]*}} :
// CHECK: %[[R:.*]] = dlc.relu %[[Y]]
// CHECK: return %[[R]], %[[Y]]
func.func @pre_relu_escapes(%x: tensor<2x4x4x4xf32>, %k: tensor<1x1x4x4xf32>, %v: tensor<4xf32>)
    -> (tensor<2x4x4x4xf32>, tensor<2x4x4x4xf32>) {
  %c = dlc.conv2d %x, %k : (tensor<2x4x4x4xf32>, tensor<1x1x4x4xf32>) -> tensor<2x4x4x4xf32>
  %y:5 = dlc.batch_norm_train %c, %v, %v, %v, %v : (tensor<2x4x4x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>)
      -> (tensor<2x4x4x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>)
  %r = dlc.relu %y#0 : tensor<2x4x4x4xf32>
  return %r, %y#0 : tensor<2x4x4x4xf32>, tensor<2x4x4x4xf32>
}

// -----

// Another activation than relu is not folded in.
// CHECK-LABEL: func @leaky_relu
// CHECK: %[[Y:[^,]*]], {{.*}} = dlc.batch_norm_train_apply {{[^{]*}} :
// CHECK: dlc.leaky_relu %[[Y]]
func.func @leaky_relu(%x: tensor<2x4x4x4xf32>, %k: tensor<1x1x4x4xf32>, %v: tensor<4xf32>) -> tensor<2x4x4x4xf32> {
  %c = dlc.conv2d %x, %k : (tensor<2x4x4x4xf32>, tensor<1x1x4x4xf32>) -> tensor<2x4x4x4xf32>
  %y:5 = dlc.batch_norm_train %c, %v, %v, %v, %v : (tensor<2x4x4x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>)
      -> (tensor<2x4x4x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>)
  %r = dlc.leaky_relu %y#0 : tensor<2x4x4x4xf32>
  return %r : tensor<2x4x4x4xf32>
}

// -----

// The masked gradient has another user: the relu_grad stays, and so does
// the unfused batch-norm backward (computing the mask twice saves nothing).
// CHECK-LABEL: func @masked_grad_two_users
// CHECK: %[[DZ:.*]] = dlc.relu_grad
// CHECK: dlc.batch_norm_grad %[[DZ]]
// CHECK-NOT: dlc.batch_norm_relu_grad
func.func @masked_grad_two_users(%x: tensor<2x4x4x4xf32>, %k: tensor<1x1x4x4xf32>, %r: tensor<2x4x4x4xf32>,
                                 %v: tensor<4xf32>, %dr: tensor<2x4x4x4xf32>)
    -> (tensor<2x4x4x4xf32>, tensor<2x4x4x4xf32>) {
  %c = dlc.conv2d %x, %k : (tensor<2x4x4x4xf32>, tensor<1x1x4x4xf32>) -> tensor<2x4x4x4xf32>
  %dz = dlc.relu_grad %dr, %r : tensor<2x4x4x4xf32>
  %dc:3 = dlc.batch_norm_grad %dz, %c, %v, %v, %v : (tensor<2x4x4x4xf32>, tensor<2x4x4x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>)
      -> (tensor<2x4x4x4xf32>, tensor<4xf32>, tensor<4xf32>)
  return %dz, %dc#0 : tensor<2x4x4x4xf32>, tensor<2x4x4x4xf32>
}
