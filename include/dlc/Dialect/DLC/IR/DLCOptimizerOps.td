//===- DLCOptimizerOps.td - dlc optimizer updates ----------*- tablegen -*-===//
//
// One op per optimizer: the whole update of one parameter and its state,
// with PyTorch's formulas, so that it lowers to a single pass over memory.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_DIALECT_DLC_IR_DLCOPTIMIZEROPS_TD
#define DLC_DIALECT_DLC_IR_DLCOPTIMIZEROPS_TD

def DLC_SgdUpdateOp : DLC_Op<"sgd_update", [AllTypesMatch<["param", "grad",
    "velocity", "new_param", "new_velocity"]>]> {
  let summary = "SGD step with momentum, Nesterov and weight decay (PyTorch)";
  let description = [{
    With `g = grad + weight_decay * param`:
    `new_velocity = momentum * velocity + g`;
    `new_param = param - learning_rate * (nesterov ? g + momentum * new_velocity
                                                   : new_velocity)`.
    With `momentum = 0` the velocity is unused (and returned unchanged).

    Example:
    ```mlir
    %p1, %v1 = dlc.sgd_update %p, %g, %v, %lr {momentum = 9.000000e-01 : f32, nesterov}
        : tensor<3x3x1x32xf32>, f32
    ```
  }];
  let arguments = (ins DLC_F32Tensor:$param, DLC_F32Tensor:$grad,
                       DLC_F32Tensor:$velocity, F32:$learning_rate,
                       DefaultValuedAttr<F32Attr, "0.0f">:$momentum,
                       UnitAttr:$nesterov,
                       DefaultValuedAttr<F32Attr, "0.0f">:$weight_decay);
  let results = (outs DLC_F32Tensor:$new_param, DLC_F32Tensor:$new_velocity);
  let assemblyFormat = [{
    operands attr-dict `:` type($param) `,` type($learning_rate)
  }];
  let hasVerifier = 1;
}

def DLC_AdamUpdateOp : DLC_Op<"adam_update", [AllTypesMatch<["param", "grad",
    "m", "v", "new_param", "new_m", "new_v"]>]> {
  let summary = "Adam / AdamW step (PyTorch formulas)";
  let description = [{
    `step` is the 1-based step count t. With `g = grad (+ weight_decay *
    param unless decoupled)`:
    `new_m = beta1 * m + (1 - beta1) * g`,
    `new_v = beta2 * v + (1 - beta2) * g^2`,
    `new_param = param' - learning_rate * (new_m / (1 - beta1^t)) /
                 (sqrt(new_v / (1 - beta2^t)) + epsilon)`,
    where `param' = param * (1 - learning_rate * weight_decay)` when
    `decoupled_weight_decay` (AdamW) and `param` otherwise.

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
                       UnitAttr:$decoupled_weight_decay);
  let results = (outs DLC_F32Tensor:$new_param, DLC_F32Tensor:$new_m,
                      DLC_F32Tensor:$new_v);
  let assemblyFormat = [{
    operands attr-dict `:` type($param) `,` type($learning_rate) `,` type($step)
  }];
  let hasVerifier = 1;
}

#endif // DLC_DIALECT_DLC_IR_DLCOPTIMIZEROPS_TD
