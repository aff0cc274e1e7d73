//===- Runtime.h - Entry point of training executables ----------*- C++ -*-===//
//
// An executable made by `dlc compile` is the compiled model object, the
// DLCRuntime library and a `main` that hands the model's table to
// dlcRuntimeMain. DLCRuntimeMain (lib/Runtime/RuntimeMain.cpp) provides
// that `main`:
//
//   int main(int argc, char **argv) {
//     return dlcRuntimeMain(argc, argv, dlc_model);
//   }
//
// Subcommands: train, evaluate, predict, info (see docs/Runtime.md).
// Exit status: 0 success, 1 error, 2 bad command line, 3 training stopped
// on a NaN or infinite loss, 130 interrupted by Ctrl-C (checkpoint saved).
//
//===----------------------------------------------------------------------===//

#ifndef DLC_RUNTIME_RUNTIME_H
#define DLC_RUNTIME_RUNTIME_H

#include "dlc/Runtime/ModelABI.h"

#ifdef __cplusplus
#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/raw_ostream.h"

#include <string>

/// Runs the executable's command line against `model`.
int dlcRuntimeMain(int argc, char **argv, const dlc_model_info &model);

namespace dlc::runtime {

/// Exit statuses of dlcRuntimeMain.
enum ExitCode : int {
  ExitSuccess = 0,
  ExitError = 1,
  ExitUsage = 2,
  ExitDiverged = 3,
  ExitInterrupted = 130,
};

/// dlcRuntimeMain with explicit streams, for tests: `args` excludes the
/// program name, which is `program`. With `terminal` false the progress
/// bar defaults to plain lines.
int runMain(llvm::StringRef program, llvm::ArrayRef<std::string> args,
            const dlc_model_info &model, llvm::raw_ostream &out,
            llvm::raw_ostream &err, bool terminal);

} // namespace dlc::runtime

extern "C" {
#endif

/// The same entry point for callers that are not C++ (e.g. a `main`
/// emitted by the compiler as LLVM IR).
int dlc_runtime_main(int argc, char **argv, const dlc_model_info *model);

#ifdef __cplusplus
}
#endif

#endif // DLC_RUNTIME_RUNTIME_H
