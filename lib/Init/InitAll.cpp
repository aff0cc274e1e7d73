//===- InitAll.cpp - Register everything dlc tools need -------------------===//
//
// Upstream registration uses MLIR's own InitAll helpers: dlc-opt must accept
// any IR and pass that mlir-opt accepts, since every stage of dlc's pipeline
// is upstream IR after convert-dlc-to-linalg.
//
//===----------------------------------------------------------------------===//

#include "dlc/InitAll.h"
#include "dlc/Compiler/Compiler.h"
#include "dlc/Conversion/Passes.h"
#include "dlc/Dialect/DLC/IR/DLCDialect.h"
#include "dlc/Dialect/DLC/Transforms/Passes.h"
#include "dlc/Target/CPU/CPUTarget.h"
#include "dlc/Target/CPU/Passes.h"
#include "dlc/Target/CUDA/CUDATarget.h"
#include "dlc/Target/CUDA/Passes.h"
#include "dlc/Target/Passes.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"

void mlir::dlc::registerAllDLCDialects(mlir::DialectRegistry &registry) {
  registry.insert<mlir::dlc::DLCDialect>();
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  mlir::dlc::registerCUDATargetInterfaces(registry);
}

void mlir::dlc::registerAllDLCPasses() {
  mlir::registerAllPasses();
  mlir::dlc::registerDLCPasses();
  mlir::dlc::registerOptimizeStepsPipeline();
  mlir::dlc::registerDLCConversionPasses();
  mlir::dlc::registerCompilerPipelines();
  mlir::dlc::registerDLCTargetPasses();
  mlir::dlc::registerDLCCPUPasses();
  mlir::dlc::registerCPUPipelines();
  mlir::dlc::registerDLCCUDAPasses();
  mlir::dlc::registerCUDAPipelines();
}
