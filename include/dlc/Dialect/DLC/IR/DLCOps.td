//===- DLCOps.td - dlc layer operations --------------------*- tablegen -*-===//
//
// One banner per operation. Every op is Pure, verifies its operands and
// attributes in C++ (the same code that infers its result type: DLCOps.cpp
// for this file's ops, DLCGradientOps.cpp, DLCOptimizerOps.cpp and
// DLCFusedOps.cpp for the included families), and prints its operand and
// result types as a function type.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_DIALECT_DLC_IR_DLCOPS_TD
#define DLC_DIALECT_DLC_IR_DLCOPS_TD

include "dlc/Dialect/DLC/IR/DLCDialect.td"
include "dlc/Dialect/DLC/IR/DLCInterfaces.td"
include "mlir/IR/CommonAttrConstraints.td"
include "mlir/IR/CommonTypeConstraints.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

//===----------------------------------------------------------------------===//
// Type constraints
//===----------------------------------------------------------------------===//

// dlc works on statically shaped tensors: every buffer of the training step
// is planned ahead of time.
class DLC_F32TensorOfRank<list<int> ranks> : Type<
    And<[TensorRankOf<[F32], ranks>.predicate, HasStaticShapePred]>,
    "statically shaped " # !interleave(!foreach(r, ranks, r # "D"), "/") #
    " tensor of f32", "::mlir::RankedTensorType">;

def DLC_F32Tensor : Type<
    And<[RankedTensorOf<[F32]>.predicate, HasStaticShapePred]>,
    "statically shaped tensor of f32", "::mlir::RankedTensorType">;
def DLC_Image : DLC_F32TensorOfRank<[4]>;
def DLC_Matrix : DLC_F32TensorOfRank<[2]>;
def DLC_Vector : DLC_F32TensorOfRank<[1]>;
def DLC_Labels : Type<
    And<[TensorRankOf<[I32], [1]>.predicate, HasStaticShapePred]>,
    "statically shaped 1D tensor of i32 class labels",
    "::mlir::RankedTensorType">;
def DLC_ScalarF32 : 0DTensorOf<[F32]>;
def DLC_ScalarI32 : 0DTensorOf<[I32]>;
// Key of a randomized layer, derived from the run's seed and step.
def DLC_Key : TypeAlias<I64, "64-bit key">;

def DLC_I64Pair : ConfinedAttr<DenseI64ArrayAttr, [DenseArrayCount<2>]>;

// Ops with a gradient rule in DLCGradients.cpp.
defvar DLC_Differentiable =
    DeclareOpInterfaceMethods<DLC_DifferentiableOpInterface>;

//===----------------------------------------------------------------------===//
// Base class
//===----------------------------------------------------------------------===//

class DLC_Op<string mnemonic, list<Trait> traits = []>
    : Op<DLC_Dialect, mnemonic, !listconcat(traits, [Pure])> {
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
}

// Verifies an op by running its C++ shape rule with diagnostics on and
// comparing the result types (mlir::dlc::ShapeRuleVerified in DLCOps.h).
def DLC_ShapeRuleVerified : NativeOpTrait<"ShapeRuleVerified"> {
  let cppNamespace = "::mlir::dlc";
}

// An op whose result type is computed (and verified) by C++ shape rules.
class DLC_ShapedOp<string mnemonic, list<Trait> traits = []>
    : DLC_Op<mnemonic, !listconcat(traits, [InferTypeOpAdaptor,
                                            DLC_ShapeRuleVerified])>;

// One input, one result of the same type.
class DLC_UnaryElementwiseOp<string mnemonic, list<Trait> traits = []>
    : DLC_Op<mnemonic, !listconcat(traits, [SameOperandsAndResultType])> {
  let arguments = (ins DLC_F32Tensor:$input);
  let results = (outs DLC_F32Tensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

//===----------------------------------------------------------------------===//
// Convolution and dense layers
//===----------------------------------------------------------------------===//

def DLC_Conv2DOp : DLC_ShapedOp<"conv2d", [DLC_Differentiable]> {
  let summary = "2-D convolution (Keras Conv2D), NHWC input, HWCF filter";
  let description = [{
    Cross-correlates an NHWC `input` with an HWCF `filter` of shape
    `[KH, KW, C / groups, F]`, and adds the optional `bias` of shape `[F]`.

    * `strides`, `dilations`: `[h, w]`, each >= 1.
    * `padding`: `valid` (no padding), `same` (TensorFlow rule: output size
      `ceil(in / stride)`, the odd pad on the bottom/right), or `explicit`
      with `pads = [top, bottom, left, right]`.
    * `groups`: C and F must both be divisible by it (depthwise when
      `groups == C`).

    Example:
    ```mlir
    %y = dlc.conv2d %x, %w, %b {padding = #dlc.padding<same>,
                                strides = array<i64: 2, 2>}
       : (tensor<8x28x28x1xf32>, tensor<3x3x1x32xf32>, tensor<32xf32>)
      -> tensor<8x14x14x32xf32>
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
  let results = (outs DLC_Image:$output);
  let extraClassDeclaration = [{
    /// Padding actually applied, as [top, bottom, left, right], whatever the
    /// padding mode (resolves `same` with the TensorFlow rule).
    llvm::SmallVector<int64_t, 4> getResolvedPads();
  }];
}

def DLC_DenseOp : DLC_ShapedOp<"dense", [DLC_Differentiable]> {
  let summary = "fully connected layer (Keras Dense without activation)";
  let description = [{
    Computes `input x kernel (+ bias)` for an input `[N, K]`, a kernel
    `[K, M]` (Keras layout: inputs x units) and an optional bias `[M]`.

    Example:
    ```mlir
    %y = dlc.dense %x, %w, %b
       : (tensor<64x9216xf32>, tensor<9216x128xf32>, tensor<128xf32>)
      -> tensor<64x128xf32>
    ```
  }];
  let arguments = (ins DLC_Matrix:$input, DLC_Matrix:$kernel,
                       Optional<DLC_Vector>:$bias);
  let results = (outs DLC_Matrix:$output);
}

def DLC_BiasAddOp : DLC_ShapedOp<"bias_add", [DLC_Differentiable]> {
  let summary = "adds a per-channel bias along the last dimension";
  let description = [{
    Adds `bias` of shape `[C]` to every position of `input` `[..., C]`.

    Example:
    ```mlir
    %y = dlc.bias_add %x, %b : (tensor<8x4x4x16xf32>, tensor<16xf32>) -> tensor<8x4x4x16xf32>
    ```
  }];
  let arguments = (ins DLC_F32Tensor:$input, DLC_Vector:$bias);
  let results = (outs DLC_F32Tensor:$output);
}

//===----------------------------------------------------------------------===//
// Activations
//===----------------------------------------------------------------------===//

def DLC_ReluOp : DLC_UnaryElementwiseOp<"relu", [DLC_Differentiable]> {
  let summary = "rectified linear unit, max(x, 0)";
  let description = [{
    Example:
    ```mlir
    %y = dlc.relu %x : tensor<8x26x26x32xf32>
    ```
  }];
}

def DLC_SigmoidOp : DLC_UnaryElementwiseOp<"sigmoid", [DLC_Differentiable]> {
  let summary = "logistic sigmoid, 1 / (1 + exp(-x))";
  let description = [{
    Example:
    ```mlir
    %y = dlc.sigmoid %x : tensor<8x10xf32>
    ```
  }];
}

def DLC_TanhOp : DLC_UnaryElementwiseOp<"tanh", [DLC_Differentiable]> {
  let summary = "hyperbolic tangent";
  let description = [{
    Example:
    ```mlir
    %y = dlc.tanh %x : tensor<8x10xf32>
    ```
  }];
}

def DLC_LeakyReluOp : DLC_Op<"leaky_relu", [SameOperandsAndResultType,
    DLC_Differentiable]> {
  let summary = "leaky rectified linear unit, x >= 0 ? x : alpha * x";
  let description = [{
    `alpha` (Keras `negative_slope`, default 0.3) must be non-negative.

    Example:
    ```mlir
    %y = dlc.leaky_relu %x {alpha = 1.000000e-01 : f32} : tensor<8x10xf32>
    ```
  }];
  let arguments = (ins DLC_F32Tensor:$input,
                       DefaultValuedAttr<F32Attr, "0.3f">:$alpha);
  let results = (outs DLC_F32Tensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($input)";
  let hasVerifier = 1;
}

def DLC_SoftmaxOp : DLC_Op<"softmax", [SameOperandsAndResultType,
    DLC_Differentiable]> {
  let summary = "softmax along one axis (the last by default)";
  let description = [{
    `axis` may be negative (counted from the end), as in Keras.

    Example:
    ```mlir
    %y = dlc.softmax %x {axis = -1 : i64} : tensor<8x10xf32>
    ```
  }];
  let arguments = (ins DLC_F32Tensor:$input,
                       DefaultValuedAttr<I64Attr, "-1">:$axis);
  let results = (outs DLC_F32Tensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($input)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Pooling and reshaping
//===----------------------------------------------------------------------===//

class DLC_Pool2DOp<string mnemonic>
    : DLC_ShapedOp<mnemonic, [DLC_Differentiable]> {
  let arguments = (ins
    DLC_Image:$input,
    DLC_I64Pair:$pool_size,
    DLC_I64Pair:$strides,
    DefaultValuedAttr<DLC_PaddingAttr, "PaddingMode::valid">:$padding,
    DefaultValuedAttr<DenseI64ArrayAttr, "{0, 0, 0, 0}">:$pads
  );
  let results = (outs DLC_Image:$output);
  let extraClassDeclaration = [{
    /// Padding applied by `same` or given by `explicit` `pads`, as
    /// [top, bottom, left, right].
    llvm::SmallVector<int64_t, 4> getResolvedPads();
  }];
}

def DLC_MaxPool2DOp : DLC_Pool2DOp<"max_pool2d"> {
  let summary = "2-D max pooling (Keras MaxPooling2D)";
  let description = [{
    Takes the maximum over each `pool_size` window, moved by `strides`.
    `padding` is `valid`, `same`, or `explicit` with `pads = [top, bottom,
    left, right]` (each smaller than the window, as ONNX and PyTorch
    require); padded positions never win the max.

    Example:
    ```mlir
    %y = dlc.max_pool2d %x {pool_size = array<i64: 2, 2>, strides = array<i64: 2, 2>}
       : (tensor<8x24x24x64xf32>) -> tensor<8x12x12x64xf32>
    ```
  }];
}

def DLC_AvgPool2DOp : DLC_Pool2DOp<"avg_pool2d"> {
  let summary = "2-D average pooling (Keras AveragePooling2D)";
  let description = [{
    Averages each `pool_size` window, moved by `strides`. With `same` or
    `explicit` padding (`pads` as for max_pool2d) the average is over the
    valid (unpadded) positions only, as in Keras (ONNX's count_include_pad
    0, PyTorch's count_include_pad=False).

    Example:
    ```mlir
    %y = dlc.avg_pool2d %x {padding = #dlc.padding<same>, pool_size = array<i64: 3, 3>,
                            strides = array<i64: 2, 2>}
       : (tensor<8x7x7x16xf32>) -> tensor<8x4x4x16xf32>
    ```
  }];
}

def DLC_GlobalAvgPoolOp : DLC_ShapedOp<"global_avg_pool", [DLC_Differentiable]> {
  let summary = "mean over the spatial dimensions (GlobalAveragePooling2D)";
  let description = [{
    Reduces `[N, H, W, C]` to `[N, C]`.

    Example:
    ```mlir
    %y = dlc.global_avg_pool %x : (tensor<8x7x7x64xf32>) -> tensor<8x64xf32>
    ```
  }];
  let arguments = (ins DLC_Image:$input);
  let results = (outs DLC_Matrix:$output);
}

def DLC_FlattenOp : DLC_ShapedOp<"flatten", [DLC_Differentiable]> {
  let summary = "flattens all but the batch dimension (Keras Flatten)";
  let description = [{
    Reshapes `[N, d1, ..., dk]` to `[N, d1 * ... * dk]` in row-major (NHWC)
    order, as Keras does for `channels_last`.

    Example:
    ```mlir
    %y = dlc.flatten %x : (tensor<8x12x12x64xf32>) -> tensor<8x9216xf32>
    ```
  }];
  let arguments = (ins DLC_F32Tensor:$input);
  let results = (outs DLC_Matrix:$output);
}

def DLC_ReshapeOp : DLC_ShapedOp<"reshape", [DLC_Differentiable]> {
  let summary = "reshapes to a static shape, batch dimension included";
  let description = [{
    `shape` is the full result shape; at most one entry may be -1, which is
    inferred from the element count. The element count must not change.

    Example:
    ```mlir
    %y = dlc.reshape %x {shape = array<i64: 8, 28, 28, 1>}
       : (tensor<8x784xf32>) -> tensor<8x28x28x1xf32>
    ```
  }];
  let arguments = (ins DLC_F32Tensor:$input, DenseI64ArrayAttr:$shape);
  let results = (outs DLC_F32Tensor:$output);
}

//===----------------------------------------------------------------------===//
// Merging
//===----------------------------------------------------------------------===//

def DLC_AddOp : DLC_Op<"add", [SameOperandsAndResultType, Commutative,
    DLC_Differentiable]> {
  let summary = "elementwise sum of two tensors of one shape (residual Add)";
  let description = [{
    Example:
    ```mlir
    %y = dlc.add %a, %b : tensor<8x14x14x32xf32>
    ```
  }];
  let arguments = (ins DLC_F32Tensor:$lhs, DLC_F32Tensor:$rhs);
  let results = (outs DLC_F32Tensor:$output);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` type($output)";
}

def DLC_ConcatOp : DLC_ShapedOp<"concat", [DLC_Differentiable]> {
  let summary = "concatenation along one axis (Keras Concatenate)";
  let description = [{
    All inputs have the same rank and agree on every dimension but `axis`
    (default -1, the channels).

    Example:
    ```mlir
    %y = dlc.concat %a, %b {axis = -1 : i64}
       : (tensor<8x7x7x16xf32>, tensor<8x7x7x32xf32>) -> tensor<8x7x7x48xf32>
    ```
  }];
  let arguments = (ins Variadic<DLC_F32Tensor>:$inputs,
                       DefaultValuedAttr<I64Attr, "-1">:$axis);
  let results = (outs DLC_F32Tensor:$output);
}

//===----------------------------------------------------------------------===//
// Regularization and normalization
//===----------------------------------------------------------------------===//

def DLC_DropoutOp : DLC_ShapedOp<"dropout", [DLC_Differentiable]> {
  let summary = "inverted dropout with a counter-based random mask";
  let description = [{
    With a `key`, zeroes each element with probability `rate` and scales the
    others by `1 / (1 - rate)`; the mask is a pure function of
    `(key, stream, element index)`. Without a key (inference) it is the
    identity. `rate` lies in [0, 1).

    Example:
    ```mlir
    %y = dlc.dropout %x, %key {rate = 2.500000e-01 : f32, stream = 3 : i64}
       : (tensor<8x128xf32>, i64) -> tensor<8x128xf32>
    ```
  }];
  let arguments = (ins DLC_F32Tensor:$input, Optional<DLC_Key>:$key,
                       F32Attr:$rate,
                       DefaultValuedAttr<I64Attr, "0">:$stream);
  let results = (outs DLC_F32Tensor:$output);
  let hasFolder = 1;
}

def DLC_BatchNormOp : DLC_ShapedOp<"batch_norm", [DLC_Differentiable]> {
  let summary = "batch normalization, inference form (running statistics)";
  let description = [{
    `(x - mean) / sqrt(variance + epsilon) * gamma + beta` per channel (the
    last dimension), with the running `mean` and `variance`. `momentum` is
    not used here: it is the layer's setting that the training form
    (`batch_norm_train`) uses when the train step is built.

    Example:
    ```mlir
    %y = dlc.batch_norm %x, %gamma, %beta, %mean, %var {epsilon = 1.000000e-03 : f32}
       : (tensor<8x26x26x32xf32>, tensor<32xf32>, tensor<32xf32>, tensor<32xf32>,
          tensor<32xf32>) -> tensor<8x26x26x32xf32>
    ```
  }];
  let arguments = (ins DLC_F32Tensor:$input, DLC_Vector:$gamma,
                       DLC_Vector:$beta, DLC_Vector:$mean,
                       DLC_Vector:$variance,
                       DefaultValuedAttr<F32Attr, "1.0e-3f">:$epsilon,
                       DefaultValuedAttr<F32Attr, "0.99f">:$momentum);
  let results = (outs DLC_F32Tensor:$output);
}

def DLC_BatchNormTrainOp : DLC_ShapedOp<"batch_norm_train", [DLC_Differentiable]> {
  let summary = "batch normalization, training form (batch statistics)";
  let description = [{
    Normalizes with the statistics of the batch (mean and biased variance over
    every dimension but the last) and returns them with the updated running
    statistics, Keras convention:
    `new_running = momentum * running + (1 - momentum) * batch`.
    `momentum` lies in [0, 1], `epsilon` > 0.

    Example:
    ```mlir
    %y, %bm, %bv, %rm, %rv = dlc.batch_norm_train %x, %gamma, %beta, %mean, %var
        {epsilon = 1.000000e-03 : f32, momentum = 9.900000e-01 : f32}
       : (tensor<8x26x26x32xf32>, tensor<32xf32>, tensor<32xf32>, tensor<32xf32>,
          tensor<32xf32>) -> (tensor<8x26x26x32xf32>, tensor<32xf32>,
          tensor<32xf32>, tensor<32xf32>, tensor<32xf32>)
    ```
  }];
  let arguments = (ins DLC_F32Tensor:$input, DLC_Vector:$gamma,
                       DLC_Vector:$beta, DLC_Vector:$running_mean,
                       DLC_Vector:$running_variance,
                       DefaultValuedAttr<F32Attr, "1.0e-3f">:$epsilon,
                       DefaultValuedAttr<F32Attr, "0.99f">:$momentum);
  let results = (outs DLC_F32Tensor:$output, DLC_Vector:$batch_mean,
                      DLC_Vector:$batch_variance,
                      DLC_Vector:$new_running_mean,
                      DLC_Vector:$new_running_variance);
}

//===----------------------------------------------------------------------===//
// Data augmentation (active only with a key, i.e. in training)
//===----------------------------------------------------------------------===//

def DLC_RandomFlipOp : DLC_ShapedOp<"random_flip", [DLC_Differentiable]> {
  let summary = "flips each image with probability 1/2 (Keras RandomFlip)";
  let description = [{
    Horizontal flips mirror the width axis, vertical flips the height axis;
    `horizontal_and_vertical` draws both independently. Identity without a
    key.

    Example:
    ```mlir
    %y = dlc.random_flip %x, %key {mode = #dlc.flip_mode<horizontal>}
       : (tensor<8x32x32x3xf32>, i64) -> tensor<8x32x32x3xf32>
    ```
  }];
  let arguments = (ins DLC_Image:$input, Optional<DLC_Key>:$key,
      DefaultValuedAttr<DLC_FlipModeAttr, "FlipMode::horizontal_and_vertical">:$mode,
      DefaultValuedAttr<I64Attr, "0">:$stream);
  let results = (outs DLC_Image:$output);
  let hasFolder = 1;
}

def DLC_RandomTranslationOp : DLC_ShapedOp<"random_translation"> {
  let summary = "shifts each image by a random offset (Keras RandomTranslation)";
  let description = [{
    Each image moves by `u * H` rows and `v * W` columns, `u` drawn uniformly
    from `height_factor = [lower, upper]`, `v` from `width_factor`, all in
    [-1, 1], rounded to whole pixels. Uncovered pixels follow `fill_mode`
    (`reflect` by default, as Keras) and `fill_value` for `constant`.
    Identity without a key.

    Example:
    ```mlir
    %y = dlc.random_translation %x, %key {height_factor = array<f32: -1.000000e-01, 1.000000e-01>,
                                          width_factor = array<f32: -1.000000e-01, 1.000000e-01>}
       : (tensor<8x28x28x1xf32>, i64) -> tensor<8x28x28x1xf32>
    ```
  }];
  let arguments = (ins DLC_Image:$input, Optional<DLC_Key>:$key,
      DenseF32ArrayAttr:$height_factor, DenseF32ArrayAttr:$width_factor,
      DefaultValuedAttr<DLC_FillModeAttr, "FillMode::reflect">:$fill_mode,
      DefaultValuedAttr<F32Attr, "0.0f">:$fill_value,
      DefaultValuedAttr<I64Attr, "0">:$stream);
  let results = (outs DLC_Image:$output);
  let hasFolder = 1;
}

def DLC_RandomCropOp : DLC_ShapedOp<"random_crop"> {
  let summary = "crops each image to height x width (Keras RandomCrop)";
  let description = [{
    With a key, each image is cropped at a random offset; without one
    (inference) the crop is centered, as in Keras.

    Example:
    ```mlir
    %y = dlc.random_crop %x, %key {height = 24 : i64, width = 24 : i64}
       : (tensor<8x32x32x3xf32>, i64) -> tensor<8x24x24x3xf32>
    ```
  }];
  let arguments = (ins DLC_Image:$input, Optional<DLC_Key>:$key,
                       I64Attr:$height, I64Attr:$width,
                       DefaultValuedAttr<I64Attr, "0">:$stream);
  let results = (outs DLC_Image:$output);
}

//===----------------------------------------------------------------------===//
// Losses and metrics
//===----------------------------------------------------------------------===//

def DLC_SoftmaxCrossEntropyOp : DLC_ShapedOp<"softmax_cross_entropy", [DLC_Differentiable]> {
  let summary = "sparse categorical cross-entropy from logits, batch mean";
  let description = [{
    `mean_n(logsumexp(logits[n]) - logits[n, labels[n]])` for logits `[N, K]`
    and integer labels `[N]` in [0, K).

    Example:
    ```mlir
    %l = dlc.softmax_cross_entropy %logits, %labels
       : (tensor<64x10xf32>, tensor<64xi32>) -> tensor<f32>
    ```
  }];
  let arguments = (ins DLC_Matrix:$logits, DLC_Labels:$labels);
  let results = (outs DLC_ScalarF32:$loss);
}

def DLC_MseOp : DLC_ShapedOp<"mse", [DLC_Differentiable]> {
  let summary = "mean squared error over every element";
  let description = [{
    Example:
    ```mlir
    %l = dlc.mse %pred, %target : (tensor<64x1xf32>, tensor<64x1xf32>) -> tensor<f32>
    ```
  }];
  let arguments = (ins DLC_F32Tensor:$predictions, DLC_F32Tensor:$targets);
  let results = (outs DLC_ScalarF32:$loss);
}

def DLC_BinaryCrossEntropyOp : DLC_ShapedOp<"binary_cross_entropy", [DLC_Differentiable]> {
  let summary = "binary cross-entropy, mean over every element";
  let description = [{
    Targets are probabilities in [0, 1]. With `from_logits` the predictions
    are logits (computed stably); otherwise probabilities, clipped to
    [1e-7, 1 - 1e-7] as Keras does.

    Example:
    ```mlir
    %l = dlc.binary_cross_entropy %pred, %target {from_logits}
       : (tensor<64x1xf32>, tensor<64x1xf32>) -> tensor<f32>
    ```
  }];
  let arguments = (ins DLC_F32Tensor:$predictions, DLC_F32Tensor:$targets,
                       UnitAttr:$from_logits);
  let results = (outs DLC_ScalarF32:$loss);
}

def DLC_AccuracyOp : DLC_ShapedOp<"accuracy"> {
  let summary = "number of rows whose argmax equals the label";
  let description = [{
    Counts `n` with `argmax(logits[n]) == labels[n]` (first maximum wins).

    Example:
    ```mlir
    %c = dlc.accuracy %logits, %labels
       : (tensor<64x10xf32>, tensor<64xi32>) -> tensor<i32>
    ```
  }];
  let arguments = (ins DLC_Matrix:$logits, DLC_Labels:$labels);
  let results = (outs DLC_ScalarI32:$correct);
}

include "dlc/Dialect/DLC/IR/DLCGradientOps.td"
include "dlc/Dialect/DLC/IR/DLCOptimizerOps.td"
include "dlc/Dialect/DLC/IR/DLCCollectiveOps.td"
include "dlc/Dialect/DLC/IR/DLCFusedOps.td"

#endif // DLC_DIALECT_DLC_IR_DLCOPS_TD
