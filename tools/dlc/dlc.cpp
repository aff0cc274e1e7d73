//===- dlc.cpp - The dlc compiler driver ----------------------------------===//
//
// `dlc <subcommand> ...`, one llvm::cl subcommand per user task:
//
//   dlc compile MODEL [-o EXE]                  a standalone training program
//   dlc compile MODEL --emit=STAGE [-o FILE]    any stage of the pipeline
//   dlc train MODEL [program flags...]          compile, then run `train`
//
// Each stage is one call of the compiler library (dlc/Compiler/Compiler.h),
// in pipeline order: import (dlc @forward), buildSteps (@train_step,
// @eval_step, @predict, fusions), lowerToLinalg, lowerForTarget (the
// --target's pipeline, which ends with the runtime's model table), then the
// target's own stages (for cpu: LLVM IR, an object file) and finally an
// executable: the target's objects linked with its runtime by the system
// C++ compiler driver. `dlc train` cannot run the model in this process (the
// runtime links LLVM's static Support library, dlc the shared libLLVM), so
// it builds the executable in a temporary directory and runs it.
//
//===----------------------------------------------------------------------===//

#include "ModelDiagnostics.h"

#include "dlc/Compiler/Compiler.h"
#include "dlc/Export/OnnxExport.h"
#include "dlc/Export/WeightsExport.h"
#include "dlc/Import/Import.h"
#include "dlc/InitAll.h"
#include "dlc/Runtime/Summary.h"
#include "dlc/Target/CPU/CPUTarget.h"
#include "dlc/Target/CUDA/CUDATarget.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/Config/llvm-config.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Module.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/ConvertUTF.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FileUtilities.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>
#include <unistd.h> // environ

using namespace mlir;
namespace cl = llvm::cl;

//===----------------------------------------------------------------------===//
// Command line
//===----------------------------------------------------------------------===//

static cl::OptionCategory compileCategory("dlc compile options");

static cl::SubCommand compileCommand("compile",
                                     "Compile a model file (YAML, Keras "
                                     "JSON or ONNX)");
static cl::SubCommand
    exportCommand("export",
                  "Write a model with trained weights as ONNX, for "
                  "inference (NCHW; see docs/Import.md), or its weights for "
                  "Keras 3 or PyTorch (see docs/Runtime.md)");
static cl::SubCommand
    summaryCommand("summary",
                   "Print the model's layers, output shapes, parameters, FLOPs "
                   "and the bytes kept for the backward pass (like Keras's "
                   "model.summary())");
static cl::SubCommand
    trainCommand("train",
                 "Compile a model file and train it (the flags after the model "
                 "go to the program's `train` command; see docs/Runtime.md)");

namespace {
/// The stages `dlc compile --emit` can produce, in pipeline order.
enum class Stage {
  /// The imported model: func.func @forward in the dlc dialect.
  DLC,
  /// After dlc-build-train-step: @train_step, @eval_step, @predict.
  Train,
  /// linalg on tensors.
  Linalg,
  /// A stage of the target (Target::getEmitStages): for cpu, LLVM IR with
  /// the runtime's model table, or an object file; for cuda also the GPU
  /// dialect after mapping and the kernels' PTX.
  GPU,
  PTX,
  LLVM,
  Object,
  /// A standalone executable.
  Executable,
};

/// The spelling of a target stage, as Target::getEmitStages names it.
StringRef targetStageName(Stage stage) {
  switch (stage) {
  case Stage::GPU:
    return "gpu";
  case Stage::PTX:
    return "ptx";
  case Stage::LLVM:
    return "llvm";
  default:
    return "obj";
  }
}

bool isTargetStage(Stage stage) {
  return stage == Stage::GPU || stage == Stage::PTX || stage == Stage::LLVM ||
         stage == Stage::Object;
}
} // namespace

static cl::opt<std::string>
    modelFile(cl::Positional, cl::Required,
              cl::desc("<model.yaml|model.json|model.onnx>"),
              cl::sub(compileCommand), cl::sub(trainCommand),
              cl::sub(exportCommand), cl::sub(summaryCommand),
              cl::cat(compileCategory));

static cl::list<std::string>
    programArgs(cl::ConsumeAfter,
                cl::desc("<flags of the program's train command>"),
                cl::sub(trainCommand), cl::cat(compileCategory));

static cl::opt<Stage> emitStage(
    "emit", cl::desc("The stage to produce"), cl::init(Stage::Executable),
    cl::values(
        clEnumValN(Stage::DLC, "mlir",
                   "the imported model in the dlc dialect (func.func "
                   "@forward)"),
        clEnumValN(Stage::Train, "train",
                   "@train_step, @eval_step and @predict in the dlc dialect"),
        clEnumValN(Stage::Linalg, "linalg", "linalg on tensors"),
        clEnumValN(Stage::GPU, "gpu",
                   "the GPU dialect after mapping (--target cuda)"),
        clEnumValN(Stage::PTX, "ptx", "the kernels' PTX (--target cuda)"),
        clEnumValN(Stage::LLVM, "llvm",
                   "LLVM IR for the target, with the model table"),
        clEnumValN(Stage::Object, "obj", "an object file"),
        clEnumValN(Stage::Executable, "exe",
                   "a standalone program: train, evaluate, predict "
                   "(default)")),
    cl::sub(compileCommand), cl::cat(compileCategory));

static cl::opt<std::string>
    outputFile("o",
               cl::desc("Output file (default: stdout for text stages, "
                        "<model>.o for obj, <model>_train for exe)"),
               cl::value_desc("filename"), cl::sub(compileCommand),
               cl::sub(exportCommand), cl::cat(compileCategory));

static cl::opt<std::string>
    checkpointFile("checkpoint",
                   cl::desc("The trained weights: a checkpoint of the "
                            "model's program (default: the model file's "
                            "own weights, e.g. an ONNX model's)"),
                   cl::value_desc("file.safetensors"), cl::sub(exportCommand));

static cl::opt<std::string> exportFormat(
    "format",
    cl::desc("onnx (the inference graph, -o M.onnx), keras (Keras 3 "
             "weights, -o M.weights.h5) or torch (PyTorch weights and "
             "model.py, -o DIR or -o M.safetensors)"),
    cl::init("onnx"), cl::sub(exportCommand));

static cl::opt<bool> exportFoldBatchNorm(
    "fold-batch-norm",
    cl::desc("Fold each batch norm that follows a convolution into the "
             "convolution's weights"),
    cl::sub(exportCommand));

static cl::opt<int64_t>
    batchSize("batch-size",
              cl::desc("Batch size to compile for (default: the model "
                       "file's batch_size, else 32)"),
              cl::value_desc("n"), cl::init(0), cl::sub(compileCommand),
              cl::sub(trainCommand), cl::sub(summaryCommand),
              cl::cat(compileCategory));

static cl::opt<std::string>
    targetName("target",
               cl::desc("The code generator: cpu (default) or cuda (NVIDIA "
                        "GPUs: PTX kernels, plus a cubin when ptxas is "
                        "found through CUDA_HOME, CUDA_PATH or "
                        "/usr/local/cuda)"),
               cl::value_desc("name"), cl::init("cpu"), cl::sub(compileCommand),
               cl::sub(trainCommand), cl::cat(compileCategory));

static cl::opt<bool> cudaTensorCores(
    "cuda-tensor-cores",
    cl::desc("--target cuda: run matmuls, convolutions and their gradients "
             "on tensor cores (mma.sync, tf32 inputs, f32 sums; default); "
             "=false: the f32 SIMT kernels"),
    cl::init(true), cl::sub(compileCommand), cl::sub(trainCommand),
    cl::cat(compileCategory));

static cl::opt<std::string>
    targetCPU("cpu",
              cl::desc("LLVM CPU to compile for (default: this machine's); "
                       "e.g. x86-64-v3 for AVX2 + FMA without AVX-512"),
              cl::value_desc("name"), cl::sub(compileCommand),
              cl::sub(trainCommand), cl::cat(compileCategory));

static cl::opt<bool>
    noVectorize("no-vectorize",
                cl::desc("Plain loops instead of tiled, vectorized kernels "
                         "(a slow reference)"),
                cl::sub(compileCommand), cl::sub(trainCommand),
                cl::cat(compileCategory));

static cl::opt<bool> noWorkspace(
    "no-workspace",
    cl::desc("malloc/free every temporary per call instead of packing them "
             "into one static workspace (a reference for the planner)"),
    cl::sub(compileCommand), cl::sub(trainCommand), cl::cat(compileCategory));

// Every fusion is on by default; each flag turns one off, to compare or to
// rule one out when debugging.
static cl::OptionCategory fusionCategory("dlc fusion options (all on by "
                                         "default)");

static cl::opt<bool> noFusion(
    "no-fusion",
    cl::desc("Turn every fusion off (each --no-fuse-* and --no-fold-* flag)"),
    cl::sub(compileCommand), cl::sub(trainCommand), cl::cat(fusionCategory));

static cl::opt<bool> noFuseConvBnRelu(
    "no-fuse-conv-bn-relu",
    cl::desc("Keep conv2d, batch_norm_train and relu (and their gradients) "
             "separate in the training step (dlc-fuse-conv-bn-relu)"),
    cl::sub(compileCommand), cl::sub(trainCommand), cl::cat(fusionCategory));

static cl::opt<bool> noFoldBatchNorm(
    "no-fold-batch-norm",
    cl::desc("Keep inference batch norm separate from its convolution in "
             "eval_step and predict (dlc-fold-batch-norm)"),
    cl::sub(compileCommand), cl::sub(trainCommand), cl::cat(fusionCategory));

static cl::opt<bool> noFuseSoftmaxCrossEntropy(
    "no-fuse-softmax-cross-entropy",
    cl::desc("Keep the loss and its logits gradient apart in the training "
             "step (dlc-fuse-softmax-cross-entropy)"),
    cl::sub(compileCommand), cl::sub(trainCommand), cl::cat(fusionCategory));

static cl::opt<bool> noFuseEpilogue(
    "no-fuse-epilogue",
    cl::desc("Run the bias, activation and batch-norm statistics of a "
             "convolution or dense layer as separate passes instead of on "
             "each output tile"),
    cl::sub(compileCommand), cl::sub(trainCommand), cl::cat(fusionCategory));

static cl::opt<bool> noFuseElementwise(
    "no-fuse-elementwise",
    cl::desc("One pass per elementwise op instead of one per chain"),
    cl::sub(compileCommand), cl::sub(trainCommand), cl::cat(fusionCategory));

static cl::opt<unsigned>
    optLevel("O",
             cl::desc("LLVM optimization level of the generated code "
                      "(0-3, default 2)"),
             cl::Prefix, cl::init(2), cl::sub(compileCommand),
             cl::sub(trainCommand), cl::cat(compileCategory));

static cl::opt<bool> dataParallel(
    "data-parallel",
    cl::desc("Compile train_step for data-parallel training: the gradients "
             "are averaged over the ranks of an mpirun job, in buckets, "
             "inside the step (docs/Runtime.md); alone it trains as before"),
    cl::sub(compileCommand), cl::sub(trainCommand), cl::cat(compileCategory));

static cl::opt<int64_t> bucketBytes(
    "bucket-bytes",
    cl::desc("With --data-parallel: bytes of gradients per all-reduce "
             "(default 1 MiB)"),
    cl::init(1 << 20), cl::sub(compileCommand), cl::sub(trainCommand),
    cl::cat(compileCategory));

static cl::opt<bool> syncBatchNorm(
    "sync-batch-norm",
    cl::desc("Data-parallel training (implies --data-parallel): batch norm "
             "normalizes with the statistics of the global batch, summed "
             "over the ranks, as torch.nn.SyncBatchNorm (default: each "
             "rank's own batch, as PyTorch DDP)"),
    cl::sub(compileCommand), cl::sub(trainCommand), cl::cat(compileCategory));

static cl::opt<int64_t> reductionChunk(
    "reduction-chunk",
    cl::desc("Compute every reduction over the batch (weight and bias "
             "gradients, batch-norm statistics) per chunk of N samples and "
             "add the chunks in a fixed tree: with --sync-batch-norm, R ranks "
             "(a power of two) whose batch is a power-of-two multiple of N "
             "train bit-identically to one process with the whole batch "
             "(default 0: off; it also turns off epilogue fusion)"),
    cl::init(0), cl::value_desc("N"), cl::sub(compileCommand),
    cl::sub(trainCommand), cl::cat(compileCategory));

static cl::opt<bool> overlapAllReduce(
    "overlap-all-reduce",
    cl::desc("With --data-parallel: overlap each bucket's all-reduce with "
             "the rest of the backward pass (default true; false: blocking "
             "calls, the same bits)"),
    cl::init(true), cl::sub(compileCommand), cl::sub(trainCommand),
    cl::cat(compileCategory));

static cl::opt<int>
    ranks("ranks",
          cl::desc("dlc train: run N processes with mpirun (implies "
                   "--data-parallel); the global batch is N x the batch size"),
          cl::init(0), cl::value_desc("N"), cl::sub(trainCommand),
          cl::cat(compileCategory));

static cl::opt<bool> profile(
    "profile",
    cl::desc("Time every compiled kernel: the program's 'train --profile' "
             "then prints each one's share of the step, GFLOP/s and GB/s "
             "(dlc train MODEL --profile does both)"),
    cl::sub(compileCommand), cl::sub(trainCommand), cl::cat(compileCategory));

static cl::opt<bool> gradients(
    "gradients",
    cl::desc("Also compile a gradients entry point, for the program's "
             "'train --histogram-freq N' gradient histograms (dlc train MODEL "
             "--histogram-freq N adds it)"),
    cl::sub(compileCommand), cl::sub(trainCommand), cl::cat(compileCategory));

static cl::opt<bool> verbose("v",
                             cl::desc("Print each stage's time and the link "
                                      "command"),
                             cl::sub(compileCommand), cl::sub(trainCommand),
                             cl::cat(compileCategory));

//===----------------------------------------------------------------------===//
// The pipeline
//===----------------------------------------------------------------------===//

static std::string error(const Twine &message) {
  llvm::errs() << "dlc: error: " << message << "\n";
  return {};
}

/// The directory that holds this program, for finding the runtime library.
static std::string programDirectory(const char *argv0) {
  std::string path = llvm::sys::fs::getMainExecutable(
      argv0, reinterpret_cast<void *>(&programDirectory));
  return llvm::sys::path::parent_path(path).str();
}

namespace {
/// Everything one compilation produces; later stages consume earlier ones.
struct Compilation {
  OwningOpRef<ModuleOp> module;
  std::unique_ptr<mlir::dlc::Target> target;
};
} // namespace

/// Prints how long the named stage took when -v is given.
namespace {
class StageTimer {
public:
  explicit StageTimer(const Twine &name)
      : name(name.str()), start(std::chrono::steady_clock::now()) {}
  ~StageTimer() {
    if (!verbose)
      return;
    std::chrono::duration<double, std::milli> elapsed =
        std::chrono::steady_clock::now() - start;
    llvm::errs() << llvm::formatv("dlc: {0,-28} {1,8:F1} ms\n", name,
                                  elapsed.count());
  }

private:
  std::string name;
  std::chrono::steady_clock::time_point start;
};
} // namespace

/// Lowers the imported module of `c` up to `stage`, in pipeline order:
/// one compiler-library call per stage.
static LogicalResult lowerToStage(Compilation &c, Stage stage) {
  ModuleOp module = *c.module;
  if (stage == Stage::DLC)
    return success();
  {
    StageTimer timer("training step (dlc)");
    // Graph optimizations on the whole step, each behind a flag (to
    // compare, or to rule one out when debugging).
    mlir::dlc::StepOptions steps;
    steps.fusions.convBnRelu = !noFusion && !noFuseConvBnRelu;
    steps.fusions.foldBatchNorm = !noFusion && !noFoldBatchNorm;
    steps.fusions.softmaxCrossEntropy = !noFusion && !noFuseSoftmaxCrossEntropy;
    steps.gradients = gradients;
    steps.dataParallel = dataParallel || syncBatchNorm || ranks > 0;
    steps.bucketBytes = bucketBytes;
    steps.syncBatchNorm = syncBatchNorm;
    steps.overlapAllReduce = overlapAllReduce;
    if (reductionChunk < 0) {
      error("--reduction-chunk must be positive (or 0, off), got " +
            std::to_string(reductionChunk));
      return failure();
    }
    if (reductionChunk > 0 && targetName != "cpu") {
      error("--reduction-chunk is implemented for --target cpu only; the " +
            targetName + " target's kernels reduce the whole batch");
      return failure();
    }
    steps.reductionChunk = reductionChunk;
    if (steps.dataParallel && targetName != "cpu") {
      error("--data-parallel is implemented for --target cpu only (MPI); "
            "the " +
            targetName + " target has no collective lowering yet");
      return failure();
    }
    if (bucketBytes <= 0) {
      error("--bucket-bytes must be positive, got " +
            std::to_string(bucketBytes));
      return failure();
    }
    if (failed(mlir::dlc::buildSteps(module, steps)))
      return failure();
  }
  if (stage == Stage::Train)
    return success();
  {
    StageTimer timer("convert-dlc-to-linalg");
    if (failed(mlir::dlc::lowerToLinalg(module)))
      return failure();
  }
  if (stage == Stage::Linalg)
    return success();
  StageTimer timer(llvm::formatv("dlc-lower-to-{0}", c.target->getName()));
  return mlir::dlc::lowerForTarget(
      module, *c.target, isTargetStage(stage) ? targetStageName(stage) : "");
}

/// Imports `modelFile` into `c.module`; errors go to stderr as
/// file:line:col. `forRuntime`: the module becomes an executable of dlc's
/// runtime, which refuses what it cannot train yet.
static LogicalResult importInto(Compilation &c, MLIRContext &context,
                                llvm::SourceMgr &sourceMgr, bool forRuntime) {
  std::string errorMessage;
  std::unique_ptr<llvm::MemoryBuffer> input =
      openInputFile(modelFile, &errorMessage);
  if (!input) {
    error(errorMessage);
    return failure();
  }
  sourceMgr.AddNewSourceBuffer(std::move(input), llvm::SMLoc());
  mlir::dlc::ImportOptions options;
  if (batchSize.getNumOccurrences())
    options.batchSize = batchSize;
  options.forRuntime = forRuntime;
  c.module = mlir::dlc::importModel(sourceMgr, &context, options);
  return success(bool(c.module));
}

/// The C++ compiler driver that links executables: the clang of this LLVM
/// if present, then the system's.
static std::string findLinkerDriver() {
  for (const char *name : {"clang++-22", "clang++", "c++", "g++"})
    if (llvm::ErrorOr<std::string> path = llvm::sys::findProgramByName(name))
      return *path;
  return {};
}

/// Links `objects` with the target's runtime into the executable `output`.
static LogicalResult linkExecutable(const mlir::dlc::Target &target,
                                    ArrayRef<std::string> objects,
                                    StringRef output, StringRef dlcDirectory) {
  // The build tree puts the libraries next to the programs: <build>/bin/dlc
  // and <build>/lib.
  SmallString<256> libDirectory(dlcDirectory);
  llvm::sys::path::append(libDirectory, "..", "lib");
  llvm::Expected<SmallVector<std::string>> runtime =
      target.getRuntimeLinkArgs(libDirectory);
  if (!runtime) {
    error(llvm::toString(runtime.takeError()));
    return failure();
  }
  std::string driver = findLinkerDriver();
  if (driver.empty()) {
    error("no C++ compiler driver (clang++-22, clang++, c++ or g++) on PATH "
          "to link the executable");
    return failure();
  }
  SmallVector<std::string> args = {driver};
  args.append(objects.begin(), objects.end());
  args.append(runtime->begin(), runtime->end());
  args.append({"-o", output.str()});
  // lld links the static runtime several times faster than GNU ld.
  if (llvm::sys::findProgramByName("ld.lld") ||
      llvm::sys::fs::exists("/usr/lib/llvm-22/bin/ld.lld"))
    if (StringRef(driver).contains("clang"))
      args.push_back("-fuse-ld=lld");
  SmallVector<StringRef> argRefs(args.begin(), args.end());
  StageTimer timer("link");
  if (verbose) {
    llvm::errs() << "dlc: linking:";
    for (StringRef a : argRefs)
      llvm::errs() << " " << a;
    llvm::errs() << "\n";
  }
  std::string errorMessage;
  int rc = llvm::sys::ExecuteAndWait(driver, argRefs, std::nullopt, {}, 0, 0,
                                     &errorMessage);
  if (rc != 0) {
    error("linking " + output + " failed" +
          (errorMessage.empty() ? "" : ": " + errorMessage));
    return failure();
  }
  return success();
}

/// `<model name>_train` in the current directory.
static std::string defaultExecutableName(ModuleOp module) {
  std::string name =
      module.getSymName() ? module.getSymName()->str() : std::string("model");
  return name + "_train";
}

/// The code generator --target names, configured by the command line;
/// null after an error.
static std::unique_ptr<mlir::dlc::Target> createTarget() {
  if (targetName == "cpu") {
    mlir::dlc::CPUPipelineOptions options;
    options.cpu = targetCPU;
    options.vectorize = !noVectorize;
    options.fuseElementwise = !noFusion && !noFuseElementwise;
    // --reduction-chunk keeps every epilogue a pass of its own. Fused, the
    // tree's addition m0 + m1 lands in the register tile of the product m1,
    // where upstream's vector canonicalization (CanonicalizeContractAdd)
    // folds add(contract(a, b, 0), m0) into contract(a, b, m0): m1's
    // products are then summed onto m0 one by one, not summed first and
    // added, and a few dense weight gradient elements differed in their
    // last bit from a rank's. Unfused, 2 ranks and one process train
    // bit-identically.
    options.fuseEpilogue = !noFusion && !noFuseEpilogue && reductionChunk == 0;
    options.llvmOptLevel = optLevel;
    options.profile = profile;
    options.planWorkspace = !noWorkspace;
    options.printTimes = verbose;
    return mlir::dlc::createCPUTarget(options);
  }
  if (targetName == "cuda") {
    mlir::dlc::CUDAPipelineOptions options;
    options.ptxas = mlir::dlc::findPtxas();
    options.tensorCores = cudaTensorCores;
    // The kernels compiled on every core (one image per module).
    options.kernelModules = 0;
    return mlir::dlc::createCUDATarget(options);
  }
  error("unknown --target '" + targetName + "' (this dlc has: cpu, cuda)");
  return nullptr;
}

/// Compiles `modelFile` to `stage` and writes it to `output` (empty: the
/// stage's default). Returns the written path, or "" after an error.
static std::string compile(Stage stage, std::string output, const char *argv0) {
  if (batchSize.getNumOccurrences() && (batchSize < 1 || batchSize > 65536))
    return error("--batch-size must be in [1, 65536], got " +
                 Twine(batchSize.getValue()));

  // Say it before compiling rather than relay the linker's complaint later.
  StringRef directory = llvm::sys::path::parent_path(output);
  if (output != "-" && !directory.empty() &&
      !llvm::sys::fs::is_directory(directory))
    return error("cannot write " + output + ": no directory '" + directory +
                 "'");

  DialectRegistry registry;
  mlir::dlc::registerAllDLCDialects(registry);
  MLIRContext context(registry);
  llvm::SourceMgr sourceMgr;
  // Errors name file:line:col and show the line of the model file, but
  // never the raw bytes of a binary file, and never IR: every model-level
  // error is located in the model file and says what to change there.
  mlir::dlc::ModelDiagnosticHandler diagnostics(sourceMgr, &context);
  context.printOpOnDiagnostic(false);

  Compilation c;
  if (optLevel > 3)
    return error("-O must be 0, 1, 2 or 3, got " + Twine(optLevel.getValue()));
  c.target = createTarget();
  if (!c.target)
    return {};
  if (isTargetStage(stage)) {
    StringRef name = targetStageName(stage);
    if (!llvm::any_of(c.target->getEmitStages(),
                      [&](const auto &s) { return name == s.name; }))
      return error("--emit=" + name + " is not a stage of the " +
                   c.target->getName() + " target");
  }
  if (failed(importInto(c, context, sourceMgr,
                        /*forRuntime=*/stage == Stage::Executable)))
    return {};
  // `EXE export` writes the Keras and PyTorch files from plans made now,
  // from @forward (see WeightsPlan.h).
  if (stage == Stage::Executable)
    mlir::dlc::attachExportPlans(*c.module,
                                 llvm::sys::path::filename(modelFile));
  if (failed(lowerToStage(c, stage)))
    return {};

  if (stage <= Stage::Linalg) {
    if (output.empty())
      output = "-";
    std::string errorMessage;
    auto file = openOutputFile(output, &errorMessage);
    if (!file)
      return error(errorMessage);
    c.module->print(file->os());
    file->os() << "\n";
    file->keep();
    return output;
  }

  if (isTargetStage(stage)) {
    if (output.empty())
      output = stage == Stage::Object ? defaultExecutableName(*c.module) + ".o"
                                      : std::string("-");
    StageTimer timer(targetStageName(stage));
    std::string errorMessage;
    auto file = openOutputFile(output, &errorMessage);
    if (!file)
      return error(errorMessage);
    if (llvm::Error err =
            c.target->emit(*c.module, targetStageName(stage), file->os()))
      return error(llvm::toString(std::move(err)));
    if (stage != Stage::Object)
      file->os() << "\n";
    file->keep();
    return output;
  }

  if (output.empty())
    output = defaultExecutableName(*c.module);
  llvm::Expected<SmallVector<SmallString<0>>> objects = [&] {
    StageTimer timer("objects");
    return c.target->emitObjects(*c.module);
  }();
  if (!objects)
    return error("cannot emit the object files: " +
                 llvm::toString(objects.takeError()));
  SmallVector<std::string> paths;
  std::vector<llvm::FileRemover> removers;
  removers.reserve(objects->size());
  for (const SmallString<0> &bytes : *objects) {
    SmallString<128> path;
    int fd;
    if (std::error_code ec =
            llvm::sys::fs::createTemporaryFile("dlc-model", "o", fd, path))
      return error("cannot create a temporary object file: " + ec.message());
    removers.emplace_back(path);
    llvm::raw_fd_ostream os(fd, /*shouldClose=*/true);
    os << bytes;
    os.close();
    if (os.has_error())
      return error("cannot write " + path + ": " + os.error().message());
    paths.push_back(path.str().str());
  }
  if (failed(linkExecutable(*c.target, paths, output, programDirectory(argv0))))
    return {};
  return output;
}

/// On a terminal, says what takes the next seconds; the line is erased when
/// the compilation ends. Nothing when stderr is a file or a pipe (logs).
namespace {
class CompileMessage {
public:
  explicit CompileMessage(StringRef model) {
    shown = !verbose && llvm::sys::Process::StandardErrIsDisplayed();
    if (shown) {
      llvm::errs() << "Compiling " << model << " ...";
      llvm::errs().flush();
    }
  }
  ~CompileMessage() {
    if (shown)
      llvm::errs() << "\r\x1b[K";
  }

private:
  bool shown = false;
};
} // namespace

static int runCompile(const char *argv0) {
  CompileMessage message(modelFile);
  return compile(emitStage, outputFile, argv0).empty() ? 1 : 0;
}

/// `dlc summary MODEL`: import and build the steps (no code generation),
/// then print the table the compiled program's `summary` prints.
static int runSummary() {
  if (batchSize.getNumOccurrences() && (batchSize < 1 || batchSize > 65536)) {
    error("--batch-size must be in [1, 65536], got " +
          Twine(batchSize.getValue()));
    return 1;
  }
  DialectRegistry registry;
  mlir::dlc::registerAllDLCDialects(registry);
  MLIRContext context(registry);
  llvm::SourceMgr sourceMgr;
  mlir::dlc::ModelDiagnosticHandler diagnostics(sourceMgr, &context);
  Compilation c;
  if (failed(importInto(c, context, sourceMgr, /*forRuntime=*/false)))
    return 1;
  SmallVector<int64_t> inputShape;
  if (auto forward =
          c.module->lookupSymbol<func::FuncOp>(mlir::dlc::kForwardFuncName);
      forward && forward.getNumArguments() > 0)
    if (auto type =
            dyn_cast<RankedTensorType>(forward.getArgument(0).getType()))
      llvm::append_range(inputShape, type.getShape());
  if (failed(lowerToStage(c, Stage::Train)))
    return 1;
  std::string name =
      c.module->getSymName() ? c.module->getSymName()->str() : "model";
  auto summary = ::dlc::runtime::parseModelSummary(
      mlir::dlc::getModelSettingsJson(*c.module), name, inputShape);
  if (!summary) {
    error(llvm::toString(summary.takeError()));
    return 1;
  }
  llvm::outs() << ::dlc::runtime::formatModelSummary(*summary);
  return 0;
}

/// The value of `--name V` or `--name=V` among the program's flags.
static std::optional<std::string> programFlag(StringRef name) {
  std::optional<std::string> value;
  for (size_t i = 0; i < programArgs.size(); ++i) {
    StringRef arg = programArgs[i];
    if (!arg.consume_front("--") || !arg.consume_front(name))
      continue;
    if (arg.consume_front("="))
      value = arg.str();
    else if (arg.empty() && i + 1 < programArgs.size())
      value = programArgs[++i];
  }
  return value;
}

/// Whether the boolean flag `--name` (or `--name=true`) is among the
/// program's flags.
static bool programHasFlag(StringRef name) {
  return llvm::any_of(programArgs, [&](StringRef arg) {
    return arg.consume_front("--") && arg.consume_front(name) &&
           (arg.empty() || arg == "=true" || arg == "=1");
  });
}

/// What `dlc train` can check of the program's --data and --out before
/// spending seconds on compiling; the program checks everything again.
static bool checkTrainFlags() {
  if (ranks.getNumOccurrences() && ranks < 1) {
    error("--ranks must be at least 1, got " + std::to_string(ranks));
    return false;
  }
  if (std::optional<std::string> out = programFlag("out")) {
    if (llvm::sys::fs::exists(*out) && !llvm::sys::fs::is_directory(*out)) {
      error("--out '" + *out + "' is a file, not a directory");
      return false;
    }
    // The closest existing directory must be writable for --out to be made.
    SmallString<256> dir(*out);
    while (!dir.empty() && !llvm::sys::fs::exists(dir))
      llvm::sys::path::remove_filename(dir);
    if (dir.empty())
      dir = ".";
    if (llvm::sys::fs::access(dir, llvm::sys::fs::AccessMode::Write)) {
      error("cannot create --out '" + *out + "': '" + dir +
            "' is not writable");
      return false;
    }
  }
  std::optional<std::string> data = programFlag("data");
  if (!data)
    return true;
  auto [kind, rest] = StringRef(*data).split(':');
  if (kind == "synthetic")
    return true;
  if ((kind == "fashion-mnist" || kind == "mnist" || kind == "cifar10" ||
       kind == "cifar-10" || kind == "idx") &&
      !rest.empty()) {
    if (!llvm::sys::fs::is_directory(rest)) {
      error("--data " + *data + ": no directory '" + rest + "'");
      return false;
    }
    return true;
  }
  if (kind == "fashion-mnist" || kind == "mnist" || kind == "cifar10" ||
      kind == "cifar-10") {
    // The program's search path (lib/Runtime/Data/Dataset.cpp).
    std::string name = kind == "cifar-10" ? "cifar10" : kind.str();
    SmallVector<std::string> dirs;
    if (const char *env = std::getenv("DLC_DATASETS")) {
      SmallVector<StringRef> roots;
      StringRef(env).split(roots, ':', -1, false);
      for (StringRef root : roots)
        dirs.push_back((root + "/" + name).str());
    }
    dirs.push_back("/usr/share/datasets/" + name);
    if (llvm::none_of(dirs, [](const std::string &d) {
          return llvm::sys::fs::is_directory(d);
        })) {
      error("dataset '" + name + "' not found (looked in " +
            llvm::join(dirs, ", ") +
            (name == "fashion-mnist"
                 ? "). Install it with 'apt install dataset-fashion-mnist', "
                   "or pass its directory with --data DIR."
                 : "). Pass its directory with --data DIR or set "
                   "DLC_DATASETS."));
      return false;
    }
    return true;
  }
  if (!llvm::sys::fs::is_directory(*data)) {
    error(llvm::sys::fs::exists(*data)
              ? "--data '" + *data +
                    "' is a file; pass the directory that holds the "
                    "dataset's files"
              : "no dataset or directory '" + *data +
                    "' (datasets: fashion-mnist, mnist, cifar10, "
                    "synthetic[:...], or a directory with IDX or CIFAR-10 "
                    "files)");
    return false;
  }
  return true;
}

/// `dlc train MODEL flags...`: build the program in a temporary directory
/// and run its `train` command with the flags.
static int runTrain(const char *argv0) {
  if (!checkTrainFlags())
    return 1;
  // Gradient histograms need the gradients entry point.
  if (std::optional<std::string> freq = programFlag("histogram-freq");
      freq && *freq != "0")
    gradients = true;
  // `dlc train MODEL --profile`: everything after MODEL goes to the program,
  // whose kernels must then be timed too.
  bool profileInProgramArgs = programHasFlag("profile");
  if (profileInProgramArgs)
    profile = true;
  SmallString<128> directory;
  if (std::error_code ec =
          llvm::sys::fs::createUniqueDirectory("dlc-train", directory)) {
    error("cannot create a temporary directory: " + ec.message());
    return 1;
  }
  SmallString<128> program(directory);
  llvm::sys::path::append(program, "model_train");
  std::string built;
  {
    CompileMessage message(modelFile);
    built = compile(Stage::Executable, program.str().str(), argv0);
  }
  int rc = 1;
  if (!built.empty()) {
    SmallVector<std::string> args = {built, "train"};
    // The program checks --batch-size against its compiled batch: pass the
    // one it was compiled for.
    if (batchSize.getNumOccurrences())
      args.push_back("--batch-size=" + std::to_string(batchSize));
    if (profile && !profileInProgramArgs)
      args.push_back("--profile");
    if (syncBatchNorm)
      args.push_back("--sync-batch-norm");
    args.append(programArgs.begin(), programArgs.end());
    SmallVector<StringRef> argRefs(args.begin(), args.end());
    // The program's messages ("Run '... --help'") name the command the
    // user typed, not the temporary executable.
    std::string invokedAs = "DLC_INVOKED_AS=dlc train " + modelFile;
    SmallVector<StringRef> env;
    for (char **e = environ; *e; ++e)
      if (!StringRef(*e).starts_with("DLC_INVOKED_AS="))
        env.push_back(*e);
    env.push_back(invokedAs);
    // --ranks N: the same program, N times, under mpirun on this machine
    // (on a cluster, call mpirun yourself with a host file).
    std::string launcher = built;
    if (ranks > 0) {
      auto mpirun = llvm::sys::findProgramByName("mpirun");
      if (!mpirun) {
        error("--ranks needs mpirun on the PATH (Open MPI: apt install "
              "openmpi-bin)");
        llvm::sys::fs::remove_directories(directory);
        return 1;
      }
      launcher = *mpirun;
      SmallVector<std::string> mpiArgs = {
          launcher, "-np", std::to_string(ranks), "--oversubscribe"};
      if (geteuid() == 0)
        mpiArgs.push_back("--allow-run-as-root");
      args.insert(args.begin(), mpiArgs.begin(), mpiArgs.end());
      argRefs.assign(args.begin(), args.end());
    }
    std::string errorMessage;
    rc = llvm::sys::ExecuteAndWait(launcher, argRefs, env, {}, 0, 0,
                                   &errorMessage);
    if (rc < 0)
      error("cannot run the compiled program: " + errorMessage);
  }
  llvm::sys::fs::remove_directories(directory);
  return rc < 0 ? 1 : rc;
}

/// `dlc export MODEL --checkpoint C -o model.onnx`: the inference graph
/// of @forward with the checkpoint's weights.
static int runExport() {
  if (exportFormat != "onnx" && exportFormat != "keras" &&
      exportFormat != "torch") {
    error("--format must be onnx, keras or torch, got '" + exportFormat + "'");
    return 1;
  }
  if (outputFile.empty()) {
    error(exportFormat == "torch" ? "dlc export needs -o DIR"
                                  : "dlc export needs -o FILE");
    return 1;
  }
  // Keras 3's load_weights refuses other names.
  if (exportFormat == "keras" &&
      !StringRef(outputFile).ends_with(".weights.h5")) {
    error("--format keras writes Keras 3 weights: -o must end in "
          ".weights.h5, got '" +
          outputFile + "'");
    return 1;
  }
  // --format torch: -o DIR (made if needed) gets model.safetensors and
  // model.py; -o FILE.safetensors gets model.py beside it.
  SmallString<256> torchDir;
  std::string torchFile = "model.safetensors";
  if (exportFormat == "torch") {
    StringRef out = outputFile;
    if (out.ends_with(".safetensors")) {
      torchDir = llvm::sys::path::parent_path(out);
      if (torchDir.empty())
        torchDir = ".";
      torchFile = llvm::sys::path::filename(out).str();
      if (!llvm::sys::fs::is_directory(torchDir)) {
        error("cannot write '" + outputFile + "': no directory '" +
              torchDir.str().str() + "'");
        return 1;
      }
    } else {
      torchDir = out; // Made by the export once it succeeds.
      if (llvm::sys::fs::exists(torchDir) &&
          !llvm::sys::fs::is_directory(torchDir)) {
        error("--format torch -o '" + outputFile +
              "': not a directory (give a directory or a .safetensors file)");
        return 1;
      }
    }
  }
  DialectRegistry registry;
  mlir::dlc::registerAllDLCDialects(registry);
  MLIRContext context(registry);
  llvm::SourceMgr sourceMgr;
  mlir::dlc::ModelDiagnosticHandler diagnostics(sourceMgr, &context);
  Compilation c;
  if (failed(importInto(c, context, sourceMgr, /*forRuntime=*/false)))
    return 1;
  mlir::dlc::WeightMap weights;
  if (!checkpointFile.empty()) {
    FailureOr<mlir::dlc::WeightMap> read = mlir::dlc::readSafetensorsWeights(
        checkpointFile, FileLineColLoc::get(&context, checkpointFile, 0, 0));
    if (failed(read))
      return 1;
    weights = std::move(*read);
  }
  if (exportFormat == "keras") {
    // Open it once for the system's reason when it cannot be written.
    std::string errorMessage;
    if (!openOutputFile(outputFile, &errorMessage)) {
      error(errorMessage);
      return 1;
    }
    return failed(mlir::dlc::exportKerasWeights(*c.module, weights, outputFile))
               ? 1
               : 0;
  }
  if (exportFormat == "torch")
    return failed(mlir::dlc::exportTorch(*c.module, weights, torchDir,
                                         torchFile,
                                         llvm::sys::path::filename(modelFile)))
               ? 1
               : 0;
  std::string errorMessage;
  auto file = openOutputFile(outputFile, &errorMessage);
  if (!file) {
    error(errorMessage);
    return 1;
  }
  mlir::dlc::OnnxExportOptions options;
  options.foldBatchNorm = exportFoldBatchNorm;
  if (failed(mlir::dlc::exportOnnx(*c.module, weights, options, file->os())))
    return 1;
  file->keep();
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

#ifndef DLC_VERSION
#define DLC_VERSION "unknown"
#endif

static void printVersion(llvm::raw_ostream &os) {
  os << "dlc " << DLC_VERSION << "\n  built with LLVM/MLIR "
     << LLVM_VERSION_STRING << "\n";
}

int main(int argc, char **argv) {
  llvm::InitLLVM initLLVM(argc, argv);
  registerAsmPrinterCLOptions();
  registerMLIRContextCLOptions();
  shareMLIROptionsWithSubcommands();
  // --help lists dlc's own options; LLVM's and MLIR's (hundreds of backend
  // flags) stay usable but unlisted.
  cl::SetVersionPrinter(printVersion);
  for (cl::SubCommand *sub : {&cl::SubCommand::getTopLevel(), &compileCommand,
                              &trainCommand, &summaryCommand})
    cl::HideUnrelatedOptions({&compileCategory, &fusionCategory}, *sub);
  cl::ParseCommandLineOptions(
      argc, argv,
      "dlc: a deep-learning compiler for training convolutional networks\n\n"
      "  dlc compile MODEL [-o EXE]               a training program\n"
      "  dlc compile MODEL --emit=STAGE [-o FILE] mlir, train, linalg, llvm, "
      "obj;\n"
      "                                           gpu, ptx with --target cuda\n"
      "  dlc train MODEL [--data D --epochs N ...] compile and train\n"
      "  dlc export MODEL --checkpoint C -o M.onnx the inference graph as "
      "ONNX\n"
      "  dlc export MODEL --checkpoint C --format keras -o M.weights.h5\n"
      "  dlc export MODEL --checkpoint C --format torch -o DIR\n"
      "                                           weights for Keras or "
      "PyTorch\n"
      "  dlc summary MODEL                        layers, shapes, "
      "parameters\n");
  if (compileCommand)
    return runCompile(argv[0]);
  if (summaryCommand)
    return runSummary();
  if (trainCommand)
    return runTrain(argv[0]);
  if (exportCommand)
    return runExport();
  llvm::errs() << "dlc: error: expected a subcommand, e.g. `dlc compile "
                  "model.yaml -o model_train` or `dlc train model.yaml` (see "
                  "dlc --help)\n";
  return 1;
}
