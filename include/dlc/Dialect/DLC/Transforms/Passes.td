//===- Passes.td - dlc dialect transformations -------------*- tablegen -*-===//
//
// Passes that work on the dlc dialect itself (dlc -> dlc).
//
//===----------------------------------------------------------------------===//

#ifndef DLC_DIALECT_DLC_TRANSFORMS_PASSES_TD
#define DLC_DIALECT_DLC_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def DLCBuildTrainStep : Pass<"dlc-build-train-step", "::mlir::ModuleOp"> {
  let summary = "Build @train_step, @eval_step and @predict from @forward";
  let description = [{
    Takes `@forward(%x, %params...) -> logits` in inference form (as the
    importer produces it) and adds three functions:

    * `@train_step(params..., opt_state..., state..., %x, %labels,
      %step: i64, %seed: i64, %learning_rate: f32)
      -> (params..., opt_state..., state..., loss: tensor<f32>,
          correct: tensor<i32>)`:
      the forward pass in training form (`batch_norm` becomes
      `batch_norm_train`; dropout and augmentation get the key
      `seed * 0x9E3779B97F4A7C15 + step`, each layer its own stream),
      the loss, reverse-mode differentiation through each op's
      `DifferentiableOpInterface` rule, and one optimizer update op per
      trainable parameter. Gradients are built only for values that depend
      on a trainable parameter (no input gradient for the first layer).
    * `@eval_step(params..., state..., %x, %labels) -> (loss, correct)`:
      inference form (running statistics, no dropout or augmentation).
    * `@predict(params..., state..., %x) -> logits`.

    Argument groups, in `@forward`'s order within each group:
    `params` are the trainable parameters; `opt_state` is, per trainable
    parameter, the optimizer's slots (`velocity` for SGD, `m` and `v` for
    Adam/AdamW); `state` is every other argument (batch-norm running
    statistics, parameters marked `dlc.trainable = false`). Every argument
    and result carries `dlc.name` (e.g. `conv2d/kernel`, `conv2d/kernel/m`)
    and `dlc.role` (`param`, `opt_state`, `state`, `input`, `labels`,
    `step`, `seed`, `learning_rate`, `loss`, `correct`) so the runtime can
    bind buffers by name; results `i` of each group update argument `i` of
    the same group. `step` is the number of updates already applied.

    The loss and optimizer come from the module attributes `dlc.loss`
    (a string, or a dictionary with `name` and `from_logits`) and
    `dlc.optimizer` (a dictionary with `name` = sgd | adam | adamw and its
    hyper-parameters: `momentum`, `nesterov`, `beta_1`, `beta_2`,
    `epsilon`, `weight_decay`), or from the pass options, which win.
    The learning rate is a run-time argument (schedules live in the runtime).

    Example:
    ```
    dlc-opt model.mlir --dlc-build-train-step="loss=sparse_categorical_crossentropy optimizer=adam"
    ```
  }];
  let options = [
    Option<"forwardName", "forward", "std::string", "\"forward\"",
           "Name of the function to differentiate">,
    Option<"lossName", "loss", "std::string", "\"\"",
           "sparse_categorical_crossentropy | mse | binary_crossentropy "
           "(default: the dlc.loss module attribute)">,
    Option<"optimizerName", "optimizer", "std::string", "\"\"",
           "sgd | adam | adamw (default: the dlc.optimizer module attribute)">
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::func::FuncDialect",
    "::mlir::tensor::TensorDialect"
  ];
}

def DLCTestVJP : Pass<"dlc-test-vjp", "::mlir::ModuleOp"> {
  let summary = "Add @f_vjp (vector-Jacobian product) next to every function";
  let description = [{
    For every public `@f(%a...) -> (%r...)` of dlc ops, adds
    `@f_vjp(%a..., %dr...) -> (%da...)`: given a gradient for each result,
    the gradient of each f32 tensor argument (zeros where an argument does
    not reach a result), built by the same reverse-mode engine and gradient
    rules as `dlc-build-train-step`. The gradient checks compare it with
    finite differences of `@f`; it also shows any single op's gradient in
    isolation.

    Example:
    ```mlir
    func.func @f(%x: tensor<4x8xf32>, %w: tensor<8x2xf32>) -> tensor<4x2xf32>
    // becomes also
    func.func @f_vjp(%x: tensor<4x8xf32>, %w: tensor<8x2xf32>, %dy: tensor<4x2xf32>)
        -> (tensor<4x8xf32>, tensor<8x2xf32>)
    ```
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::func::FuncDialect",
    "::mlir::tensor::TensorDialect"
  ];
}

#endif // DLC_DIALECT_DLC_TRANSFORMS_PASSES_TD
