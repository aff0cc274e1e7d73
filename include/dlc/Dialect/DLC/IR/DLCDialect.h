//===- DLCDialect.h - The dlc dialect ---------------------------*- C++ -*-===//
//
// Declares the dlc dialect class, its enums and attributes.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_DIALECT_DLC_IR_DLCDIALECT_H
#define DLC_DIALECT_DLC_IR_DLCDIALECT_H

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Dialect.h"

#include "dlc/Dialect/DLC/IR/DLCDialect.h.inc"
#include "dlc/Dialect/DLC/IR/DLCEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "dlc/Dialect/DLC/IR/DLCAttrs.h.inc"

#endif // DLC_DIALECT_DLC_IR_DLCDIALECT_H
