//===- Passes.td - dlc conversion passes -------------------*- tablegen -*-===//
//
// Conversions out of the dlc dialect. Each conversion lives in its own
// directory (lib/Conversion/XToY) with its patterns split by op family.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_CONVERSION_PASSES_TD
#define DLC_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def ConvertDLCToLinalgPass : Pass<"convert-dlc-to-linalg"> {
  let summary = "Lower dlc layer ops to linalg on tensors";
  let description = [{
    Rewrites every forward op of the `dlc` dialect into linalg on tensors
    (plus `tensor`, `arith` and `math`), keeping value semantics. Named linalg
    ops are used where one matches the layer exactly, so that later tiling and
    vectorization see the structure; `linalg.generic` everywhere else:

    | dlc op                          | linalg                                   |
    |---------------------------------|------------------------------------------|
    | conv2d, groups = 1              | `linalg.conv_2d_nhwc_hwcf`               |
    | conv2d, groups = C (depthwise)  | `linalg.depthwise_conv_2d_nhwc_hwc`, or `_hwcm` with a channel multiplier |
    | conv2d, 1 < groups < C          | `linalg.generic` over (n, oh, ow, g, f, kh, kw, c) |
    | dense                           | `linalg.matmul`                          |
    | max_pool2d / avg_pool2d         | `linalg.pooling_nhwc_max` / `_sum` (+ a divide) |
    | flatten / reshape / concat      | `tensor.collapse_shape` / `expand_shape` / `insert_slice` |
    | everything else                 | `linalg.generic`                         |

    Padding (`same` or explicit) becomes a `tensor.pad` of the input (zero
    for convolution and average pooling, -inf for max pooling); a bias
    becomes the broadcast initial value of the accumulator. Keyed random ops
    draw from Philox4x32-10 built from `arith` ops (see Random.cpp for the
    exact counter layout); keyless ones lower to their inference form.

    In a function marked `dlc.reduction_chunk = C` (dlc compile
    --reduction-chunk), every reduction over the batch (filter, dense-weight
    and bias gradients, batch-norm sums and their gradients) is built as one
    op per chunk of C samples, with the shapes of a C-sample batch, and the
    partials are added pairwise (halves of an even count, recursively; an
    odd count left to right), without `dlc.epilogue`: the order a
    power-of-two split of the batch over ranks reproduces.

    Example:
    ```mlir
    %y = dlc.conv2d %x, %w, %b {padding = #dlc.padding<same>}
       : (tensor<1x5x5x3xf32>, tensor<3x3x3x8xf32>, tensor<8xf32>) -> tensor<1x5x5x8xf32>
    ```
    becomes
    ```mlir
    %padded = tensor.pad %x low[0, 1, 1, 0] high[0, 1, 1, 0] { ... }
    %init = linalg.broadcast ins(%b : tensor<8xf32>) outs(%e : tensor<1x5x5x8xf32>)
              dimensions = [0, 1, 2]
    %y = linalg.conv_2d_nhwc_hwcf {dilations = dense<1> : tensor<2xi64>,
                                   strides = dense<1> : tensor<2xi64>}
           ins(%padded, %w : tensor<1x7x7x3xf32>, tensor<3x3x3x8xf32>)
           outs(%init : tensor<1x5x5x8xf32>) -> tensor<1x5x5x8xf32>
    ```
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::bufferization::BufferizationDialect",
    "::mlir::func::FuncDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::memref::MemRefDialect",
    "::mlir::math::MathDialect",
    "::mlir::tensor::TensorDialect",
  ];
}

#endif // DLC_CONVERSION_PASSES_TD
