//===- DLCGradients.cpp - Gradient rules of the dlc ops -------------------===//
//
// One rule per differentiable op, all in this file so they read like a
// table (the way tinygrad keeps its rules). A rule receives the gradients of
// the op's results (null: the result does not reach the loss) and builds the
// gradients of the operands the caller needs. Rules only build dlc ops (and
// tensor slices), so every gradient is itself inspectable, fusable IR. They
// build them with the typed builders (no op or attribute names as strings),
// so a misspelt attribute is a compile error, not a silent default.
//
//===----------------------------------------------------------------------===//

#include "dlc/Dialect/DLC/IR/DLCOps.h"

#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/Builders.h"

using namespace mlir;
using namespace mlir::dlc;

namespace {
/// Builds `OpTy` from its builder arguments (operands, then attributes) with
/// inferred result types at the forward op's location; null (with the shape
/// rule's diagnostic there) if the combination is invalid, which would be a
/// bug in a rule, never a crash.
class GradBuilder {
public:
  GradBuilder(OpBuilder &b, Operation *forward)
      : b(b), loc(forward->getLoc()) {}

  template <typename OpTy, typename... Args> OpTy op(Args &&...args) {
    FailureOr<OpTy> created =
        createWithInferredTypes<OpTy>(b, loc, std::forward<Args>(args)...);
    return failed(created) ? OpTy() : *created;
  }

  /// The first result of `op<OpTy>(args...)`, or null.
  template <typename OpTy, typename... Args> Value value(Args &&...args) {
    OpTy created = op<OpTy>(std::forward<Args>(args)...);
    return created ? created->getResult(0) : Value();
  }

  OpBuilder &b;
  Location loc;
};

/// Fills `grads` from the built values; fails if a needed one is missing.
LogicalResult finish(SmallVectorImpl<Value> &grads, ArrayRef<bool> needed,
                     ArrayRef<Value> values) {
  grads.assign(values.begin(), values.end());
  grads.resize(needed.size());
  for (auto [grad, need] : llvm::zip(grads, needed)) {
    if (!need)
      grad = Value();
    else if (!grad)
      return failure();
  }
  return success();
}

/// Rejects a request for the gradient of a non-differentiable operand.
LogicalResult refuse(Operation *op, ArrayRef<bool> needed,
                     ArrayRef<unsigned> operands, StringRef what) {
  for (unsigned i : operands)
    if (i < needed.size() && needed[i])
      return op->emitOpError("cannot differentiate with respect to ") << what;
  return success();
}

ArrayRef<int64_t> shapeOf(Value v) {
  return cast<RankedTensorType>(v.getType()).getShape();
}
} // namespace

//===----------------------------------------------------------------------===//
// Convolution and dense layers
//===----------------------------------------------------------------------===//

LogicalResult Conv2DOp::buildGradients(OpBuilder &b, ValueRange dys,
                                       ArrayRef<bool> needed,
                                       SmallVectorImpl<Value> &grads) {
  GradBuilder g(b, *this);
  Value dy = dys[0], dx, dw, db;
  // Both gradients take the forward convolution's spatial attributes.
  if (needed[0])
    dx = g.value<Conv2DGradInputOp>(dy, getFilter(), shapeOf(getInput()),
                                    getStrides(), getDilations(), getPadding(),
                                    getPads(), getGroups());
  if (needed[1])
    dw = g.value<Conv2DGradFilterOp>(
        getInput(), dy, shapeOf(getFilter()).take_front(2), getStrides(),
        getDilations(), getPadding(), getPads(), getGroups());
  if (getBias() && needed[2])
    db = g.value<ChannelSumOp>(dy);
  return finish(grads, needed, {dx, dw, db});
}

LogicalResult DenseOp::buildGradients(OpBuilder &b, ValueRange dys,
                                      ArrayRef<bool> needed,
                                      SmallVectorImpl<Value> &grads) {
  GradBuilder g(b, *this);
  Value dy = dys[0], dx, dw, db;
  // y = x W: dx = dy W^T, dW = x^T dy, db = sum over the batch of dy.
  if (needed[0])
    dx = g.value<MatmulOp>(dy, getKernel(), /*transpose_lhs=*/false,
                           /*transpose_rhs=*/true);
  if (needed[1])
    dw = g.value<MatmulOp>(getInput(), dy, /*transpose_lhs=*/true,
                           /*transpose_rhs=*/false);
  if (getBias() && needed[2])
    db = g.value<ChannelSumOp>(dy);
  return finish(grads, needed, {dx, dw, db});
}

LogicalResult BiasAddOp::buildGradients(OpBuilder &b, ValueRange dys,
                                        ArrayRef<bool> needed,
                                        SmallVectorImpl<Value> &grads) {
  GradBuilder g(b, *this);
  Value db = needed[1] ? g.value<ChannelSumOp>(dys[0]) : Value();
  return finish(grads, needed, {dys[0], db});
}

//===----------------------------------------------------------------------===//
// Activations: each uses whichever of input or output it needs.
//===----------------------------------------------------------------------===//

/// The rule of every activation: the input gradient is
/// `GradOpTy(dy, saved, attrs...)`, where `saved` is the forward input or
/// output (whichever the derivative is cheaper from) and `attrs` are the
/// forward op's attributes. The activations differ only in these.
template <typename GradOpTy, typename... Attrs>
static LogicalResult activationRule(OpBuilder &b, Operation *forward,
                                    ValueRange dys, ArrayRef<bool> needed,
                                    SmallVectorImpl<Value> &grads, Value saved,
                                    Attrs &&...attrs) {
  GradBuilder g(b, forward);
  return finish(
      grads, needed,
      {g.value<GradOpTy>(dys[0], saved, std::forward<Attrs>(attrs)...)});
}

LogicalResult ReluOp::buildGradients(OpBuilder &b, ValueRange dys,
                                     ArrayRef<bool> needed,
                                     SmallVectorImpl<Value> &grads) {
  return activationRule<ReluGradOp>(b, *this, dys, needed, grads, getOutput());
}

LogicalResult LeakyReluOp::buildGradients(OpBuilder &b, ValueRange dys,
                                          ArrayRef<bool> needed,
                                          SmallVectorImpl<Value> &grads) {
  return activationRule<LeakyReluGradOp>(b, *this, dys, needed, grads,
                                         getInput(), getAlpha());
}

LogicalResult SigmoidOp::buildGradients(OpBuilder &b, ValueRange dys,
                                        ArrayRef<bool> needed,
                                        SmallVectorImpl<Value> &grads) {
  return activationRule<SigmoidGradOp>(b, *this, dys, needed, grads,
                                       getOutput());
}

LogicalResult TanhOp::buildGradients(OpBuilder &b, ValueRange dys,
                                     ArrayRef<bool> needed,
                                     SmallVectorImpl<Value> &grads) {
  return activationRule<TanhGradOp>(b, *this, dys, needed, grads, getOutput());
}

LogicalResult SoftmaxOp::buildGradients(OpBuilder &b, ValueRange dys,
                                        ArrayRef<bool> needed,
                                        SmallVectorImpl<Value> &grads) {
  return activationRule<SoftmaxGradOp>(b, *this, dys, needed, grads,
                                       getOutput(), getAxis());
}

//===----------------------------------------------------------------------===//
// Pooling and reshaping
//===----------------------------------------------------------------------===//

LogicalResult MaxPool2DOp::buildGradients(OpBuilder &b, ValueRange dys,
                                          ArrayRef<bool> needed,
                                          SmallVectorImpl<Value> &grads) {
  GradBuilder g(b, *this);
  return finish(
      grads, needed,
      {g.value<MaxPool2DGradOp>(dys[0], getInput(), getPoolSize(), getStrides(),
                                getPadding(), getPads())});
}

LogicalResult AvgPool2DOp::buildGradients(OpBuilder &b, ValueRange dys,
                                          ArrayRef<bool> needed,
                                          SmallVectorImpl<Value> &grads) {
  GradBuilder g(b, *this);
  return finish(
      grads, needed,
      {g.value<AvgPool2DGradOp>(dys[0], shapeOf(getInput()), getPoolSize(),
                                getStrides(), getPadding(), getPads())});
}

LogicalResult GlobalAvgPoolOp::buildGradients(OpBuilder &b, ValueRange dys,
                                              ArrayRef<bool> needed,
                                              SmallVectorImpl<Value> &grads) {
  GradBuilder g(b, *this);
  return finish(grads, needed,
                {g.value<GlobalAvgPoolGradOp>(dys[0], shapeOf(getInput()))});
}

/// Flatten and reshape: the gradient takes the input's shape back.
static Value reshapeBack(GradBuilder &g, Value dy, Value input) {
  return g.value<ReshapeOp>(dy, shapeOf(input));
}

LogicalResult FlattenOp::buildGradients(OpBuilder &b, ValueRange dys,
                                        ArrayRef<bool> needed,
                                        SmallVectorImpl<Value> &grads) {
  GradBuilder g(b, *this);
  return finish(grads, needed, {reshapeBack(g, dys[0], getInput())});
}

LogicalResult ReshapeOp::buildGradients(OpBuilder &b, ValueRange dys,
                                        ArrayRef<bool> needed,
                                        SmallVectorImpl<Value> &grads) {
  GradBuilder g(b, *this);
  return finish(grads, needed, {reshapeBack(g, dys[0], getInput())});
}

//===----------------------------------------------------------------------===//
// Merging
//===----------------------------------------------------------------------===//

LogicalResult AddOp::buildGradients(OpBuilder &b, ValueRange dys,
                                    ArrayRef<bool> needed,
                                    SmallVectorImpl<Value> &grads) {
  return finish(grads, needed, {dys[0], dys[0]});
}

LogicalResult ConcatOp::buildGradients(OpBuilder &b, ValueRange dys,
                                       ArrayRef<bool> needed,
                                       SmallVectorImpl<Value> &grads) {
  // Each input's gradient is its slice of the output gradient.
  int64_t rank = shapeOf(getOutput()).size();
  int64_t axis = static_cast<int64_t>(getAxis()); // I64Attr reads unsigned.
  if (axis < 0)
    axis += rank;
  SmallVector<Value> slices;
  int64_t offset = 0;
  for (auto [i, input] : llvm::enumerate(getInputs())) {
    SmallVector<int64_t> shape(shapeOf(input));
    if (needed[i]) {
      SmallVector<OpFoldResult> offsets(rank, b.getIndexAttr(0)),
          sizes = getAsIndexOpFoldResult(getContext(), shape),
          strides(rank, b.getIndexAttr(1));
      offsets[axis] = b.getIndexAttr(offset);
      slices.push_back(tensor::ExtractSliceOp::create(b, getLoc(), dys[0],
                                                      offsets, sizes, strides));
    } else {
      slices.push_back(Value());
    }
    offset += shape[axis];
  }
  return finish(grads, needed, slices);
}

//===----------------------------------------------------------------------===//
// Regularization, normalization, augmentation
//===----------------------------------------------------------------------===//

/// The rule of a randomized layer that, for a given key, is linear and its
/// own transpose (dropout, random_flip): the gradient applies the same op,
/// with the same key and attributes, to dy. Keyless (inference), the layer
/// is the identity, and so is its gradient. The key itself is not
/// differentiable (`keyName` names it in the error).
template <typename OpTy, typename... Attrs>
static LogicalResult reapplyRule(OpTy op, OpBuilder &b, ValueRange dys,
                                 ArrayRef<bool> needed,
                                 SmallVectorImpl<Value> &grads,
                                 StringRef keyName, Attrs &&...attrs) {
  if (failed(refuse(op, needed, {1}, keyName)))
    return failure();
  if (!op.getKey())
    return finish(grads, needed, {dys[0]});
  GradBuilder g(b, op);
  return finish(
      grads, needed,
      {g.value<OpTy>(dys[0], op.getKey(), std::forward<Attrs>(attrs)...)});
}

LogicalResult DropoutOp::buildGradients(OpBuilder &b, ValueRange dys,
                                        ArrayRef<bool> needed,
                                        SmallVectorImpl<Value> &grads) {
  // Inverted dropout is linear with a mask that is a pure function of
  // (key, stream, index): applying it again to dy is the exact gradient.
  return reapplyRule(*this, b, dys, needed, grads, "the dropout key", getRate(),
                     getStream());
}

LogicalResult BatchNormOp::buildGradients(OpBuilder &b, ValueRange dys,
                                          ArrayRef<bool> needed,
                                          SmallVectorImpl<Value> &grads) {
  return emitOpError("is the inference form; the train step differentiates "
                     "dlc.batch_norm_train");
}

LogicalResult BatchNormTrainOp::buildGradients(OpBuilder &b, ValueRange dys,
                                               ArrayRef<bool> needed,
                                               SmallVectorImpl<Value> &grads) {
  if (llvm::any_of(dys.drop_front(), [](Value v) { return bool(v); }))
    return emitOpError("cannot differentiate through its batch or running "
                       "statistics results");
  if (failed(refuse(*this, needed, {3, 4}, "the running statistics")))
    return failure();
  GradBuilder g(b, *this);
  BatchNormGradOp grad =
      g.op<BatchNormGradOp>(dys[0], getInput(), getGamma(), getBatchMean(),
                            getBatchVariance(), getEpsilon());
  if (!grad)
    return failure();
  return finish(grads, needed,
                {grad.getInputGrad(), grad.getGammaGrad(), grad.getBetaGrad()});
}

LogicalResult RandomFlipOp::buildGradients(OpBuilder &b, ValueRange dys,
                                           ArrayRef<bool> needed,
                                           SmallVectorImpl<Value> &grads) {
  // A flip is its own inverse and the per-image draws depend only on
  // (key, stream, image): flipping dy the same way is the gradient.
  return reapplyRule(*this, b, dys, needed, grads, "the flip key", getMode(),
                     getStream());
}

//===----------------------------------------------------------------------===//
// Losses: differentiable in the predictions only.
//===----------------------------------------------------------------------===//

/// The rule of every loss: differentiable in its predictions (operand 0)
/// only, with gradient `GradOpTy(predictions, targets, dloss, attrs...)`.
/// `targetsName` names operand 1 in the error when its gradient is asked.
template <typename GradOpTy, typename... Attrs>
static LogicalResult
lossRule(OpBuilder &b, Operation *loss, ValueRange dys, ArrayRef<bool> needed,
         SmallVectorImpl<Value> &grads, StringRef targetsName,
         Value predictions, Value targets, Attrs &&...attrs) {
  if (failed(refuse(loss, needed, {1}, targetsName)))
    return failure();
  GradBuilder g(b, loss);
  return finish(grads, needed,
                {g.value<GradOpTy>(predictions, targets, dys[0],
                                   std::forward<Attrs>(attrs)...)});
}

LogicalResult
SoftmaxCrossEntropyOp::buildGradients(OpBuilder &b, ValueRange dys,
                                      ArrayRef<bool> needed,
                                      SmallVectorImpl<Value> &grads) {
  return lossRule<SoftmaxCrossEntropyGradOp>(
      b, *this, dys, needed, grads, "integer labels", getLogits(), getLabels());
}

LogicalResult MseOp::buildGradients(OpBuilder &b, ValueRange dys,
                                    ArrayRef<bool> needed,
                                    SmallVectorImpl<Value> &grads) {
  return lossRule<MseGradOp>(b, *this, dys, needed, grads, "the targets",
                             getPredictions(), getTargets());
}

LogicalResult
BinaryCrossEntropyOp::buildGradients(OpBuilder &b, ValueRange dys,
                                     ArrayRef<bool> needed,
                                     SmallVectorImpl<Value> &grads) {
  return lossRule<BinaryCrossEntropyGradOp>(b, *this, dys, needed, grads,
                                            "the targets", getPredictions(),
                                            getTargets(), getFromLogits());
}
