//===- DLCInterfaces.td - dlc op interfaces ----------------*- tablegen -*-===//
//
// The differentiation interface: each differentiable op builds the ops that
// compute its operands' gradients from its results' gradients. The rules
// live together in lib/Dialect/DLC/IR/DLCGradients.cpp, one per op.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_DIALECT_DLC_IR_DLCINTERFACES_TD
#define DLC_DIALECT_DLC_IR_DLCINTERFACES_TD

include "mlir/IR/OpBase.td"

def DLC_DifferentiableOpInterface : OpInterface<"DifferentiableOpInterface"> {
  let cppNamespace = "::mlir::dlc";
  let description = [{
    An op that knows its reverse-mode derivative (vector-Jacobian product).
    `dlc-build-train-step` walks the forward ops in reverse and calls
    `buildGradients` on each op that lies between a trainable parameter and
    the loss.
  }];
  let methods = [
    InterfaceMethod<[{
        Builds, at the builder's insertion point, the gradient of the loss
        with respect to each operand `i` for which `needed[i]` is true, and
        stores it in `operandGrads[i]` (null where not needed or where the
        operand is not differentiable, e.g. integer labels or keys).
        `resultGrads` has one entry per result; a null entry means that
        result does not reach the loss (its gradient is zero). At least one
        entry is non-null. Fails with a diagnostic when the op cannot be
        differentiated in its current form.
      }],
      "::llvm::LogicalResult", "buildGradients",
      (ins "::mlir::OpBuilder &":$builder,
           "::mlir::ValueRange":$resultGrads,
           "::llvm::ArrayRef<bool>":$needed,
           "::llvm::SmallVectorImpl<::mlir::Value> &":$operandGrads)>
  ];
}

#endif // DLC_DIALECT_DLC_IR_DLCINTERFACES_TD
