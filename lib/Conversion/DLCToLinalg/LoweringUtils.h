//===- LoweringUtils.h - Builders shared by the dlc lowerings ---*- C++ -*-===//
//
// Small builders that every op family of convert-dlc-to-linalg needs: empty
// and filled tensors, elementwise and reduction linalg.generic ops, spatial
// padding, and the Philox4x32-10 counter-based generator. Internal to
// lib/Conversion/DLCToLinalg.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_LIB_CONVERSION_DLCTOLINALG_LOWERINGUTILS_H
#define DLC_LIB_CONVERSION_DLCTOLINALG_LOWERINGUTILS_H

#include "mlir/Dialect/Utils/ReshapeOpsUtils.h"
#include "mlir/Dialect/Utils/StructuredOpsUtils.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"

#include <array>

namespace mlir::dlc::lowering {

/// Builds the body of a linalg.generic from its block arguments (inputs, then
/// outputs) and returns the values to yield.
using GenericBodyFn = llvm::function_ref<SmallVector<Value>(
    OpBuilder &b, Location loc, ValueRange args)>;

/// An f32 constant.
Value f32Constant(OpBuilder &b, Location loc, double value);

/// An index constant.
Value indexConstant(OpBuilder &b, Location loc, int64_t value);

/// `tensor.empty` of the given static shape.
Value createEmpty(OpBuilder &b, Location loc, ArrayRef<int64_t> shape,
                  Type elementType);

/// A tensor of `shape` filled with `value` (linalg.fill).
Value createFilled(OpBuilder &b, Location loc, ArrayRef<int64_t> shape,
                   Value value);

/// A tensor of `shape` filled with the f32 constant `value`.
Value createFilledF32(OpBuilder &b, Location loc, ArrayRef<int64_t> shape,
                      double value);

/// Broadcasts the per-channel vector `bias` ([C]) to `shape` ([..., C]).
Value broadcastChannels(OpBuilder &b, Location loc, Value bias,
                        ArrayRef<int64_t> shape);

/// Pads dimensions 1 and 2 of an NHWC tensor by `pads` = [top, bottom, left,
/// right] with `padValue`; returns `input` unchanged when every pad is 0.
Value padSpatial(OpBuilder &b, Location loc, Value input,
                 ArrayRef<int64_t> pads, double padValue);

/// Reshapes `value` to `shape` with `reassociation` (tensor.expand_shape or
/// tensor.collapse_shape, picked from the ranks).
Value reshapeTo(OpBuilder &b, Location loc, Value value,
                ArrayRef<int64_t> shape,
                ArrayRef<ReassociationIndices> reassociation);

/// The cross-correlation of an NHWC `input` (already padded) with an HWCF
/// `filter` [KH, KW, C / groups, F], accumulated into `init` [N, OH, OW, F]:
/// linalg.conv_2d_nhwc_hwcf, a depthwise named op or a grouped generic
/// depending on `groups` (see ConvAndDense.cpp, which defines it).
Value buildConv2D(OpBuilder &b, Location loc, Value input, Value filter,
                  Value init, int64_t groups, ArrayRef<int64_t> strides,
                  ArrayRef<int64_t> dilations);

/// The number of input positions of window `outIndex` (an index) along one
/// dimension: [o * stride - padBefore, ... + kernel) clipped to [0, size).
Value windowValidCount(OpBuilder &b, Location loc, Value outIndex,
                       int64_t stride, int64_t padBefore, int64_t kernel,
                       int64_t size);

/// A linalg.generic with one result per output. Every map and iterator is
/// given explicitly; `body` receives the scalar block arguments.
SmallVector<Value> buildGeneric(OpBuilder &b, Location loc, ValueRange inputs,
                                ValueRange outputs, ArrayRef<AffineMap> maps,
                                ArrayRef<utils::IteratorType> iterators,
                                GenericBodyFn body);

/// An all-parallel linalg.generic that writes a tensor of `resultShape` and
/// `resultElementType`. Each input either has the result's shape (read
/// elementwise), is 1-D with the size of the last dimension (a per-channel
/// vector, broadcast), or is 0-D (a scalar, broadcast). The body does not see
/// the output's block argument.
Value buildElementwise(OpBuilder &b, Location loc,
                       ArrayRef<int64_t> resultShape, Type resultElementType,
                       ValueRange inputs, GenericBodyFn body);

/// Reduces `input` into a tensor of the kept dimensions (those with
/// `reduced[d] == false`, in order), starting from `init` (a scalar). `body`
/// gets (input element, accumulator) and returns the new accumulator.
Value buildReduction(OpBuilder &b, Location loc, Value input,
                     ArrayRef<bool> reduced, Value init, GenericBodyFn body);

/// The maximum of `input` over the dimensions with `reduced[d] == true`
/// (the first step of a numerically stable softmax or logsumexp).
Value maxOver(OpBuilder &b, Location loc, Value input, ArrayRef<bool> reduced);

/// Sums `input` over every dimension but the last: [..., C] -> [C].
Value sumPerChannel(OpBuilder &b, Location loc, Value input);

/// A per-channel reduction generic: every dimension of the full-rank
/// `inputs` but the last is reduced into the [C] `outputs`; rank-1 inputs
/// are per-channel vectors (broadcast).
SmallVector<Value> buildChannelReduction(OpBuilder &b, Location loc,
                                         ValueRange inputs, ValueRange outputs,
                                         GenericBodyFn body);

/// A generic over [C] vectors with one fresh result per entry of
/// `outputTypes` (per-channel arithmetic).
SmallVector<Value> buildChannelMap(OpBuilder &b, Location loc,
                                   ValueRange inputs, int64_t channels,
                                   ArrayRef<Type> outputTypes,
                                   GenericBodyFn body);

/// An f64 constant.
Value f64Constant(OpBuilder &b, Location loc, double value);

/// Sums every element of `input` into a 0-D tensor.
Value sumAll(OpBuilder &b, Location loc, Value input);

/// Applies `body` to the single element of 0-D tensors: returns a 0-D tensor.
Value buildScalarMap(OpBuilder &b, Location loc, Type resultElementType,
                     ValueRange inputs, GenericBodyFn body);

/// The 0-D f32 tensor `scalar / count`: a mean from a sum, or a loss
/// gradient's per-element scale.
Value divideScalar(OpBuilder &b, Location loc, Value scalar, double count);

//===----------------------------------------------------------------------===//
// Training batch normalization, shared by the plain and the fused lowerings
//===----------------------------------------------------------------------===//
//
// dlc.batch_norm_train and the fused ops of DLCFusedOps.td compute the same
// arithmetic with the same builders, so that fusion changes where a value
// is computed, never its bits: a relu mask taken where the normalized value
// is within rounding of 0 would otherwise differ between the two programs.

/// Per-channel f64 sum and sum of squares of `x` ([..., C]) over every
/// dimension but the last, in one pass: {sum, sum_squares}, both [C] f64.
/// With `chunk` > 0, per chunk of `chunk` samples, added by treeSum.
std::pair<Value, Value> buildChannelSums(OpBuilder &b, Location loc, Value x,
                                         int64_t chunk = 0);

/// Training batch norm (+ relu) of `x` from its per-channel f64 `sum` and
/// `sumSquares`: {output, batch_mean, batch_variance, new_running_mean,
/// new_running_variance}, the results of dlc.batch_norm_train_apply.
SmallVector<Value> buildBatchNormFromSums(OpBuilder &b, Location loc, Value x,
                                          Value sum, Value sumSquares,
                                          Value gamma, Value beta,
                                          Value runningMean,
                                          Value runningVariance, double epsilon,
                                          double momentum, bool relu);

/// Training batch-norm backward: {input_grad, gamma_grad, beta_grad} of
/// dlc.batch_norm_grad. With `reluOutput`, `outputGrad` is first masked
/// where `reluOutput` is not > 0 (dlc.batch_norm_relu_grad). With
/// `sumsInEpilogue`, the reduction is marked `dlc.epilogue`: the CPU
/// schedule may compute it on the output tiles of `outputGrad`'s producer.
SmallVector<Value> buildBatchNormGrad(OpBuilder &b, Location loc,
                                      Value outputGrad, Value reluOutput,
                                      Value x, Value gamma, Value mean,
                                      Value variance, double epsilon,
                                      bool sumsInEpilogue = false);

//===----------------------------------------------------------------------===//
// Softmax cross-entropy, shared by the plain and the fused lowerings
//===----------------------------------------------------------------------===//
//
// dlc.softmax_cross_entropy, dlc.softmax_cross_entropy_grad and the fused
// dlc.softmax_cross_entropy_with_grad are built from these builders, so
// that fusion changes how often the row statistics are computed, never
// their arithmetic: the fused loss is the plain loss bit for bit.

/// Per-row values of softmax cross-entropy over logits [N, K], each [N].
struct CrossEntropyRows {
  /// max_k x[n, k].
  Value max;
  /// sum_k exp(x[n, k] - max[n]).
  Value sumExp;
  /// x[n, label[n]] (the label clamped to [0, K)); null without labels.
  Value picked;
};

/// The row maximum of `logits` (one pass), then the sum of the shifted
/// exponentials and, with `labels` ([N] i32; may be null), each row's label
/// logit (a second pass).
CrossEntropyRows buildCrossEntropyRows(OpBuilder &b, Location loc, Value logits,
                                       Value labels);

/// The loss from the rows (which must have `picked`):
/// mean_n(log(sumExp[n]) + max[n] - picked[n]), a 0-D tensor.
Value buildCrossEntropyLoss(OpBuilder &b, Location loc,
                            const CrossEntropyRows &rows);

/// Inside a generic over [N, K]: whether the current column
/// (linalg.index 1) is `label` (an i32) clamped to [0, classes). A label
/// out of range thus selects the first or last class instead of none.
Value isLabelColumn(OpBuilder &b, Location loc, Value label, int64_t classes);

/// The gradient w.r.t. the logits, one elementwise pass:
/// (exp(x - max) / sumExp - [k == label]) * lossGrad / N.
Value buildCrossEntropyGrad(OpBuilder &b, Location loc, Value logits,
                            Value labels, const CrossEntropyRows &rows,
                            Value lossGrad);

//===----------------------------------------------------------------------===//
// Philox4x32-10
//===----------------------------------------------------------------------===//

/// Emits Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as
/// 1, 2, 3", SC'11; the Random123 reference) on i32 values: four 32-bit
/// counter words, two 32-bit key words, ten rounds. Returns the four output
/// words. The C++ reference is dlc/Support/Philox.h.
std::array<Value, 4> buildPhilox4x32(OpBuilder &b, Location loc,
                                     std::array<Value, 4> counter,
                                     std::array<Value, 2> key);

/// dlc's draw: Philox4x32-10 with key = (low, high) 32 bits of `key` (i64) and
/// counter = (low, high) 32 bits of `index` (index), then (low, high) 32 bits
/// of the op's `stream`. Returns the four output words.
std::array<Value, 4> buildDraw(OpBuilder &b, Location loc, Value key,
                               int64_t stream, Value index);

/// Maps a 32-bit word to a uniform f32 in [0, 1): (word >> 8) * 2^-24.
Value buildUniform(OpBuilder &b, Location loc, Value word);

//===----------------------------------------------------------------------===//
// Batch reductions in fixed chunks (--reduction-chunk)
//===----------------------------------------------------------------------===//
//
// A function marked `dlc.reduction_chunk = C` computes every reduction over
// the batch (filter, dense weight and bias gradients, batch-norm sums and
// their gradients) as one partial per chunk of C samples, each with the
// shape of a C-sample batch (so the CPU schedule, chosen from the shape,
// sums it in the same order whatever the batch), and adds the partials
// with treeSum. A job of N ranks (N a power of two) whose per-rank batch
// is a power-of-two multiple of C then sums the same partials in the same
// tree as one process with the whole batch: the rank's own tree is one
// half, quarter, ... of it, and the all-reduce adds the halves.

/// The function's `dlc.reduction_chunk` around `op`, or 0 when it has none.
int64_t getReductionChunk(Operation *op);

/// Rows [offset, offset + size) of dimension 0 of `value`.
Value sliceBatch(OpBuilder &b, Location loc, Value value, int64_t offset,
                 int64_t size);

/// `partial` applied to each chunk of `chunk` samples of the `batched`
/// values (dimension 0, the last chunk possibly shorter): one result list
/// per chunk, in batch order. A `chunk` <= 0 (no --reduction-chunk) is one
/// chunk of the whole batch: `partial` of the values themselves.
SmallVector<SmallVector<Value>>
mapBatchChunks(OpBuilder &b, Location loc, ValueRange batched, int64_t chunk,
               llvm::function_ref<SmallVector<Value>(ValueRange)> partial);

/// The sum of same-shaped float tensors: an even count is split into
/// halves summed recursively and then added, an odd count is added left to
/// right (see above for why).
Value treeSum(OpBuilder &b, Location loc, ArrayRef<Value> parts);

/// treeSum of the i-th result of every chunk, for each i.
SmallVector<Value> treeSumChunks(OpBuilder &b, Location loc,
                                 ArrayRef<SmallVector<Value>> chunks);

} // namespace mlir::dlc::lowering

#endif // DLC_LIB_CONVERSION_DLCTOLINALG_LOWERINGUTILS_H
