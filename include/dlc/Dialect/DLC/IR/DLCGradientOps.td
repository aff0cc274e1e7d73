//===- DLCGradientOps.td - dlc gradient operations ---------*- tablegen -*-===//
//
// The ops that gradient rules build: backward convolutions and poolings,
// activation and loss derivatives, batch-norm backward, reductions. They are
// ordinary dlc ops with their own shape rules, lowerings and tests.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_DIALECT_DLC_IR_DLCGRADIENTOPS_TD
#define DLC_DIALECT_DLC_IR_DLCGRADIENTOPS_TD

//===----------------------------------------------------------------------===//
// Convolution and dense backward
//===----------------------------------------------------------------------===//

def DLC_Conv2DGradInputOp : DLC_ShapedOp<"conv2d_grad_input"> {
  let summary = "gradient of conv2d with respect to its input";
  let description = [{
    Given the gradient of a `dlc.conv2d` result and its filter, computes the
    gradient of its input, of shape `input_shape` (a transposed
    convolution). The attributes are those of the forward convolution; the
    verifier checks that the forward convolution of `input_shape` with the
    filter has the shape of `output_grad`.

    Example:
    ```mlir
    %dx = dlc.conv2d_grad_input %dy, %w {input_shape = array<i64: 8, 28, 28, 3>}
        : (tensor<8x26x26x16xf32>, tensor<3x3x3x16xf32>) -> tensor<8x28x28x3xf32>
    ```
  }];
  let arguments = (ins
    DLC_Image:$output_grad,
    DLC_Image:$filter,
    DenseI64ArrayAttr:$input_shape,
    DefaultValuedAttr<DLC_I64Pair, "{1, 1}">:$strides,
    DefaultValuedAttr<DLC_I64Pair, "{1, 1}">:$dilations,
    DefaultValuedAttr<DLC_PaddingAttr, "PaddingMode::valid">:$padding,
    DefaultValuedAttr<DenseI64ArrayAttr, "{0, 0, 0, 0}">:$pads,
    DefaultValuedAttr<I64Attr, "1">:$groups
  );
  let results = (outs DLC_Image:$input_grad);
  let extraClassDeclaration = [{
    /// Padding of the forward convolution, as [top, bottom, left, right]
    /// (resolves `same` with the TensorFlow rule).
    llvm::SmallVector<int64_t, 4> getResolvedPads();
  }];
}

def DLC_Conv2DGradFilterOp : DLC_ShapedOp<"conv2d_grad_filter"> {
  let summary = "gradient of conv2d with respect to its filter";
  let description = [{
    Given the input of a `dlc.conv2d` and the gradient of its result,
    computes the gradient of its `[KH, KW, C / groups, F]` filter, with
    `kernel_size = [KH, KW]` and the forward convolution's attributes.

    Example:
    ```mlir
    %dw = dlc.conv2d_grad_filter %x, %dy {kernel_size = array<i64: 3, 3>}
        : (tensor<8x28x28x3xf32>, tensor<8x26x26x16xf32>) -> tensor<3x3x3x16xf32>
    ```
  }];
  let arguments = (ins
    DLC_Image:$input,
    DLC_Image:$output_grad,
    DLC_I64Pair:$kernel_size,
    DefaultValuedAttr<DLC_I64Pair, "{1, 1}">:$strides,
    DefaultValuedAttr<DLC_I64Pair, "{1, 1}">:$dilations,
    DefaultValuedAttr<DLC_PaddingAttr, "PaddingMode::valid">:$padding,
    DefaultValuedAttr<DenseI64ArrayAttr, "{0, 0, 0, 0}">:$pads,
    DefaultValuedAttr<I64Attr, "1">:$groups
  );
  let results = (outs DLC_Image:$filter_grad);
  let extraClassDeclaration = [{
    /// Padding of the forward convolution, as [top, bottom, left, right]
    /// (resolves `same` with the TensorFlow rule).
    llvm::SmallVector<int64_t, 4> getResolvedPads();
  }];
}

def DLC_MatmulOp : DLC_ShapedOp<"matmul"> {
  let summary = "matrix product with optional transposed operands";
  let description = [{
    `op(lhs) x op(rhs)` where `op` transposes when `transpose_lhs` /
    `transpose_rhs` is set. Dense backward uses it:
    `dx = dy x kernel^T`, `dkernel = x^T x dy`.

    Example:
    ```mlir
    %dx = dlc.matmul %dy, %w {transpose_rhs}
        : (tensor<64x10xf32>, tensor<128x10xf32>) -> tensor<64x128xf32>
    ```
  }];
  let arguments = (ins DLC_Matrix:$lhs, DLC_Matrix:$rhs,
                       UnitAttr:$transpose_lhs, UnitAttr:$transpose_rhs);
  let results = (outs DLC_Matrix:$output);
}

def DLC_ChannelSumOp : DLC_ShapedOp<"channel_sum"> {
  let summary = "sum over every dimension but the last";
  let description = [{
    Reduces `[..., C]` to `[C]`: the gradient of a bias, and batch-norm's
    beta gradient.

    Example:
    ```mlir
    %db = dlc.channel_sum %dy : (tensor<8x26x26x16xf32>) -> tensor<16xf32>
    ```
  }];
  let arguments = (ins DLC_F32Tensor:$input);
  let results = (outs DLC_Vector:$output);
}

//===----------------------------------------------------------------------===//
// Activation backward
//===----------------------------------------------------------------------===//

// (output_grad, forward output) -> input_grad, all of one type.
class DLC_ActivationGradOp<string mnemonic>
    : DLC_Op<mnemonic, [SameOperandsAndResultType]> {
  let arguments = (ins DLC_F32Tensor:$output_grad, DLC_F32Tensor:$output);
  let results = (outs DLC_F32Tensor:$input_grad);
  let assemblyFormat = "operands attr-dict `:` type($input_grad)";
}

def DLC_ReluGradOp : DLC_ActivationGradOp<"relu_grad"> {
  let summary = "relu backward: output_grad where the relu output is > 0";
  let description = [{
    Uses the forward output (positive exactly where the input was), which
    the next layer keeps anyway.

    Example:
    ```mlir
    %dx = dlc.relu_grad %dy, %y : tensor<8x10xf32>
    ```
  }];
}

def DLC_LeakyReluGradOp : DLC_Op<"leaky_relu_grad", [SameOperandsAndResultType]> {
  let summary = "leaky relu backward: output_grad * (input >= 0 ? 1 : alpha)";
  let description = [{
    Example:
    ```mlir
    %dx = dlc.leaky_relu_grad %dy, %x {alpha = 3.000000e-01 : f32} : tensor<8x10xf32>
    ```
  }];
  let arguments = (ins DLC_F32Tensor:$output_grad, DLC_F32Tensor:$input,
                       DefaultValuedAttr<F32Attr, "0.3f">:$alpha);
  let results = (outs DLC_F32Tensor:$input_grad);
  let assemblyFormat = "operands attr-dict `:` type($input_grad)";
  let hasVerifier = 1;
}

def DLC_SigmoidGradOp : DLC_ActivationGradOp<"sigmoid_grad"> {
  let summary = "sigmoid backward: output_grad * y * (1 - y)";
  let description = [{
    Example:
    ```mlir
    %dx = dlc.sigmoid_grad %dy, %y : tensor<8x10xf32>
    ```
  }];
}

def DLC_TanhGradOp : DLC_ActivationGradOp<"tanh_grad"> {
  let summary = "tanh backward: output_grad * (1 - y^2)";
  let description = [{
    Example:
    ```mlir
    %dx = dlc.tanh_grad %dy, %y : tensor<8x10xf32>
    ```
  }];
}

def DLC_SoftmaxGradOp : DLC_Op<"softmax_grad", [SameOperandsAndResultType]> {
  let summary = "softmax backward: y * (dy - sum(dy * y, axis))";
  let description = [{
    Example:
    ```mlir
    %dx = dlc.softmax_grad %dy, %y {axis = -1 : i64} : tensor<8x10xf32>
    ```
  }];
  let arguments = (ins DLC_F32Tensor:$output_grad, DLC_F32Tensor:$output,
                       DefaultValuedAttr<I64Attr, "-1">:$axis);
  let results = (outs DLC_F32Tensor:$input_grad);
  let assemblyFormat = "operands attr-dict `:` type($input_grad)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Pooling backward
//===----------------------------------------------------------------------===//

def DLC_MaxPool2DGradOp : DLC_ShapedOp<"max_pool2d_grad"> {
  let summary = "max pooling backward: routes each gradient to its window's max";
  let description = [{
    Each output gradient goes to the first maximal input of its window
    (row-major order), as PyTorch and TensorFlow do; overlapping windows
    accumulate.

    Example:
    ```mlir
    %dx = dlc.max_pool2d_grad %dy, %x {pool_size = array<i64: 2, 2>, strides = array<i64: 2, 2>}
        : (tensor<8x12x12x64xf32>, tensor<8x24x24x64xf32>) -> tensor<8x24x24x64xf32>
    ```
  }];
  let arguments = (ins DLC_Image:$output_grad, DLC_Image:$input,
    DLC_I64Pair:$pool_size, DLC_I64Pair:$strides,
    DefaultValuedAttr<DLC_PaddingAttr, "PaddingMode::valid">:$padding,
    DefaultValuedAttr<DenseI64ArrayAttr, "{0, 0, 0, 0}">:$pads);
  let results = (outs DLC_Image:$input_grad);
  let extraClassDeclaration = [{
    /// Padding of the forward pooling, as [top, bottom, left, right]
    /// (resolves `same` with the TensorFlow rule).
    llvm::SmallVector<int64_t, 4> getResolvedPads();
  }];
}

def DLC_AvgPool2DGradOp : DLC_ShapedOp<"avg_pool2d_grad"> {
  let summary = "average pooling backward: spreads each gradient over its window";
  let description = [{
    Each output gradient is divided by its window's count of valid
    positions and added to each of them. The result has `input_shape`.

    Example:
    ```mlir
    %dx = dlc.avg_pool2d_grad %dy {input_shape = array<i64: 8, 24, 24, 64>,
                                    pool_size = array<i64: 2, 2>, strides = array<i64: 2, 2>}
        : (tensor<8x12x12x64xf32>) -> tensor<8x24x24x64xf32>
    ```
  }];
  let arguments = (ins DLC_Image:$output_grad, DenseI64ArrayAttr:$input_shape,
    DLC_I64Pair:$pool_size, DLC_I64Pair:$strides,
    DefaultValuedAttr<DLC_PaddingAttr, "PaddingMode::valid">:$padding,
    DefaultValuedAttr<DenseI64ArrayAttr, "{0, 0, 0, 0}">:$pads);
  let results = (outs DLC_Image:$input_grad);
  let extraClassDeclaration = [{
    /// Padding of the forward pooling, as [top, bottom, left, right]
    /// (resolves `same` with the TensorFlow rule).
    llvm::SmallVector<int64_t, 4> getResolvedPads();
  }];
}

def DLC_GlobalAvgPoolGradOp : DLC_ShapedOp<"global_avg_pool_grad"> {
  let summary = "global average pooling backward: dy / (H * W) everywhere";
  let description = [{
    Example:
    ```mlir
    %dx = dlc.global_avg_pool_grad %dy {input_shape = array<i64: 8, 7, 7, 64>}
        : (tensor<8x64xf32>) -> tensor<8x7x7x64xf32>
    ```
  }];
  let arguments = (ins DLC_Matrix:$output_grad, DenseI64ArrayAttr:$input_shape);
  let results = (outs DLC_Image:$input_grad);
}

//===----------------------------------------------------------------------===//
// Batch normalization backward
//===----------------------------------------------------------------------===//

def DLC_BatchNormGradOp : DLC_ShapedOp<"batch_norm_grad"> {
  let summary = "batch normalization backward, training form";
  let description = [{
    With `xhat = (x - mean) * rsqrt(variance + epsilon)` over `M` elements
    per channel:
    * `gamma_grad = sum(dy * xhat)`, `beta_grad = sum(dy)`;
    * `input_grad = gamma * rsqrt(variance + epsilon) / M *
      (M * dy - beta_grad - xhat * gamma_grad)`.
    `mean` and `variance` are the batch statistics of the forward op.

    Example:
    ```mlir
    %dx, %dg, %db = dlc.batch_norm_grad %dy, %x, %gamma, %mean, %var
        : (tensor<8x26x26x32xf32>, tensor<8x26x26x32xf32>, tensor<32xf32>,
           tensor<32xf32>, tensor<32xf32>)
       -> (tensor<8x26x26x32xf32>, tensor<32xf32>, tensor<32xf32>)
    ```
  }];
  let arguments = (ins DLC_F32Tensor:$output_grad, DLC_F32Tensor:$input,
                       DLC_Vector:$gamma, DLC_Vector:$mean,
                       DLC_Vector:$variance,
                       DefaultValuedAttr<F32Attr, "1.0e-3f">:$epsilon);
  let results = (outs DLC_F32Tensor:$input_grad, DLC_Vector:$gamma_grad,
                      DLC_Vector:$beta_grad);
}

//===----------------------------------------------------------------------===//
// Loss backward
//===----------------------------------------------------------------------===//

def DLC_SoftmaxCrossEntropyGradOp : DLC_ShapedOp<"softmax_cross_entropy_grad"> {
  let summary = "gradient of the mean softmax cross-entropy w.r.t. the logits";
  let description = [{
    `(softmax(logits) - onehot(labels)) * loss_grad / N`.

    Example:
    ```mlir
    %dl = dlc.softmax_cross_entropy_grad %logits, %labels, %one
        : (tensor<64x10xf32>, tensor<64xi32>, tensor<f32>) -> tensor<64x10xf32>
    ```
  }];
  let arguments = (ins DLC_Matrix:$logits, DLC_Labels:$labels,
                       DLC_ScalarF32:$loss_grad);
  let results = (outs DLC_Matrix:$logits_grad);
}

def DLC_MseGradOp : DLC_ShapedOp<"mse_grad"> {
  let summary = "gradient of the mean squared error w.r.t. the predictions";
  let description = [{
    `2 * (predictions - targets) * loss_grad / numel`.

    Example:
    ```mlir
    %dp = dlc.mse_grad %p, %t, %one
        : (tensor<64x1xf32>, tensor<64x1xf32>, tensor<f32>) -> tensor<64x1xf32>
    ```
  }];
  let arguments = (ins DLC_F32Tensor:$predictions, DLC_F32Tensor:$targets,
                       DLC_ScalarF32:$loss_grad);
  let results = (outs DLC_F32Tensor:$predictions_grad);
}

def DLC_BinaryCrossEntropyGradOp : DLC_ShapedOp<"binary_cross_entropy_grad"> {
  let summary = "gradient of the mean binary cross-entropy";
  let description = [{
    From logits: `(sigmoid(p) - t) * loss_grad / numel`. From probabilities:
    `(p - t) / (p * (1 - p)) * loss_grad / numel` with `p` clipped to
    [1e-7, 1 - 1e-7] (zero gradient where the clip is active, as Keras).

    Example:
    ```mlir
    %dp = dlc.binary_cross_entropy_grad %p, %t, %one {from_logits}
        : (tensor<64x1xf32>, tensor<64x1xf32>, tensor<f32>) -> tensor<64x1xf32>
    ```
  }];
  let arguments = (ins DLC_F32Tensor:$predictions, DLC_F32Tensor:$targets,
                       DLC_ScalarF32:$loss_grad, UnitAttr:$from_logits);
  let results = (outs DLC_F32Tensor:$predictions_grad);
}

#endif // DLC_DIALECT_DLC_IR_DLCGRADIENTOPS_TD
