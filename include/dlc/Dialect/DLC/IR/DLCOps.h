//===- DLCOps.h - dlc operations and shape rules ----------------*- C++ -*-===//
//
// Declares the dlc operations and the Keras/TensorFlow spatial shape rules
// they share with the importer and the lowerings.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_DIALECT_DLC_IR_DLCOPS_H
#define DLC_DIALECT_DLC_IR_DLCOPS_H

#include "dlc/Dialect/DLC/IR/DLCDialect.h"
#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

namespace mlir::dlc {

/// Spatial extent of a window of size `kernel` dilated by `dilation`.
inline int64_t effectiveKernelSize(int64_t kernel, int64_t dilation) {
  return (kernel - 1) * dilation + 1;
}

/// Output size of one spatial dimension of a convolution or pooling window,
/// or a value <= 0 when the window does not fit. `padBefore`/`padAfter` are
/// used only for PaddingMode::explicit.
int64_t computeWindowOutputSize(int64_t input, int64_t kernel, int64_t stride,
                                int64_t dilation, PaddingMode mode,
                                int64_t padBefore = 0, int64_t padAfter = 0);

/// TensorFlow's `same` padding of one dimension as {before, after}: the total
/// pad is max((out - 1) * stride + effective kernel - in, 0) and the odd
/// element goes after.
std::pair<int64_t, int64_t> computeSamePadding(int64_t input, int64_t kernel,
                                               int64_t stride,
                                               int64_t dilation);

/// Creates the operation described by `state` (name, operands, attributes;
/// no result types) with its result types inferred by its shape rule. When
/// the operands and attributes are invalid, the shape rule's error is emitted
/// at `state.location` and nothing is created. This is the safe way to build
/// ops from user input: the generated inferring builders abort instead.
FailureOr<Operation *> createWithInferredTypes(OpBuilder &builder,
                                               OperationState &state);

/// The typed form of createWithInferredTypes: creates an `OpTy` at `loc`
/// from the arguments of its generated builder, less the result types
/// (operands, then attributes as values or attributes), e.g.
///   createWithInferredTypes<MatmulOp>(b, loc, dy, w, /*transposeLhs=*/false,
///                                     /*transposeRhs=*/true);
/// A misspelt or mistyped attribute is a compile error. As with the untyped
/// form, invalid operands or attributes emit the shape rule's error at `loc`
/// and create nothing, where `OpTy::create` without result types would abort.
template <typename OpTy, typename... Args>
FailureOr<OpTy> createWithInferredTypes(OpBuilder &builder, Location loc,
                                        Args &&...args) {
  OperationState state(loc, OpTy::getOperationName());
  OpTy::build(builder, state, TypeRange(), std::forward<Args>(args)...);
  SmallVector<Type> types;
  if (failed(OpTy::inferReturnTypes(
          builder.getContext(), loc, state.operands,
          state.attributes.getDictionary(builder.getContext()),
          state.getRawProperties(), state.regions, types)))
    return failure();
  state.addTypes(types);
  return cast<OpTy>(builder.create(state));
}

namespace detail {
/// Fails, with "result #i has type X but the shape rule gives Y", unless the
/// result types of `op` are `inferred`.
LogicalResult verifyResultTypesMatch(Operation *op, ArrayRef<Type> inferred);
} // namespace detail

/// The verifier of every op with a C++ shape rule (DLC_ShapedOp in
/// DLCOps.td): runs the rule with diagnostics on, then compares the declared
/// result types with the inferred ones. One trait instead of a `verify()`
/// per op; the InferTypeOpInterface verifier, which runs later, would only
/// say "failed to infer".
template <typename ConcreteType>
class ShapeRuleVerified
    : public OpTrait::TraitBase<ConcreteType, ShapeRuleVerified> {
public:
  static LogicalResult verifyTrait(Operation *op) {
    SmallVector<Type> types;
    if (failed(ConcreteType::inferReturnTypes(
            op->getContext(), op->getLoc(),
            typename ConcreteType::Adaptor(cast<ConcreteType>(op)), types)))
      return failure();
    return detail::verifyResultTypesMatch(op, types);
  }
};

} // namespace mlir::dlc

#include "dlc/Dialect/DLC/IR/DLCInterfaces.h.inc"

#define GET_OP_CLASSES
#include "dlc/Dialect/DLC/IR/DLCOps.h.inc"

#endif // DLC_DIALECT_DLC_IR_DLCOPS_H
