//===- DLCToLinalg.h - dlc to linalg patterns -------------------*- C++ -*-===//
//
// Patterns that lower the dlc dialect to linalg on tensors, one populate
// function per op family so that a pipeline (or a fusion pass that handles
// some ops itself) can pick the families it needs.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_CONVERSION_DLCTOLINALG_DLCTOLINALG_H
#define DLC_CONVERSION_DLCTOLINALG_DLCTOLINALG_H

namespace mlir {
class ConversionTarget;
class ModuleOp;
class MLIRContext;
class RewritePatternSet;

namespace dlc {

/// conv2d (all groupings, strides, dilations, padding modes) and dense.
void populateConvAndDenseToLinalgPatterns(RewritePatternSet &patterns);
/// Rewrites every dlc.all_reduce of `module` as a call of the runtime's
/// communicator on a packed buffer (convert-dlc-to-linalg runs it first).
void lowerCollectives(ModuleOp module);

/// bias_add, add, relu, leaky_relu, sigmoid, tanh, softmax.
void populateElementwiseToLinalgPatterns(RewritePatternSet &patterns);

/// max_pool2d, avg_pool2d, global_avg_pool.
void populatePoolingToLinalgPatterns(RewritePatternSet &patterns);

/// flatten, reshape, concat.
void populateReshapeToLinalgPatterns(RewritePatternSet &patterns);

/// batch_norm (inference) and batch_norm_train.
void populateNormalizationToLinalgPatterns(RewritePatternSet &patterns);

/// softmax_cross_entropy, mse, binary_cross_entropy, accuracy.
void populateLossAndMetricToLinalgPatterns(RewritePatternSet &patterns);

/// dropout, random_flip, random_translation, random_crop: keyless forms lower
/// to their inference semantics, keyed forms to Philox4x32-10.
void populateRandomToLinalgPatterns(RewritePatternSet &patterns);

/// conv2d_grad_input, conv2d_grad_filter (as forward convolutions), matmul
/// with transposed operands, channel_sum.
void populateConvAndDenseGradientToLinalgPatterns(RewritePatternSet &patterns);

/// relu_grad, leaky_relu_grad, sigmoid_grad, tanh_grad, softmax_grad.
void populateElementwiseGradientToLinalgPatterns(RewritePatternSet &patterns);

/// max_pool2d_grad, avg_pool2d_grad, global_avg_pool_grad.
void populatePoolingGradientToLinalgPatterns(RewritePatternSet &patterns);

/// batch_norm_grad.
void populateNormalizationGradientToLinalgPatterns(RewritePatternSet &patterns);

/// softmax_cross_entropy_grad, mse_grad, binary_cross_entropy_grad.
void populateLossGradientToLinalgPatterns(RewritePatternSet &patterns);

/// sgd_update, adam_update.
void populateOptimizerToLinalgPatterns(RewritePatternSet &patterns);

/// conv2d_bn_stats, batch_norm_train_apply, batch_norm_relu_grad,
/// fold_batch_norm_params, softmax_cross_entropy_with_grad. conv2d_bn_stats
/// creates a dlc.conv2d, so the conv2d pattern must be in the same set.
void populateFusedToLinalgPatterns(RewritePatternSet &patterns);

/// Every family above.
void populateDLCToLinalgConversionPatterns(RewritePatternSet &patterns);

/// Marks dlc illegal and the dialects the patterns produce legal.
void configureDLCToLinalgTarget(ConversionTarget &target);

} // namespace dlc
} // namespace mlir

#endif // DLC_CONVERSION_DLCTOLINALG_DLCTOLINALG_H
