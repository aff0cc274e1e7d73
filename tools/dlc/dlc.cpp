//===- dlc.cpp - The dlc compiler driver ----------------------------------===//
//
// `dlc <subcommand> ...`, one llvm::cl subcommand per user task:
//
//   dlc compile MODEL --emit=mlir [-o FILE] [--batch-size=N]
//
// `compile` imports a model file (dlc YAML or Keras JSON) and prints the
// stage `--emit` names. Each stage of the pipeline becomes one more `--emit`
// value, lowered by one function (lowerToStage); `dlc train` becomes one
// more subcommand reusing the same import.
//
//===----------------------------------------------------------------------===//

#include "dlc/Import/Import.h"
#include "dlc/InitAll.h"

#include "mlir/IR/AsmState.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
namespace cl = llvm::cl;

//===----------------------------------------------------------------------===//
// dlc compile
//===----------------------------------------------------------------------===//

static cl::OptionCategory compileCategory("dlc compile options");

static cl::SubCommand compileCommand("compile",
                                     "Compile a model file (YAML or Keras "
                                     "JSON)");

namespace {
/// The stages `dlc compile --emit` can print, in pipeline order.
enum class Stage {
  /// The imported model: func.func @forward in the dlc dialect.
  DLC,
};
} // namespace

static cl::opt<std::string> modelFile(cl::Positional, cl::Required,
                                      cl::desc("<model.yaml|model.json>"),
                                      cl::sub(compileCommand),
                                      cl::cat(compileCategory));

static cl::opt<Stage>
    emitStage("emit", cl::desc("The stage to print"), cl::init(Stage::DLC),
              cl::values(clEnumValN(Stage::DLC, "mlir",
                                    "the imported model in the dlc dialect "
                                    "(func.func @forward)")),
              cl::sub(compileCommand), cl::cat(compileCategory));

static cl::opt<std::string> outputFile("o", cl::desc("Output file"),
                                       cl::value_desc("filename"),
                                       cl::init("-"), cl::sub(compileCommand),
                                       cl::cat(compileCategory));

static cl::opt<int64_t>
    batchSize("batch-size",
              cl::desc("Batch size to compile for (default: the model "
                       "file's batch_size, else 32)"),
              cl::value_desc("n"), cl::init(0), cl::sub(compileCommand),
              cl::cat(compileCategory));

/// Lowers the imported `module` to `stage`. The imported IR is the only
/// stage so far; the pipelines of later stages are added here, in order.
static LogicalResult lowerToStage(ModuleOp module, Stage stage) {
  switch (stage) {
  case Stage::DLC:
    return success();
  }
  llvm_unreachable("unknown stage");
}

static int runCompile() {
  if (batchSize.getNumOccurrences() && (batchSize < 1 || batchSize > 65536)) {
    llvm::errs() << "dlc: error: --batch-size must be in [1, 65536], got "
                 << batchSize << "\n";
    return 1;
  }
  std::string errorMessage;
  std::unique_ptr<llvm::MemoryBuffer> input =
      openInputFile(modelFile, &errorMessage);
  if (!input) {
    llvm::errs() << "dlc: error: " << errorMessage << "\n";
    return 1;
  }
  llvm::SourceMgr sourceMgr;
  sourceMgr.AddNewSourceBuffer(std::move(input), llvm::SMLoc());

  DialectRegistry registry;
  mlir::dlc::registerAllDLCDialects(registry);
  MLIRContext context(registry);
  // Errors name file:line:col and show the line of the model file.
  SourceMgrDiagnosticHandler diagnostics(sourceMgr, &context);

  mlir::dlc::ImportOptions options;
  if (batchSize.getNumOccurrences())
    options.batchSize = batchSize;
  OwningOpRef<ModuleOp> module =
      mlir::dlc::importModel(sourceMgr, &context, options);
  if (!module || failed(lowerToStage(*module, emitStage)))
    return 1;

  std::unique_ptr<llvm::ToolOutputFile> output =
      openOutputFile(outputFile, &errorMessage);
  if (!output) {
    llvm::errs() << "dlc: error: " << errorMessage << "\n";
    return 1;
  }
  module->print(output->os());
  output->os() << "\n";
  output->keep();
  return 0;
}

//===----------------------------------------------------------------------===//
// main
//===----------------------------------------------------------------------===//

/// MLIR registers its printing options (--mlir-print-debuginfo, ...) in the
/// top-level command, which a subcommand's command line cannot reach; make
/// them options of every subcommand.
static void shareMLIROptionsWithSubcommands() {
  SmallVector<cl::Option *> options;
  for (auto &entry : cl::getRegisteredOptions(cl::SubCommand::getTopLevel()))
    if (entry.first.starts_with("mlir-") &&
        !llvm::is_contained(options, entry.second))
      options.push_back(entry.second);
  for (cl::Option *option : options) {
    option->removeArgument();
    option->Subs.clear();
    option->addSubCommand(cl::SubCommand::getAll());
    option->addArgument();
  }
}

int main(int argc, char **argv) {
  llvm::InitLLVM initLLVM(argc, argv);
  registerAsmPrinterCLOptions();
  registerMLIRContextCLOptions();
  shareMLIROptionsWithSubcommands();
  cl::ParseCommandLineOptions(
      argc, argv,
      "dlc: a deep-learning compiler for training convolutional networks\n\n"
      "  dlc compile MODEL --emit=mlir [-o FILE]\n");
  if (compileCommand)
    return runCompile();
  llvm::errs() << "dlc: error: expected a subcommand, e.g. `dlc compile "
                  "model.yaml --emit=mlir` (see dlc --help)\n";
  return 1;
}
