//===- RuntimeMain.cpp - `main` of compiled training executables ----------===//
//
// Built into its own library (DLCRuntimeMain) so that tests and other
// programs can link DLCRuntime without getting a `main`. The model object
// linked next to it defines `dlc_model`.
//
//===----------------------------------------------------------------------===//

#include "dlc/Runtime/Runtime.h"

int main(int argc, char **argv) {
  return dlcRuntimeMain(argc, argv, dlc_model);
}
