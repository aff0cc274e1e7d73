//===- DLCFusedOps.td - dlc fused operations ---------------*- tablegen -*-===//
//
// Ops that the fusion passes (dlc-fuse-conv-bn-relu, dlc-fold-batch-norm,
// dlc-fuse-softmax-cross-entropy) build from chains of layer ops, so that
// each chain becomes fewer passes over memory. Each is equal, up to f32 rounding, to the chain it replaces;
// each has its own shape rule, lowering (lib/Conversion/DLCToLinalg/Fused.cpp)
// and e2e test against that chain. None is differentiable: fusion runs after
// the train step has been built.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_DIALECT_DLC_IR_DLCFUSEDOPS_TD
#define DLC_DIALECT_DLC_IR_DLCFUSEDOPS_TD

// Per-channel sums of batch statistics are f64: the variance
// E[x^2] - E[x]^2 cancels about log10(mean^2 / variance) digits, which f32
// cannot spare for a conv output whose mean dwarfs its spread.
def DLC_F64Vector : Type<
    And<[TensorRankOf<[F64], [1]>.predicate, HasStaticShapePred]>,
    "statically shaped 1D tensor of f64", "::mlir::RankedTensorType">;

//===----------------------------------------------------------------------===//
// Training: conv + batch norm + relu, forward and backward
//===----------------------------------------------------------------------===//

def DLC_Conv2DBnStatsOp : DLC_ShapedOp<"conv2d_bn_stats"> {
  let summary = "conv2d that also returns the per-channel sum and sum of squares";
  let description = [{
    Computes exactly `dlc.conv2d` (same operands, attributes and rules) and,
    per output channel `f`, `sum = sum(output[..., f])` and
    `sum_squares = sum(output[..., f]^2)` over the batch and spatial
    positions, accumulated and returned in f64: the statistics that training batch normalization needs,
    produced while the convolution's output is at hand instead of in
    separate passes over it. `dlc.batch_norm_train_apply` consumes them.

    Example:
    ```mlir
    %y, %s, %ss = dlc.conv2d_bn_stats %x, %w {padding = #dlc.padding<same>}
        : (tensor<8x28x28x1xf32>, tensor<3x3x1x32xf32>)
       -> (tensor<8x28x28x32xf32>, tensor<32xf64>, tensor<32xf64>)
    ```
  }];
  let arguments = (ins
    DLC_Image:$input,
    DLC_Image:$filter,
    Optional<DLC_Vector>:$bias,
    DefaultValuedAttr<DLC_I64Pair, "{1, 1}">:$strides,
    DefaultValuedAttr<DLC_I64Pair, "{1, 1}">:$dilations,
    DefaultValuedAttr<DLC_PaddingAttr, "PaddingMode::valid">:$padding,
    DefaultValuedAttr<DenseI64ArrayAttr, "{0, 0, 0, 0}">:$pads,
    DefaultValuedAttr<I64Attr, "1">:$groups
  );
  let results = (outs DLC_Image:$output, DLC_F64Vector:$sum,
                      DLC_F64Vector:$sum_squares);
  let extraClassDeclaration = [{
    /// Padding actually applied, as [top, bottom, left, right].
    llvm::SmallVector<int64_t, 4> getResolvedPads();
  }];
}

def DLC_BatchNormTrainApplyOp : DLC_ShapedOp<"batch_norm_train_apply"> {
  let summary = "training batch norm (+ relu) from precomputed per-channel sums";
  let description = [{
    The second half of `dlc.batch_norm_train`, optionally followed by
    `dlc.relu`, given the per-channel `sum` and `sum_squares` of `input`
    (over every dimension but the last, `M` elements per channel, as
    `dlc.conv2d_bn_stats` returns them):

    * `batch_mean = sum / M`,
      `batch_variance = max(sum_squares / M - batch_mean^2, 0)` (biased),
      both in f64 and then rounded to f32,
    * `output = (input - batch_mean) / sqrt(batch_variance + epsilon) * gamma
      + beta`, then `max(output, 0)` with `relu`, in one elementwise pass,
    * `new_running_* = momentum * running_* + (1 - momentum) * batch_*`
      (Keras convention), as `dlc.batch_norm_train`.

    The results are those of `dlc.batch_norm_train` (with the relu applied
    to the first), so its users need no change. `M` comes from the input's
    shape.

    Example:
    ```mlir
    %y, %bm, %bv, %rm, %rv = dlc.batch_norm_train_apply %x, %s, %ss, %gamma,
        %beta, %mean, %var {epsilon = 1.000000e-03 : f32,
        momentum = 9.900000e-01 : f32, relu}
       : (tensor<8x26x26x32xf32>, tensor<32xf64>, tensor<32xf64>, tensor<32xf32>,
          tensor<32xf32>, tensor<32xf32>, tensor<32xf32>)
      -> (tensor<8x26x26x32xf32>, tensor<32xf32>, tensor<32xf32>,
          tensor<32xf32>, tensor<32xf32>)
    ```
  }];
  let arguments = (ins DLC_F32Tensor:$input, DLC_F64Vector:$sum,
                       DLC_F64Vector:$sum_squares, DLC_Vector:$gamma,
                       DLC_Vector:$beta, DLC_Vector:$running_mean,
                       DLC_Vector:$running_variance,
                       DefaultValuedAttr<F32Attr, "1.0e-3f">:$epsilon,
                       DefaultValuedAttr<F32Attr, "0.99f">:$momentum,
                       UnitAttr:$relu);
  let results = (outs DLC_F32Tensor:$output, DLC_Vector:$batch_mean,
                      DLC_Vector:$batch_variance,
                      DLC_Vector:$new_running_mean,
                      DLC_Vector:$new_running_variance);
}

def DLC_BatchNormReluGradOp : DLC_ShapedOp<"batch_norm_relu_grad"> {
  let summary = "relu backward and batch norm backward (training form), fused";
  let description = [{
    Equal to
    `dlc.batch_norm_grad(dlc.relu_grad(output_grad, output), input, gamma,
    mean, variance)`: with `g = output > 0 ? output_grad : 0` (the relu
    mask), `xhat = (input - mean) * rsqrt(variance + epsilon)` and `M`
    elements per channel,
    * `beta_grad = sum(g)`, `gamma_grad = sum(g * xhat)`,
    * `input_grad = gamma * rsqrt(variance + epsilon) / M *
      (M * g - beta_grad - xhat * gamma_grad)`.

    Forward values it needs: the batch-norm `input` (the convolution's
    output) to recompute `xhat`, the relu `output` for the mask (the next
    layer keeps it anyway), `gamma` and the batch statistics. The masked
    gradient `g` and `xhat` are never stored: one pass computes both
    reductions, a second the input gradient.

    Example:
    ```mlir
    %dx, %dg, %db = dlc.batch_norm_relu_grad %dy, %y, %x, %gamma, %mean, %var
        {epsilon = 1.000000e-03 : f32}
        : (tensor<8x26x26x32xf32>, tensor<8x26x26x32xf32>, tensor<8x26x26x32xf32>,
           tensor<32xf32>, tensor<32xf32>, tensor<32xf32>)
       -> (tensor<8x26x26x32xf32>, tensor<32xf32>, tensor<32xf32>)
    ```
  }];
  let arguments = (ins DLC_F32Tensor:$output_grad, DLC_F32Tensor:$output,
                       DLC_F32Tensor:$input, DLC_Vector:$gamma,
                       DLC_Vector:$mean, DLC_Vector:$variance,
                       DefaultValuedAttr<F32Attr, "1.0e-3f">:$epsilon);
  let results = (outs DLC_F32Tensor:$input_grad, DLC_Vector:$gamma_grad,
                      DLC_Vector:$beta_grad);
}

//===----------------------------------------------------------------------===//
// Training: softmax cross-entropy, forward and backward
//===----------------------------------------------------------------------===//

def DLC_SoftmaxCrossEntropyWithGradOp
    : DLC_ShapedOp<"softmax_cross_entropy_with_grad"> {
  let summary = "softmax cross-entropy and its gradient w.r.t. the logits";
  let description = [{
    Equal to `dlc.softmax_cross_entropy(logits, labels)` and
    `dlc.softmax_cross_entropy_grad(logits, labels, loss_grad)` together.
    For logits `[N, K]`, labels `[N]` and the 0-D `loss_grad`, with the row
    maximum `m[n] = max_k logits[n, k]` and
    `s[n] = sum_k exp(logits[n, k] - m[n])`:

    * `loss = mean_n(log(s[n]) + m[n] - logits[n, labels[n]])`, that is
      `mean_n(logsumexp(logits[n]) - logits[n, labels[n]])`,
    * `logits_grad[n, k] = (exp(logits[n, k] - m[n]) / s[n]
      - [k == labels[n]]) * loss_grad / N`, that is
      `(softmax(logits) - onehot(labels)) * loss_grad / N`.

    A label outside [0, K) is clamped to it, as the two ops' lowerings do.
    The pair computes `m` and `s` once per op, five passes over the logits
    in all; this op computes them once for both results, in three: one for
    `m`, one for `s` (which also picks each row's label logit), one writing
    `logits_grad`. The loss is computed exactly as by
    `dlc.softmax_cross_entropy` (the same arithmetic in the same order).

    Example:
    ```mlir
    %loss, %dlogits = dlc.softmax_cross_entropy_with_grad %logits, %labels,
        %one : (tensor<64x10xf32>, tensor<64xi32>, tensor<f32>)
       -> (tensor<f32>, tensor<64x10xf32>)
    ```
  }];
  let arguments = (ins DLC_Matrix:$logits, DLC_Labels:$labels,
                       DLC_ScalarF32:$loss_grad);
  let results = (outs DLC_ScalarF32:$loss, DLC_Matrix:$logits_grad);
}

//===----------------------------------------------------------------------===//
// Inference: batch norm folded into the convolution
//===----------------------------------------------------------------------===//

def DLC_FoldBatchNormParamsOp : DLC_ShapedOp<"fold_batch_norm_params"> {
  let summary = "folds inference batch norm into a conv's filter and bias";
  let description = [{
    With `scale = gamma / sqrt(variance + epsilon)` per output channel `f`
    (the filter's last dimension):
    `new_filter[..., f] = filter[..., f] * scale[f]` and
    `new_bias = beta + (bias - mean) * scale` (`bias` is 0 when absent), so
    that `conv2d(x, new_filter, new_bias)` equals
    `batch_norm(conv2d(x, filter, bias), gamma, beta, mean, variance)`.
    Parameters are run-time values, so this is an op (a pass over the
    filter, small next to the convolution), not a compile-time fold.

    Example:
    ```mlir
    %w2, %b2 = dlc.fold_batch_norm_params %w, %gamma, %beta, %mean, %var
        {epsilon = 1.000000e-03 : f32}
        : (tensor<3x3x1x32xf32>, tensor<32xf32>, tensor<32xf32>, tensor<32xf32>,
           tensor<32xf32>) -> (tensor<3x3x1x32xf32>, tensor<32xf32>)
    ```
  }];
  let arguments = (ins DLC_Image:$filter, Optional<DLC_Vector>:$bias,
                       DLC_Vector:$gamma, DLC_Vector:$beta, DLC_Vector:$mean,
                       DLC_Vector:$variance,
                       DefaultValuedAttr<F32Attr, "1.0e-3f">:$epsilon);
  let results = (outs DLC_Image:$new_filter, DLC_Vector:$new_bias);
}

#endif // DLC_DIALECT_DLC_IR_DLCFUSEDOPS_TD
