//===- DLCOptimizerOps.td - dlc optimizer updates ----------*- tablegen -*-===//
//
// One op per optimizer: the whole update of one parameter and its state,
// with PyTorch's formulas (and the attributes that give Keras's and ONNX's
// variants), so that it lowers to a single pass over memory.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_DIALECT_DLC_IR_DLCOPTIMIZEROPS_TD
#define DLC_DIALECT_DLC_IR_DLCOPTIMIZEROPS_TD

def DLC_SgdUpdateOp : DLC_Op<"sgd_update", [AllTypesMatch<["param", "grad",
    "velocity", "new_param", "new_velocity"]>]> {
  let summary = "SGD step with momentum, dampening, Nesterov, weight decay";
  let description = [{
    With `g = grad + weight_decay * param`:
    `new_velocity = momentum * velocity + c * g`;
    `new_param = param - learning_rate * (nesterov ? g + momentum * new_velocity
                                                   : new_velocity)`,
    where `c = 1 - dampening`, except on the first step (`step` = 1, or
    below) where `c = 1`: PyTorch's SGD starts its momentum buffer from the
    undamped gradient, and ONNX's Momentum (`beta_adjusted`, with `beta =
    1 - dampening` and `step = T + 1`) does the same. `step` (the 1-based
    step count) is required when `dampening` is not 0 and unused otherwise.
    With `momentum = 0` the step is `param - learning_rate * g` and the
    velocity is unused (returned unchanged), as in PyTorch.

    Example:
    ```mlir
    %p1, %v1 = dlc.sgd_update %p, %g, %v, %lr {momentum = 9.000000e-01 : f32, nesterov}
        : tensor<3x3x1x32xf32>, f32
    %p2, %v2 = dlc.sgd_update %p, %g, %v, %lr, %t {dampening = 5.000000e-01 : f32,
        momentum = 9.000000e-01 : f32} : tensor<16xf32>, f32, i64
    ```
  }];
  let arguments = (ins DLC_F32Tensor:$param, DLC_F32Tensor:$grad,
                       DLC_F32Tensor:$velocity, F32:$learning_rate,
                       Optional<I64>:$step,
                       DefaultValuedAttr<F32Attr, "0.0f">:$momentum,
                       UnitAttr:$nesterov,
                       DefaultValuedAttr<F32Attr, "0.0f">:$weight_decay,
                       DefaultValuedAttr<F32Attr, "0.0f">:$dampening);
  let results = (outs DLC_F32Tensor:$new_param, DLC_F32Tensor:$new_velocity);
  let assemblyFormat = [{
    $param `,` $grad `,` $velocity `,` $learning_rate (`,` $step^)? attr-dict
    `:` type($param) `,` type($learning_rate) (`,` type($step)^)?
  }];
  let hasVerifier = 1;
}

def DLC_AdamUpdateOp : DLC_Op<"adam_update", [AllTypesMatch<["param", "grad",
    "m", "v", "new_param", "new_m", "new_v"]>]> {
  let summary = "Adam / AdamW step (PyTorch formulas, or Keras's and ONNX's)";
  let description = [{
    `step` is the 1-based step count t. With `g = grad (+ weight_decay *
    param unless decoupled)`:
    `new_m = beta1 * m + (1 - beta1) * g`,
    `new_v = beta2 * v + (1 - beta2) * g^2`,
    `new_param = (1 - post_decay) * (param' - learning_rate * (new_m / (1 - beta1^t)) /
                 (sqrt(new_v / (1 - beta2^t)) + epsilon))`,
    where `param' = param * (1 - learning_rate * weight_decay)` when
    `decoupled_weight_decay` (AdamW) and `param` otherwise.

    With `epsilon_hat`, epsilon is the paper's epsilon-hat (Kingma and Ba,
    section 2, the efficient form that Keras, TensorFlow and ONNX compute):
    it is added to `sqrt(new_v)` before the bias correction,
    `param' - learning_rate * sqrt(1 - beta2^t) / (1 - beta1^t) * new_m /
    (sqrt(new_v) + epsilon)`.
    A step count below 1 applies no bias correction (ONNX's Adam at T = 0).
    `post_decay` (ONNX's norm_coefficient_post, default 0) scales the
    updated parameter.

    Example:
    ```mlir
    %p1, %m1, %v1 = dlc.adam_update %p, %g, %m, %v, %lr, %t {decoupled_weight_decay,
        weight_decay = 0.00999999977 : f32} : tensor<128xf32>, f32, i64
    ```
  }];
  let arguments = (ins DLC_F32Tensor:$param, DLC_F32Tensor:$grad,
                       DLC_F32Tensor:$m, DLC_F32Tensor:$v,
                       F32:$learning_rate, I64:$step,
                       DefaultValuedAttr<F32Attr, "0.9f">:$beta1,
                       DefaultValuedAttr<F32Attr, "0.999f">:$beta2,
                       DefaultValuedAttr<F32Attr, "1.0e-7f">:$epsilon,
                       DefaultValuedAttr<F32Attr, "0.0f">:$weight_decay,
                       UnitAttr:$decoupled_weight_decay,
                       UnitAttr:$epsilon_hat,
                       DefaultValuedAttr<F32Attr, "0.0f">:$post_decay);
  let results = (outs DLC_F32Tensor:$new_param, DLC_F32Tensor:$new_m,
                      DLC_F32Tensor:$new_v);
  let assemblyFormat = [{
    operands attr-dict `:` type($param) `,` type($learning_rate) `,` type($step)
  }];
  let hasVerifier = 1;
}

#endif // DLC_DIALECT_DLC_IR_DLCOPTIMIZEROPS_TD
