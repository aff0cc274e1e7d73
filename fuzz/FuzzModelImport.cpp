//===- FuzzModelImport.cpp - libFuzzer target: model files ----------------===//
//
// Imports the input as a model file (dlc YAML or Keras JSON; the importer
// tells them apart by content), also with the runtime's limits on. The
// contract: a module that verifies and no error, or no module and an
// error. Anything else (a crash, a sanitizer report, an import that fails
// silently or succeeds with an error) aborts.
//
//===----------------------------------------------------------------------===//

#include "dlc/Import/Import.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"

#include <cstdio>
#include <cstdlib>

using namespace mlir;

static void importOnce(llvm::StringRef text, bool forRuntime) {
  // One context for the process: creating one per input would dominate.
  static MLIRContext *context = [] {
    DialectRegistry registry;
    dlc::registerImportDialects(registry);
    auto *c = new MLIRContext(registry);
    c->printOpOnDiagnostic(false);
    return c;
  }();
  llvm::SourceMgr sourceMgr;
  sourceMgr.AddNewSourceBuffer(
      llvm::MemoryBuffer::getMemBufferCopy(text, "fuzz.yaml"), llvm::SMLoc());
  int errors = 0;
  ScopedDiagnosticHandler handler(context, [&](Diagnostic &diag) {
    if (diag.getSeverity() == DiagnosticSeverity::Error)
      ++errors;
    return success();
  });
  dlc::ImportOptions options;
  options.forRuntime = forRuntime;
  OwningOpRef<ModuleOp> module = dlc::importModel(sourceMgr, context, options);
  if (!module && errors == 0) {
    std::fprintf(stderr, "import failed without an error\n");
    std::abort();
  }
  if (module && (errors != 0 || failed(verify(*module)))) {
    std::fprintf(stderr, "import succeeded with an error or invalid IR\n");
    std::abort();
  }
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  llvm::StringRef text(reinterpret_cast<const char *>(data), size);
  importOnce(text, /*forRuntime=*/false);
  importOnce(text, /*forRuntime=*/true);
  return 0;
}
