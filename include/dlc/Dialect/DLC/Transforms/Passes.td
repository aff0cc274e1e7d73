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
    * With `features`, `@features(params..., state..., %x) -> (f...)`:
      the output of every `dlc.conv2d` in inference form (role `feature`,
      named after the layer, e.g. `conv2d_1`), for the report's feature
      maps; the layers after the last convolution are left out. A model
      without a convolution gets no `@features`.

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

    With `in-place`, each persistent argument of `@train_step` (params,
    opt_state, state) carries `dlc.result = i`, tying it to its new value:
    the targets write the update into the argument's buffer and drop the
    result from the calling convention (no second copy of the model's
    state). With `drop-forward`, `@forward` is erased afterwards (`@predict`
    is what the runtime calls). The compiler library sets all three
    (`in-place` unless asked not to).

    With `gradients`, also
    `@gradients(params..., state..., %x, %labels, %step, %seed) ->
    (gradient...)`: `@train_step`'s forward pass (training form, the same
    dropout and augmentation keys for the same step and seed), loss and
    reverse mode, without the optimizer update or new state; one result per
    parameter, named as the parameter, role `gradient` (zeros for a
    parameter that does not affect the loss). `@train_step` updates in
    place and keeps its gradients temporary; this function returns them
    for the runtime's gradient histograms.

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
           "sgd | adam | adamw (default: the dlc.optimizer module attribute)">,
    Option<"inPlace", "in-place", "bool", "false",
           "Tie train_step's persistent arguments to their updated values "
           "(dlc.result)">,
    Option<"dropForward", "drop-forward", "bool", "false",
           "Erase @forward once the steps are built">,
    Option<"features", "features", "bool", "false",
           "Also build @features (each convolution's output)">,
    Option<"gradients", "gradients", "bool", "false",
           "Also build @gradients, the loss gradients without the update">,
    Option<"dataParallel", "data-parallel", "bool", "false",
           "Average the gradients over the ranks of a data-parallel job "
           "before the updates (dlc-insert-gradient-all-reduce)">,
    Option<"bucketBytes", "bucket-bytes", "int64_t", "1048576",
           "With data-parallel: bytes of gradients per all-reduce bucket">,
    Option<"overlapAllReduce", "overlap-all-reduce", "bool", "true",
           "With data-parallel: start/wait pairs that overlap the "
           "communication with the backward pass (false: blocking "
           "dlc.all_reduce)">
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::func::FuncDialect",
    "::mlir::tensor::TensorDialect"
  ];
}

def DLCInsertGradientAllReduce
    : Pass<"dlc-insert-gradient-all-reduce", "::mlir::ModuleOp"> {
  let summary = "Average @train_step's gradients over the ranks, in buckets";
  let description = [{
    Data-parallel training: every rank runs the same `@train_step` on its
    own share of the global batch, and each parameter's update must see the
    gradient of the global batch's mean loss, the mean over the ranks of
    their gradients. This pass replaces the `grad` operand of every
    `sgd_update` / `adam_update` in `@train_step` by a result of a
    `dlc.all_reduce {reduction = mean}`.

    The gradients are taken in the order the backward pass produces them
    (the last layer's first) and packed into buckets of at most
    `bucket-bytes` (a gradient larger than that is a bucket alone). Each
    bucket's `dlc.all_reduce` is placed right after the last op that
    produces one of its gradients, not before the first update: in program
    order it is issued as soon as its gradients are ready, while the rest
    of the backward pass is still to run (as PyTorch DDP's buckets are).
    The buckets are numbered in that order.

    With `overlap` (the default) each bucket is a `dlc.all_reduce_start`
    at that place and a `dlc.all_reduce_wait` right before the first update
    that reads one of its gradients, as late as possible: the backward ops
    in between run while the bucket is in flight, and the runtime reduces
    the started buckets in issue order on its communication thread, with
    the bits of the blocking form. `overlap=false` emits the blocking
    `dlc.all_reduce` instead.

    Before:
    ```mlir
    %dk = dlc.conv2d_grad_filter ...
    %db = dlc.channel_sum ...
    ...
    %p1, %m1, %v1 = dlc.adam_update %p, %dk, ...
    ```
    After (`overlap=false`):
    ```mlir
    %dk = dlc.conv2d_grad_filter ...
    %db = dlc.channel_sum ...
    %r:2 = dlc.all_reduce %db, %dk {bucket = 3 : i64, reduction = #dlc.reduction<mean>} : ...
    ...
    %p1, %m1, %v1 = dlc.adam_update %p, %r#1, ...
    ```
    After (`overlap`, the default):
    ```mlir
    %f:2 = dlc.all_reduce_start %db, %dk {bucket = 3 : i64, reduction = #dlc.reduction<mean>} : ...
    ... (the rest of the backward pass)
    %r:2 = dlc.all_reduce_wait %f#0, %f#1 : ...
    %p1, %m1, %v1 = dlc.adam_update %p, %r#1, ...
    ```
    `dlc-build-train-step{data-parallel}` runs the same transformation as
    the last part of building the step.
  }];
  let options = [
    Option<"bucketBytes", "bucket-bytes", "int64_t", "1048576",
           "Bytes of gradients per bucket (one collective call each)">,
    Option<"overlap", "overlap", "bool", "true",
           "Split each bucket into dlc.all_reduce_start / dlc.all_reduce_wait "
           "(false: one blocking dlc.all_reduce)">
  ];
}

def DLCSummarizeLayers : Pass<"dlc-summarize-layers", "::mlir::ModuleOp"> {
  let summary = "Add parameters, FLOPs and bytes kept for backward to each "
                "entry of the `dlc.layers` module attribute";
  let description = [{
    The importer records the model's layers as the module attribute
    `dlc.layers` (name, Keras class, inputs, output shape). This pass adds
    what `summary` shows next to them, counted on the IR:

    * from `@forward` (when present): `params` and `trainable_params`, the
      elements of the arguments named `<layer>/...` (a `dlc.trainable =
      false` argument, such as batch-norm statistics, is not trainable),
      and `flops`, the forward floating-point operations of one sample in
      the ops located at the layer (`NameLoc` with the layer's name): 2 per
      multiply-add of conv2d and dense, the window of a pooling per output,
      2 per element of batch norm, 1 per element of elementwise ops;
    * from `@train_step` (when present): `kept_bytes`, the bytes of the
      layer's forward values that the step keeps for its backward part
      (values defined before the loss and used after it), per batch.

    Layers without ops or values keep zero counts. Without `dlc.layers` the
    pass does nothing. The compiler library runs it before and after
    building the steps; `dlc-describe-model` carries the attribute into the
    runtime's settings (`layers`), where `EXE summary` reads it.
  }];
}

def DLCDescribeModel : Pass<"dlc-describe-model", "::mlir::ModuleOp"> {
  let summary = "Record the runtime's model table as the `dlc.model` module "
                "attribute";
  let description = [{
    Reads the step functions that exist among `@train_step`, `@eval_step`
    and `@predict` (with the `dlc.name`, `dlc.role`, `dlc.init` and
    `dlc.result` attributes of their arguments and results) and the
    module's `dlc.*` settings, and records what the runtime needs as one
    module attribute. Module attributes survive every lowering, so the
    description travels with the IR to the end of the target pipeline,
    where `dlc-emit-model-table` turns it into the `dlc_model` table of the
    model ABI (include/dlc/Runtime/ModelABI.h). Run it before lowering
    erases the argument attributes; it replaces an earlier `dlc.model`.

    An argument tied to a result (`dlc.result = N`) is updated in place: it
    is marked `in_place` and result N is not listed (the calling convention
    drops it). Without any step function the pass does nothing.

    ```mlir
    module @m attributes {dlc.loss = "mse"} {
      func.func @predict(%w: tensor<4x2xf32> {dlc.name = "w", dlc.role = "param"},
                         %x: tensor<8x1x1x4xf32> {dlc.name = "input", dlc.role = "input"})
          -> (tensor<8x2xf32> {dlc.name = "logits", dlc.role = "logits"})
    }
    // ==> (one function, two arguments, one result)
    module @m attributes {dlc.loss = "mse", dlc.model = {
        functions = [{name = "predict",
          args = [{name = "w", role = "param", type = tensor<4x2xf32>},
                  {name = "input", role = "input", type = tensor<8x1x1x4xf32>} ],
          results = [{name = "logits", role = "logits", type = tensor<8x2xf32>} ]} ],
        name = "m", settings = "{\"loss\":\"mse\"}"}}
    ```
    Errors: a role the ABI does not know, a type the runtime cannot hold
    (dynamic shapes, rank above 4, element types other than f32, i32, i64).
  }];
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

def DLCFuseConvBnRelu : Pass<"dlc-fuse-conv-bn-relu", "::mlir::func::FuncOp"> {
  let summary = "Fuse conv2d + batch_norm_train + relu, forward and backward";
  let description = [{
    Runs on the training step built by `dlc-build-train-step`.

    **Forward.** `dlc.conv2d` -> `dlc.batch_norm_train` [-> `dlc.relu`]
    becomes `dlc.conv2d_bn_stats` (the convolution also returns the
    per-channel sum and sum of squares of its output) and
    `dlc.batch_norm_train_apply` (batch statistics, normalization,
    scale/shift, the relu when there is one, and the running statistics, in
    one elementwise pass). Code generation computes the two sums on each
    output tile of the convolution, in its epilogue (`dlc.epilogue`, see
    `dlc-cpu-tile-and-vectorize`): no pass over the convolution's output
    besides the normalization. The arithmetic is that of the unfused lowering
    (f64 sums, `E[x^2] - E[x]^2`), so fused and unfused programs compute
    the same forward values bit for bit: a relu mask cannot flip between
    them where the normalized value is within rounding of 0.

    ```mlir
    %c = dlc.conv2d %x, %w : (...) -> tensor<8x26x26x32xf32>
    %y, %bm, %bv, %rm, %rv = dlc.batch_norm_train %c, %g, %b, %m, %v : ...
    %r = dlc.relu %y : tensor<8x26x26x32xf32>
    // becomes
    %c, %s, %ss = dlc.conv2d_bn_stats %x, %w : ...
    %r, %bm, %bv, %rm, %rv = dlc.batch_norm_train_apply %c, %s, %ss, %g, %b,
        %m, %v {relu} : ...
    ```

    It does not fire when the batch norm's input is not a `dlc.conv2d`
    (relu before batch norm included), or when the convolution's output has
    a user other than this batch norm and the `dlc.batch_norm_grad` of its
    backward pass. The relu is folded in only when it is the batch norm
    output's single user: another user must see the value before the relu.

    **Backward.** `dlc.relu_grad` -> `dlc.batch_norm_grad`, when the
    relu_grad has no other user and the batch norm's input is a
    convolution's output, becomes `dlc.batch_norm_relu_grad`: the relu mask,
    both reductions (`sum(g)`, `sum(g * xhat)`) and the input gradient in
    two passes, without storing the masked gradient; the reduction pass
    runs in the epilogue of the convolution that produces `%dr` (the next
    layer's input gradient) where there is one.

    ```mlir
    %g = dlc.relu_grad %dr, %r : tensor<8x26x26x32xf32>
    %dc, %dgamma, %dbeta = dlc.batch_norm_grad %g, %c, %gamma, %bm, %bv : ...
    // becomes
    %dc, %dgamma, %dbeta = dlc.batch_norm_relu_grad %dr, %r, %c, %gamma, %bm,
        %bv : ...
    ```

    Forward values the backward pass keeps, fused or not: the convolution's
    input (filter gradient), its output `%c` (to recompute `xhat`), the relu
    output `%r` (the mask; also the next layer's input, which its filter
    gradient reads anyway) and the batch statistics. The fused forward
    never stores the pre-relu normalized value, the fused backward never
    stores the masked gradient. (`%c` cannot be dropped for `%r`: where the
    relu zeroed a value, the input gradient still needs its `xhat`.)
  }];
}

def DLCFoldBatchNorm : Pass<"dlc-fold-batch-norm", "::mlir::func::FuncOp"> {
  let summary = "Fold inference batch norm into the preceding convolution";
  let description = [{
    `dlc.conv2d` -> `dlc.batch_norm` (inference form, running statistics)
    becomes one `dlc.conv2d` whose filter and bias are computed by
    `dlc.fold_batch_norm_params`:
    `w' = w * gamma / sqrt(var + eps)` per output channel and
    `b' = beta + (b - mean) * gamma / sqrt(var + eps)`. A following
    `dlc.relu` stays a dlc op; code generation runs it in the
    convolution's epilogue (`dlc-cpu-tile-and-vectorize`, `fuse-epilogue`):
    the convolution accumulates from the folded bias into the relu's output
    tile, so a conv + batch norm + relu block is one kernel and its
    pre-activation tensor is never stored. Only the inference form occurs in
    `@eval_step` and `@predict` (and `@forward`); `@train_step` has
    `dlc.batch_norm_train`, which this pass never touches.

    ```mlir
    %c = dlc.conv2d %x, %w, %bias : (...) -> tensor<8x26x26x32xf32>
    %y = dlc.batch_norm %c, %g, %b, %m, %v {epsilon = 1.0e-3 : f32} : ...
    // becomes
    %w2, %b2 = dlc.fold_batch_norm_params %w, %bias, %g, %b, %m, %v
        {epsilon = 1.0e-3 : f32} : ...
    %y = dlc.conv2d %x, %w2, %b2 : (...) -> tensor<8x26x26x32xf32>
    ```

    It does not fire when the batch norm's input is not a `dlc.conv2d` or
    when the convolution's output has another user (which needs the
    unnormalized value: folding would compute the convolution twice).
  }];
}

def DLCFuseSoftmaxCrossEntropy
    : Pass<"dlc-fuse-softmax-cross-entropy", "::mlir::func::FuncOp"> {
  let summary = "Fuse the softmax cross-entropy loss and its gradient";
  let description = [{
    Runs on the training step built by `dlc-build-train-step`, whose forward
    part ends in `dlc.softmax_cross_entropy` and whose backward part starts
    with `dlc.softmax_cross_entropy_grad` of the same logits and labels.
    Each op computes the row maximum and the sum of exponentials of the
    logits on its own; the pair becomes one
    `dlc.softmax_cross_entropy_with_grad`, which computes them once (three
    passes over the logits instead of five) and the loss with the same
    arithmetic as the plain op, so the loss keeps its bits.

    ```mlir
    %loss = dlc.softmax_cross_entropy %logits, %labels
        : (tensor<64x10xf32>, tensor<64xi32>) -> tensor<f32>
    ...
    %dlogits = dlc.softmax_cross_entropy_grad %logits, %labels, %one
        : (tensor<64x10xf32>, tensor<64xi32>, tensor<f32>) -> tensor<64x10xf32>
    // becomes
    %loss, %dlogits = dlc.softmax_cross_entropy_with_grad %logits, %labels,
        %one : (tensor<64x10xf32>, tensor<64xi32>, tensor<f32>)
       -> (tensor<f32>, tensor<64x10xf32>)
    ```

    The fused op takes the place of the loss when `loss_grad` is defined
    before it (the seed constant, once canonicalize has hoisted it), else
    that of the gradient op when every user of the loss comes after it; its
    location is the fused location of both ops. Other users of the logits
    (`dlc.accuracy`) are left as they are.

    It does not fire
    * when no `dlc.softmax_cross_entropy_grad` reads the same logits and
      the same labels as the loss (`@eval_step` and `@predict` have no
      gradient; a gradient of other logits or labels is another loss's);
    * when several gradient ops, or several losses, read the same logits
      and labels: one fused op yields one loss and one gradient, and which
      pair to fuse would be arbitrary (`cse` merges duplicates first);
    * when no single place has the `loss_grad` defined and both results not
      yet used (e.g. a `loss_grad` computed from the loss itself).
  }];
}

#endif // DLC_DIALECT_DLC_TRANSFORMS_PASSES_TD
