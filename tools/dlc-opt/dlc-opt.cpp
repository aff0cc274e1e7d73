//===- dlc-opt.cpp - Run any pass pipeline over dlc IR --------------------===//
//
// mlir-opt with the dlc dialect and passes, plus every upstream dialect and
// pass the later stages use, so a whole pipeline can be replayed and tested.
//
//===----------------------------------------------------------------------===//

#include "dlc/InitAll.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  mlir::dlc::registerAllDLCDialects(registry);
  mlir::dlc::registerAllDLCPasses();
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "dlc optimizer driver\n", registry));
}
