//===- Passes.h - Passes every dlc target shares ----------------*- C++ -*-===//
//
// Declares the target-independent host passes (see Passes.td).
//
//===----------------------------------------------------------------------===//

#ifndef DLC_TARGET_PASSES_H
#define DLC_TARGET_PASSES_H

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace mlir::dlc {

#define GEN_PASS_DECL
#include "dlc/Target/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "dlc/Target/Passes.h.inc"

} // namespace mlir::dlc

#endif // DLC_TARGET_PASSES_H
