//===- ObjectEmission.cpp - LLVM dialect to an optimized host object -----===//
//
// The back half of the CPU target: translate the LLVM dialect to LLVM IR,
// run LLVM's O3 pipeline with the host's TargetMachine (so that the
// vectorizers and the cost model know about AVX2 and FMA), and emit an ELF
// object. `llc` alone would skip the middle end and run about 4x slower.
//
//===----------------------------------------------------------------------===//

#include "dlc/Target/CPU/CPUTarget.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/OpenMP/OpenMPToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"

#include "llvm/Bitcode/BitcodeReader.h"
#include "llvm/Bitcode/BitcodeWriter.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/ThreadPool.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/Target/TargetOptions.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/SubtargetFeature.h"

#include <chrono>
#include <mutex>
#include <thread>

using namespace mlir;
using namespace mlir::dlc;

/// Caps the operands of a TokenFactor node that the SelectionDAG combiner
/// inlines (LLVM's default: 2048). Its work grows with the square of that
/// count, and the register-tiled kernels have basic blocks with hundreds of
/// independent loads: on cnn_bn's train_step one conv-gradient block took
/// 8 s of 10 s of code generation in "DAG Combining 1", 2 s with the cap,
/// and the object file is byte for byte the same (measured with llc at
/// limits 1 to 256). It is a process-wide LLVM option, set once, before
/// any code generation thread starts; a value given on the command line
/// (-combiner-tokenfactor-inline-limit) is kept.
static void limitDAGCombinerWork() {
  auto &registered = llvm::cl::getRegisteredOptions();
  auto it = registered.find("combiner-tokenfactor-inline-limit");
  if (it == registered.end())
    return;
  auto *limit = static_cast<llvm::cl::opt<unsigned> *>(it->second);
  if (limit->getNumOccurrences() == 0 && limit->getValue() > 64)
    limit->setValue(64);
}

llvm::Expected<std::unique_ptr<llvm::TargetMachine>>
mlir::dlc::createTargetMachine(const CPUPipelineOptions &options) {
  static std::once_flag initialized;
  std::call_once(initialized, [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
    limitDAGCombinerWork();
  });
  llvm::Triple triple(llvm::sys::getProcessTriple());
  std::string error;
  const llvm::Target *target =
      llvm::TargetRegistry::lookupTarget(triple, error);
  if (!target)
    return llvm::createStringError("no LLVM target for the host (" +
                                   triple.str() + "): " + error);
  std::string cpu = options.cpu, features = options.features;
  if (cpu.empty()) {
    cpu = llvm::sys::getHostCPUName().str();
    llvm::SubtargetFeatures host;
    for (const auto &feature : llvm::sys::getHostCPUFeatures())
      host.AddFeature(feature.first(), feature.second);
    features = host.getString() + (features.empty() ? "" : "," + features);
  }
  std::unique_ptr<llvm::TargetMachine> machine(target->createTargetMachine(
      triple, cpu, features, llvm::TargetOptions(), llvm::Reloc::PIC_,
      std::nullopt, llvm::CodeGenOptLevel::Aggressive));
  if (!machine)
    return llvm::createStringError("cannot create a TargetMachine for " +
                                   triple.str() + " (" + cpu + ")");
  return machine;
}

VectorRegisterFile
mlir::dlc::getVectorRegisterFile(const CPUPipelineOptions &options) {
  // AVX2: 16 ymm of 8 floats; AVX-512: 32 zmm of 16. A quarter of the
  // registers stays free for the broadcast inputs and filter rows.
  VectorRegisterFile file{8, 12};
  if (auto machine = createTargetMachine(options)) {
    if ((*machine)->getMCSubtargetInfo()->checkFeatures("+avx512f"))
      file = {16, 24};
  } else {
    llvm::consumeError(machine.takeError());
  }
  if (options.vectorLanes > 0)
    file.lanes = options.vectorLanes;
  if (options.accumulatorRegisters > 0)
    file.accumulators = options.accumulatorRegisters;
  return file;
}

/// Runs LLVM's default per-module pipeline at `level` for `machine`.
static void optimize(llvm::Module &module, llvm::TargetMachine &machine,
                     unsigned level) {
  llvm::LoopAnalysisManager lam;
  llvm::FunctionAnalysisManager fam;
  llvm::CGSCCAnalysisManager cgam;
  llvm::ModuleAnalysisManager mam;
  llvm::PipelineTuningOptions tuning;
  tuning.LoopVectorization = level >= 2;
  tuning.SLPVectorization = level >= 2;
  // The heavy kernels arrive tiled, vectorized and unrolled by MLIR; LLVM's
  // loop unrolling only multiplies their code (it was over half of the
  // middle end's time on cnn_bn's training step).
  tuning.LoopUnrolling = level >= 3;
  llvm::PassBuilder builder(&machine, tuning);
  builder.registerModuleAnalyses(mam);
  builder.registerCGSCCAnalyses(cgam);
  builder.registerFunctionAnalyses(fam);
  builder.registerLoopAnalyses(lam);
  builder.crossRegisterProxies(lam, fam, cgam, mam);
  llvm::OptimizationLevel levels[] = {
      llvm::OptimizationLevel::O0, llvm::OptimizationLevel::O1,
      llvm::OptimizationLevel::O2, llvm::OptimizationLevel::O3};
  llvm::ModulePassManager pipeline =
      level == 0
          ? builder.buildO0DefaultPipeline(llvm::OptimizationLevel::O0)
          : builder.buildPerModuleDefaultPipeline(levels[std::min(level, 3u)]);
  pipeline.run(module, mam);
}

/// Sets `module`'s triple and data layout for the target of `options` and
/// runs LLVM's pipeline at `options.llvmOptLevel` on it.
static llvm::Error optimizeForTarget(llvm::Module &module,
                                     const CPUPipelineOptions &options) {
  auto machine = createTargetMachine(options);
  if (!machine)
    return machine.takeError();
  module.setDataLayout((*machine)->createDataLayout());
  module.setTargetTriple((*machine)->getTargetTriple());
  optimize(module, **machine, options.llvmOptLevel);
  return llvm::Error::success();
}

std::unique_ptr<llvm::Module>
mlir::dlc::translateToLLVMIR(ModuleOp module, llvm::LLVMContext &llvmContext,
                             const CPUPipelineOptions &options) {
  MLIRContext *ctx = module.getContext();
  registerBuiltinDialectTranslation(*ctx);
  registerLLVMDialectTranslation(*ctx);
  registerOpenMPDialectTranslation(*ctx);
  std::unique_ptr<llvm::Module> llvmModule =
      mlir::translateModuleToLLVMIR(module, llvmContext);
  if (!llvmModule) {
    module.emitError("translation to LLVM IR failed");
    return nullptr;
  }
  if (llvm::Error error = optimizeForTarget(*llvmModule, options)) {
    module.emitError(llvm::toString(std::move(error)));
    return nullptr;
  }
  return llvmModule;
}

llvm::Error mlir::dlc::emitObjectFile(llvm::Module &module,
                                      llvm::raw_pwrite_stream &os,
                                      const CPUPipelineOptions &options) {
  auto machine = createTargetMachine(options);
  if (!machine)
    return machine.takeError();
  module.setDataLayout((*machine)->createDataLayout());
  module.setTargetTriple((*machine)->getTargetTriple());
  llvm::legacy::PassManager codegen;
  if ((*machine)->addPassesToEmitFile(codegen, os, nullptr,
                                      llvm::CodeGenFileType::ObjectFile))
    return llvm::createStringError("the host target cannot emit objects");
  codegen.run(module);
  return llvm::Error::success();
}

/// Splits an optimized module into `pieces` modules for code generation,
/// each in its own LLVMContext (code generation of modules that share a
/// context is not thread-safe): the function definitions go, largest first,
/// to the lightest piece; each piece keeps the others' functions as
/// declarations. Local symbols become hidden externals under a name
/// prefixed with `prefix`, the same in every piece, so that the pieces link;
/// global variables are defined in the first piece only. The parallel
/// object parts are per public function, and train_step, with all of its
/// outlined parallel regions, is most of the code: its code generation
/// alone took longer than the other part's optimization and code
/// generation together.
using CodegenPiece = std::pair<std::unique_ptr<llvm::LLVMContext>,
                               std::unique_ptr<llvm::Module>>;

static llvm::Expected<SmallVector<CodegenPiece>>
splitForCodegen(llvm::Module &module, unsigned pieces, StringRef prefix) {
  SmallVector<std::pair<int64_t, llvm::Function *>> functions;
  for (llvm::Function &function : module)
    if (!function.isDeclaration())
      functions.emplace_back(function.getInstructionCount(), &function);
  llvm::stable_sort(functions,
                    [](auto &a, auto &b) { return a.first > b.first; });
  SmallVector<int64_t> load(pieces, 0);
  llvm::StringMap<unsigned> pieceOf;
  for (llvm::GlobalValue &value : module.global_values()) {
    if (!value.hasLocalLinkage())
      continue;
    value.setName(prefix + (value.hasName() ? value.getName() : "anon"));
    value.setLinkage(llvm::GlobalValue::ExternalLinkage);
    value.setVisibility(llvm::GlobalValue::HiddenVisibility);
  }
  for (auto &[size, function] : functions) {
    unsigned lightest =
        std::min_element(load.begin(), load.end()) - load.begin();
    load[lightest] += size;
    pieceOf[function->getName()] = lightest;
  }
  SmallString<0> bitcode;
  {
    llvm::raw_svector_ostream os(bitcode);
    llvm::WriteBitcodeToFile(module, os);
  }
  SmallVector<CodegenPiece> result;
  for (unsigned piece = 0; piece < pieces; ++piece) {
    auto context = std::make_unique<llvm::LLVMContext>();
    llvm::Expected<std::unique_ptr<llvm::Module>> copy = llvm::parseBitcodeFile(
        llvm::MemoryBufferRef(StringRef(bitcode.data(), bitcode.size()),
                              module.getModuleIdentifier()),
        *context);
    if (!copy)
      return copy.takeError();
    for (llvm::Function &function : **copy)
      if (!function.isDeclaration() &&
          pieceOf.lookup(function.getName()) != piece) {
        function.deleteBody();
        function.setComdat(nullptr);
      }
    if (piece != 0)
      for (llvm::GlobalVariable &global : (*copy)->globals())
        if (global.hasInitializer()) {
          global.setInitializer(nullptr);
          global.setComdat(nullptr);
        }
    result.emplace_back(std::move(context), std::move(*copy));
  }
  return result;
}

/// Whether `func` is a definition other modules may call.
static bool isPublicDefinition(LLVM::LLVMFuncOp func) {
  return !func.isExternal() && func.getLinkage() != LLVM::Linkage::Private &&
         func.getLinkage() != LLVM::Linkage::Internal;
}

llvm::Expected<SmallVector<SmallString<0>>>
mlir::dlc::emitObjectFilesInParallel(
    ModuleOp module, const CPUPipelineOptions &options, unsigned parts,
    llvm::function_ref<llvm::Error(llvm::Module &)> completeFirst,
    unsigned pieces) {
  // Public definitions, largest first, each to the lightest part so far.
  // (Keeping `_mlir_ciface_f` with `f` measured 0.1 s slower on cnn_bn.)
  SmallVector<std::pair<int64_t, std::string>> functions;
  module.walk([&](LLVM::LLVMFuncOp func) {
    if (!isPublicDefinition(func))
      return;
    int64_t size = 0;
    func.walk([&](Operation *) { ++size; });
    functions.emplace_back(size, func.getName().str());
  });
  llvm::sort(functions, [](auto &a, auto &b) {
    return a.first != b.first ? a.first > b.first : a.second < b.second;
  });
  parts = std::max(1u, std::min<unsigned>(parts, functions.size()));
  unsigned piecesPerPart = pieces ? pieces : parts;
  SmallVector<int64_t> load(parts, 0);
  llvm::StringMap<unsigned> partOf;
  for (auto &[size, name] : functions) {
    unsigned lightest =
        std::min_element(load.begin(), load.end()) - load.begin();
    load[lightest] += size;
    partOf[name] = lightest;
  }

  // Each part: a copy of the module where the other parts' public functions
  // are declarations, translated here (translation uses the MLIR context).
  MLIRContext *ctx = module.getContext();
  registerBuiltinDialectTranslation(*ctx);
  registerLLVMDialectTranslation(*ctx);
  registerOpenMPDialectTranslation(*ctx);
  SmallVector<std::unique_ptr<llvm::LLVMContext>> contexts;
  SmallVector<std::unique_ptr<llvm::Module>> modules;
  SmallVector<double> translateSeconds(parts);
  for (unsigned part = 0; part < parts; ++part) {
    auto start = std::chrono::steady_clock::now();
    OwningOpRef<ModuleOp> copy(module.clone());
    copy->walk([&](LLVM::LLVMFuncOp func) {
      if (isPublicDefinition(func) && partOf.lookup(func.getName()) != part) {
        func.getBody().dropAllReferences();
        func.getBody().getBlocks().clear();
      }
    });
    // Public globals (the model table) are defined once, in the first part;
    // the private ones they refer to are dropped as unused elsewhere.
    if (part != 0)
      copy->walk([&](LLVM::GlobalOp global) {
        if (global.getLinkage() != LLVM::Linkage::External)
          return;
        global.getInitializerRegion().dropAllReferences();
        global.getInitializerRegion().getBlocks().clear();
        global.removeValueAttr();
      });
    contexts.push_back(std::make_unique<llvm::LLVMContext>());
    modules.push_back(mlir::translateModuleToLLVMIR(*copy, *contexts.back()));
    if (!modules.back())
      return llvm::createStringError("translation to LLVM IR failed");
    translateSeconds[part] =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
            .count();
  }
  if (completeFirst)
    if (llvm::Error error = completeFirst(*modules.front()))
      return std::move(error);

  // Optimization: independent LLVM contexts, one thread each. Then code
  // generation of each part in `parts` pieces (splitForCodegen), queued on
  // the same threads as soon as their part is optimized.
  SmallVector<std::string> errors(parts);
  SmallVector<double> optimizeSeconds(parts), codegenSeconds(parts);
  SmallVector<SmallVector<CodegenPiece>> partPieces(parts);
  SmallVector<SmallVector<SmallString<0>>> pieceObjects(parts);
  llvm::StdThreadPool pool(
      llvm::hardware_concurrency(std::max(parts, piecesPerPart)));
  std::mutex mutex;
  auto generate = [&](unsigned part, unsigned piece) {
    auto start = std::chrono::steady_clock::now();
    llvm::raw_svector_ostream os(pieceObjects[part][piece]);
    llvm::Error error =
        emitObjectFile(*partPieces[part][piece].second, os, options);
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
            .count();
    std::lock_guard<std::mutex> lock(mutex);
    codegenSeconds[part] += seconds;
    if (error)
      errors[part] = llvm::toString(std::move(error));
  };
  auto optimizePart = [&](unsigned part) {
    auto start = std::chrono::steady_clock::now();
    llvm::Error error = optimizeForTarget(*modules[part], options);
    if (!error && piecesPerPart == 1) {
      partPieces[part].emplace_back(std::move(contexts[part]),
                                    std::move(modules[part]));
    } else if (!error) {
      auto split = splitForCodegen(*modules[part], piecesPerPart,
                                   ("dlc.part" + Twine(part) + ".").str());
      if (split)
        partPieces[part] = std::move(*split);
      else
        error = split.takeError();
    }
    optimizeSeconds[part] =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
            .count();
    if (error) {
      std::lock_guard<std::mutex> lock(mutex);
      errors[part] = llvm::toString(std::move(error));
      return;
    }
    modules[part].reset();
    contexts[part].reset();
    pieceObjects[part].resize(partPieces[part].size());
    for (unsigned piece = 0; piece < partPieces[part].size(); ++piece)
      pool.async([&generate, part, piece] { generate(part, piece); });
  };
  for (unsigned part = 0; part < parts; ++part)
    pool.async([&optimizePart, part] { optimizePart(part); });
  pool.wait();
  SmallVector<SmallString<0>> objects;
  for (auto &partObjects : pieceObjects)
    for (SmallString<0> &object : partObjects)
      objects.push_back(std::move(object));
  if (options.printTimes)
    for (unsigned part = 0; part < parts; ++part)
      llvm::errs() << llvm::formatv(
          "dlc:   object {0}: translate {1,7:F1} ms, LLVM opt {2,7:F1} ms "
          "(split included), codegen {3,7:F1} ms in {4} pieces\n",
          part, 1e3 * translateSeconds[part], 1e3 * optimizeSeconds[part],
          1e3 * codegenSeconds[part], partPieces[part].size());
  for (const std::string &error : errors)
    if (!error.empty())
      return llvm::createStringError(error);
  return objects;
}

llvm::Error mlir::dlc::compileToObjectFile(ModuleOp module,
                                           llvm::raw_pwrite_stream &os,
                                           const CPUPipelineOptions &options) {
  if (failed(lowerToLinalg(module)))
    return llvm::createStringError("lowering to linalg failed");
  if (failed(lowerToLLVMDialect(module, options)))
    return llvm::createStringError("lowering to the LLVM dialect failed");
  llvm::LLVMContext llvmContext;
  std::unique_ptr<llvm::Module> llvmModule =
      translateToLLVMIR(module, llvmContext, options);
  if (!llvmModule)
    return llvm::createStringError("translation to LLVM IR failed");
  return emitObjectFile(*llvmModule, os, options);
}
