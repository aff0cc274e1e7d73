//===- Passes.h - dlc CPU code generation passes ----------------*- C++ -*-===//
//
// Declares the CPU-specific passes (see Passes.td) and their registration.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_TARGET_CPU_PASSES_H
#define DLC_TARGET_CPU_PASSES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace mlir::dlc {

#define GEN_PASS_DECL
#include "dlc/Target/CPU/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "dlc/Target/CPU/Passes.h.inc"

} // namespace mlir::dlc

#endif // DLC_TARGET_CPU_PASSES_H
