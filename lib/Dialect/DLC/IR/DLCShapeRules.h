//===- DLCShapeRules.h - Shape-rule helpers of the dlc ops ------*- C++ -*-===//
//
// Private to lib/Dialect/DLC/IR. The shape rules of the layer ops
// (DLCOps.cpp), their gradients (DLCGradientOps.cpp) and the fused ops
// (DLCFusedOps.cpp) share these checks, so that a fused or gradient op
// reports a bad operand in the same words as the layer op it stands for.
// They are defined in DLCOps.cpp (templates here).
//
// The checks report through an OpDiag: diagnostics are emitted only when
// the rule runs with a location (the verifier); a builder probing a shape
// stays silent. (checkAlpha, used by verifiers only, reports on the op.)
//
//===----------------------------------------------------------------------===//

#ifndef DLC_LIB_DIALECT_DLC_IR_DLCSHAPERULES_H
#define DLC_LIB_DIALECT_DLC_IR_DLCSHAPERULES_H

#include "dlc/Dialect/DLC/IR/DLCOps.h"

#include "mlir/IR/Diagnostics.h"
#include "llvm/ADT/STLExtras.h"

#include <optional>
#include <string>

namespace mlir::dlc::detail {

/// Emits "'dlc.op' op ..." errors at an optional location. Without a location
/// (a builder probing for a type) every diagnostic is dropped.
class OpDiag {
public:
  OpDiag(std::optional<Location> loc, StringRef opName)
      : loc(loc), opName(opName) {}

  InFlightDiagnostic operator()() const {
    if (!loc)
      return InFlightDiagnostic();
    return mlir::emitError(*loc) << "'" << opName << "' op ";
  }

private:
  std::optional<Location> loc;
  StringRef opName;
};

/// Prints a shape the way MLIR prints tensor types: 8x28x28x1.
std::string formatShape(ArrayRef<int64_t> shape);

/// Prints an integer list as [a, b, c].
std::string formatList(ArrayRef<int64_t> values);

/// The ranked type of `v`, or null. Ops are only verified after their ODS
/// type constraints hold, but builders may probe with anything.
RankedTensorType rankedOf(Value v, int64_t rank = -1);

LogicalResult checkPositive(const OpDiag &diag, StringRef name,
                            ArrayRef<int64_t> values);

/// Checks a per-channel vector operand against the channel count.
LogicalResult checkChannelVector(const OpDiag &diag, StringRef name, Value v,
                                 int64_t channels, StringRef what);

/// Resolves the [top, bottom, left, right] padding of a window op.
SmallVector<int64_t, 4>
resolvePads(RankedTensorType input, ArrayRef<int64_t> kernel,
            ArrayRef<int64_t> strides, ArrayRef<int64_t> dilations,
            PaddingMode mode, ArrayRef<int64_t> explicitPads);

LogicalResult checkAxis(const OpDiag &diag, int64_t axis, int64_t rank,
                        StringRef what);

/// Keras rejects negative slopes; so does dlc, forward and backward.
LogicalResult checkAlpha(Operation *op, APFloat alphaAttr);

/// Checks a (predictions, targets) loss pair of one shape.
LogicalResult inferElementwiseLoss(const OpDiag &diag, MLIRContext *ctx,
                                   Value predictions, Value targets,
                                   SmallVectorImpl<Type> &types);

/// Checks a (logits [N, K], labels [N]) pair of a classification op.
LogicalResult checkLogitsAndLabels(const OpDiag &diag, Value logits,
                                   Value labels);

/// Checks that `forward` (the result a forward op would have) matches the
/// given output gradient.
LogicalResult checkOutputGrad(const OpDiag &diag, Type forward,
                              Value outputGrad);

/// The convolution rule on types, shared by conv2d, its two gradients and
/// conv2d_bn_stats. `bias` may be null.
LogicalResult inferConv2D(const OpDiag &diag, RankedTensorType input,
                          RankedTensorType filter, RankedTensorType bias,
                          ArrayRef<int64_t> strides,
                          ArrayRef<int64_t> dilations, PaddingMode mode,
                          ArrayRef<int64_t> pads, int64_t groups,
                          SmallVectorImpl<Type> &types);

/// The pooling rule on types, shared by both poolings and their gradients.
LogicalResult inferPool2DOn(const OpDiag &diag, RankedTensorType input,
                            ArrayRef<int64_t> poolSize,
                            ArrayRef<int64_t> strides, PaddingMode mode,
                            ArrayRef<int64_t> pads,
                            SmallVectorImpl<Type> &types);

/// An adaptor's `pads`; [0, 0, 0, 0] when a C++ builder left the
/// default-valued attribute unset (inference runs before defaults are
/// filled in).
template <typename Adaptor> ArrayRef<int64_t> getPadsOrZeros(Adaptor adaptor) {
  static constexpr int64_t kZeros[] = {0, 0, 0, 0};
  if (auto attr = adaptor.getPadsAttr())
    return attr.asArrayRef();
  return kZeros;
}

template <typename Adaptor>
LogicalResult inferPool2D(const OpDiag &diag, Adaptor adaptor,
                          SmallVectorImpl<Type> &types) {
  return inferPool2DOn(diag, rankedOf(adaptor.getInput()),
                       adaptor.getPoolSize(), adaptor.getStrides(),
                       adaptor.getPadding(), getPadsOrZeros(adaptor), types);
}

/// Shared by every form of batch normalization: checks the per-channel
/// operands and epsilon, returns the channel count.
template <typename Adaptor>
FailureOr<int64_t> checkBatchNorm(const OpDiag &diag, Adaptor adaptor,
                                  ValueRange vectors,
                                  ArrayRef<StringRef> names) {
  RankedTensorType input = rankedOf(adaptor.getInput());
  if (!input || input.getRank() < 2)
    return diag() << "input must have a batch and a channel dimension";
  float epsilon = adaptor.getEpsilon().convertToFloat();
  if (!(epsilon > 0.0f))
    return diag() << "epsilon must be positive, got " << epsilon;
  int64_t channels = input.getShape().back();
  for (auto [v, name] : llvm::zip(vectors, names))
    if (failed(checkChannelVector(diag, name, v, channels, "channels")))
      return failure();
  return channels;
}

} // namespace mlir::dlc::detail

#endif // DLC_LIB_DIALECT_DLC_IR_DLCSHAPERULES_H
