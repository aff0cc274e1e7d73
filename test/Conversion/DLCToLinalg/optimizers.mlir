// RUN: dlc-opt %s -split-input-file -convert-dlc-to-linalg | FileCheck %s

// SGD with Nesterov momentum and weight decay: one generic writes the new
// parameter and velocity; the learning rate is used in the body directly.

// CHECK-LABEL: func @sgd_nesterov
// CHECK-SAME: (%[[P:.*]]: tensor<5xf32>, %[[G:.*]]: tensor<5xf32>, %[[V:.*]]: tensor<5xf32>, %[[LR:.*]]: f32)
// CHECK: %[[R:.*]]:2 = linalg.generic
// CHECK-SAME: ins(%[[P]], %[[G]], %[[V]] :
// CHECK: ^bb0(%[[p:.*]]: f32, %[[g:.*]]: f32, %[[v:.*]]: f32, %{{.*}}: f32, %{{.*}}: f32):
// CHECK: %[[MU:.*]] = arith.constant 0.899999976 : f32
// CHECK: %[[WD:.*]] = arith.constant 0.00999999977 : f32
// CHECK: %[[DECAY:.*]] = arith.mulf %[[WD]], %[[p]]
// CHECK: %[[GD:.*]] = arith.addf %[[g]], %[[DECAY]]
// CHECK: %[[MV:.*]] = arith.mulf %[[MU]], %[[v]]
// CHECK: %[[NV:.*]] = arith.addf %[[MV]], %[[GD]]
// CHECK: %[[LOOK:.*]] = arith.mulf %[[MU]], %[[NV]]
// CHECK: %[[DIR:.*]] = arith.addf %[[GD]], %[[LOOK]]
// CHECK: %[[STEP:.*]] = arith.mulf %[[LR]], %[[DIR]]
// CHECK: %[[NP:.*]] = arith.subf %[[p]], %[[STEP]]
// CHECK: linalg.yield %[[NP]], %[[NV]]
// CHECK: return %[[R]]#0, %[[R]]#1
func.func @sgd_nesterov(%p: tensor<5xf32>, %g: tensor<5xf32>, %v: tensor<5xf32>, %lr: f32) -> (tensor<5xf32>, tensor<5xf32>) {
  %p1, %v1 = dlc.sgd_update %p, %g, %v, %lr {momentum = 9.000000e-01 : f32, nesterov, weight_decay = 0.01 : f32} : tensor<5xf32>, f32
  return %p1, %v1 : tensor<5xf32>, tensor<5xf32>
}

// -----

// Plain SGD: the velocity passes through untouched.

// CHECK-LABEL: func @sgd_plain
// CHECK-SAME: %[[V:[^:]+]]: tensor<5xf32>, %{{[^:]*}}: f32)
// CHECK: %[[NP:.*]] = linalg.generic
// CHECK-NOT: arith.constant 0.899999976
// CHECK: return %[[NP]], %[[V]]
func.func @sgd_plain(%p: tensor<5xf32>, %g: tensor<5xf32>, %v: tensor<5xf32>, %lr: f32) -> (tensor<5xf32>, tensor<5xf32>) {
  %p1, %v1 = dlc.sgd_update %p, %g, %v, %lr : tensor<5xf32>, f32
  return %p1, %v1 : tensor<5xf32>, tensor<5xf32>
}

// -----

// AdamW: bias corrections once in f32 (powf of the 1-based step; none for
// a step below 1), the decoupled decay as param * (1 - lr * wd), then one
// generic for the parameter and both moments.

// CHECK-LABEL: func @adamw
// CHECK-SAME: %[[LR:[^:]+]]: f32, %[[T:[^:]+]]: i64)
// CHECK: %[[TF:.*]] = arith.sitofp %[[T]] : i64 to f32
// CHECK: %[[ONE:.*]] = arith.constant 1.000000e+00 : f32
// CHECK: %[[NONE:.*]] = arith.cmpi slt, %[[T]], %{{.*}} : i64
// CHECK: %[[B1T:.*]] = math.powf %{{.*}}, %[[TF]] : f32
// CHECK: %[[D1:.*]] = arith.subf %[[ONE]], %[[B1T]]
// CHECK: %[[C1:.*]] = arith.select %[[NONE]], %[[ONE]], %[[D1]]
// CHECK: %[[STEPSIZE:.*]] = arith.divf %[[LR]], %[[C1]]
// CHECK: %[[B2T:.*]] = math.powf %{{.*}}, %[[TF]] : f32
// CHECK: %[[D2:.*]] = arith.subf %[[ONE]], %[[B2T]]
// CHECK: %[[C2:.*]] = arith.select %[[NONE]], %[[ONE]], %[[D2]]
// CHECK: %[[ROOT:.*]] = math.sqrt %[[C2]]
// CHECK: %[[LRWD:.*]] = arith.mulf %[[LR]], %{{.*}}
// CHECK: %[[DECAY:.*]] = arith.subf %{{.*}}, %[[LRWD]]
// CHECK: %[[R:.*]]:3 = linalg.generic
// CHECK: math.sqrt
// CHECK: arith.divf %{{.*}}, %[[ROOT]]
// CHECK: arith.mulf %{{.*}}, %[[DECAY]]
// CHECK: arith.mulf %[[STEPSIZE]], %{{.*}}
// CHECK: return %[[R]]#0, %[[R]]#1, %[[R]]#2
func.func @adamw(%p: tensor<5xf32>, %g: tensor<5xf32>, %m: tensor<5xf32>, %v: tensor<5xf32>, %lr: f32, %t: i64)
    -> (tensor<5xf32>, tensor<5xf32>, tensor<5xf32>) {
  %p1, %m1, %v1 = dlc.adam_update %p, %g, %m, %v, %lr, %t {decoupled_weight_decay, weight_decay = 0.004 : f32} : tensor<5xf32>, f32, i64
  return %p1, %m1, %v1 : tensor<5xf32>, tensor<5xf32>, tensor<5xf32>
}

// -----

// Adam with L2 weight decay adds weight_decay * param to the gradient and
// does not scale the parameter.

// CHECK-LABEL: func @adam_l2
// CHECK: linalg.generic
// CHECK: ^bb0(%[[p:.*]]: f32, %[[g:.*]]: f32, %{{.*}}: f32, %{{.*}}: f32, %{{.*}}: f32, %{{.*}}: f32, %{{.*}}: f32):
// CHECK: %[[WD:.*]] = arith.constant 1.000000e-03 : f32
// CHECK: %[[D:.*]] = arith.mulf %[[WD]], %[[p]]
// CHECK: arith.addf %[[g]], %[[D]]
func.func @adam_l2(%p: tensor<5xf32>, %g: tensor<5xf32>, %m: tensor<5xf32>, %v: tensor<5xf32>, %lr: f32, %t: i64)
    -> (tensor<5xf32>, tensor<5xf32>, tensor<5xf32>) {
  %p1, %m1, %v1 = dlc.adam_update %p, %g, %m, %v, %lr, %t {weight_decay = 0.001 : f32} : tensor<5xf32>, f32, i64
  return %p1, %m1, %v1 : tensor<5xf32>, tensor<5xf32>, tensor<5xf32>
}

// -----

// SGD with dampening (ONNX's Momentum with beta = 1 - dampening): the
// gradient's factor is 1 on the first step and 1 - dampening after, chosen
// once before the generic.

// CHECK-LABEL: func @sgd_dampening
// CHECK-SAME: %[[LR:[^:]+]]: f32, %[[T:[^:]+]]: i64)
// CHECK: %[[FIRST:.*]] = arith.cmpi sle, %[[T]], %{{.*}} : i64
// CHECK-DAG: %[[ONE:.*]] = arith.constant 1.000000e+00 : f32
// CHECK-DAG: %[[KEEP:.*]] = arith.constant 0.699999988 : f32
// CHECK: %[[C:.*]] = arith.select %[[FIRST]], %[[ONE]], %[[KEEP]] : f32
// CHECK: %[[R:.*]]:2 = linalg.generic
// CHECK: ^bb0(%[[p:.*]]: f32, %[[g:.*]]: f32, %[[v:.*]]: f32, %{{.*}}: f32, %{{.*}}: f32):
// CHECK: %[[MV:.*]] = arith.mulf %{{.*}}, %[[v]]
// CHECK: %[[CG:.*]] = arith.mulf %[[C]], %[[g]]
// CHECK: %[[NV:.*]] = arith.addf %[[MV]], %[[CG]]
// CHECK: %[[STEP:.*]] = arith.mulf %[[LR]], %[[NV]]
// CHECK: %[[NP:.*]] = arith.subf %[[p]], %[[STEP]]
// CHECK: linalg.yield %[[NP]], %[[NV]]
func.func @sgd_dampening(%p: tensor<5xf32>, %g: tensor<5xf32>, %v: tensor<5xf32>, %lr: f32, %t: i64) -> (tensor<5xf32>, tensor<5xf32>) {
  %p1, %v1 = dlc.sgd_update %p, %g, %v, %lr, %t {dampening = 0.3 : f32, momentum = 0.9 : f32} : tensor<5xf32>, f32, i64
  return %p1, %v1 : tensor<5xf32>, tensor<5xf32>
}

// -----

// Adam with epsilon_hat (Keras's and ONNX's arrangement): the root of the
// second correction scales the step size and epsilon is added to sqrt(v)
// itself; post_decay scales the updated parameter.

// CHECK-LABEL: func @adam_epsilon_hat
// CHECK-SAME: %[[LR:[^:]+]]: f32, %[[T:[^:]+]]: i64)
// CHECK: %[[STEPSIZE:.*]] = arith.divf %[[LR]], %{{.*}} : f32
// CHECK: %[[ROOT:.*]] = math.sqrt %{{.*}} : f32
// CHECK: %[[SCALED:.*]] = arith.mulf %[[STEPSIZE]], %[[ROOT]] : f32
// CHECK: linalg.generic
// CHECK: %[[SQRTV:.*]] = math.sqrt %{{.*}} : f32
// CHECK-NOT: arith.divf %[[SQRTV]]
// CHECK: %[[DEN:.*]] = arith.addf %[[SQRTV]], %{{.*}} : f32
// CHECK: %[[NUM:.*]] = arith.mulf %[[SCALED]], %{{.*}} : f32
// CHECK: %[[UPD:.*]] = arith.divf %[[NUM]], %[[DEN]] : f32
// CHECK: %[[NP:.*]] = arith.subf %{{.*}}, %[[UPD]] : f32
// CHECK: %[[KEEP:.*]] = arith.constant 9.800000e-01 : f32
// CHECK: %[[FINAL:.*]] = arith.mulf %[[KEEP]], %[[NP]] : f32
// CHECK: linalg.yield %[[FINAL]]
func.func @adam_epsilon_hat(%p: tensor<5xf32>, %g: tensor<5xf32>, %m: tensor<5xf32>, %v: tensor<5xf32>, %lr: f32, %t: i64)
    -> (tensor<5xf32>, tensor<5xf32>, tensor<5xf32>) {
  %p1, %m1, %v1 = dlc.adam_update %p, %g, %m, %v, %lr, %t {epsilon_hat, post_decay = 0.02 : f32} : tensor<5xf32>, f32, i64
  return %p1, %m1, %v1 : tensor<5xf32>, tensor<5xf32>, tensor<5xf32>
}
