//===- KernelModule.cpp - One gpu.module, math without libdevice ----------===//
//
// dlc-cuda-merge-kernel-modules gathers the outlined kernels into one
// gpu.module (one PTX module, one cubin, loaded once); dlc-cuda-expand-math
// expands math functions into arith so the PTX needs no libdevice.
//
//===----------------------------------------------------------------------===//

#include "dlc/Target/CUDA/Passes.h"

#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/FunctionInterfaces.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/SetVector.h"

namespace mlir::dlc {
#define GEN_PASS_DEF_CUDAMERGEKERNELMODULESPASS
#define GEN_PASS_DEF_CUDAEXPANDMATHPASS
#include "dlc/Target/CUDA/Passes.h.inc"
} // namespace mlir::dlc

using namespace mlir;
using namespace mlir::dlc;

namespace {

constexpr StringLiteral kKernelModule = "dlc_kernels";

/// `kernel`'s attributes (inherent ones included) but its name.
DictionaryAttr attributesButName(gpu::GPUFuncOp kernel) {
  NamedAttrList attrs(kernel->getAttrDictionary());
  attrs.erase(SymbolTable::getSymbolAttrName());
  return attrs.getDictionary(kernel.getContext());
}

/// A hash of what makes two kernels the same (attributes but the name, the
/// body's operations in order), to find the candidates for findEquivalent.
llvm::hash_code kernelHash(gpu::GPUFuncOp kernel) {
  llvm::hash_code hash = hash_value(attributesButName(kernel));
  kernel.getBody().walk([&](Operation *op) {
    hash =
        llvm::hash_combine(hash, OperationEquivalence::computeHash(
                                     op, OperationEquivalence::ignoreHashValue,
                                     OperationEquivalence::ignoreHashValue,
                                     OperationEquivalence::IgnoreLocations));
  });
  return hash;
}

/// The kernel of `candidates` that computes exactly what `kernel` does
/// (same attributes but the name, structurally equal bodies), or null.
gpu::GPUFuncOp findEquivalent(gpu::GPUFuncOp kernel,
                              ArrayRef<gpu::GPUFuncOp> candidates) {
  DictionaryAttr attrs = attributesButName(kernel);
  for (gpu::GPUFuncOp candidate : candidates)
    if (attributesButName(candidate) == attrs &&
        OperationEquivalence::isRegionEquivalentTo(
            &kernel.getBody(), &candidate.getBody(),
            OperationEquivalence::IgnoreLocations))
      return candidate;
  return nullptr;
}

/// The size of a kernel, as the NVVM conversion and the NVPTX backend see
/// it: its operations.
int64_t kernelCost(Operation *op) {
  int64_t count = 0;
  op->walk([&](Operation *) { ++count; });
  return count;
}

struct MergeKernelModulesPass
    : public dlc::impl::CUDAMergeKernelModulesPassBase<MergeKernelModulesPass> {
  using CUDAMergeKernelModulesPassBase::CUDAMergeKernelModulesPassBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<gpu::GPUModuleOp> sources(module.getOps<gpu::GPUModuleOp>());
    if (sources.empty())
      return;
    if (modules < 1) {
      module.emitError("dlc-cuda-merge-kernel-modules: modules must be >= 1, "
                       "got ")
          << static_cast<int64_t>(modules);
      return signalPassFailure();
    }
    OpBuilder b = OpBuilder::atBlockEnd(module.getBody());
    auto merged = gpu::GPUModuleOp::create(b, module.getLoc(), kKernelModule);
    SymbolTable mergedSymbols(merged);
    // Outlining names each kernel after its function in a module of its
    // own, so names repeat across modules: insert() renames, and the
    // launches follow the new names.
    llvm::DenseMap<std::pair<StringAttr, StringAttr>, StringAttr> renamed;
    // A kernel identical to one already moved (the forward convolutions of
    // @predict, @eval_step, @features and @train_step, the same elementwise
    // pass at two places) is dropped and its launches go to the first:
    // resnet_small's 457 kernels are 192 distinct ones, and NVVM, the
    // NVPTX backend and ptxas then compile 2.6x less code.
    llvm::DenseMap<llvm::hash_code, SmallVector<gpu::GPUFuncOp>> kept;
    for (gpu::GPUModuleOp source : sources) {
      for (Operation &op :
           llvm::make_early_inc_range(source.getBody()->without_terminator())) {
        auto oldName = SymbolTable::getSymbolName(&op);
        auto kernel = dyn_cast<gpu::GPUFuncOp>(&op);
        if (kernel) {
          llvm::hash_code key = kernelHash(kernel);
          gpu::GPUFuncOp same = findEquivalent(kernel, kept[key]);
          if (same) {
            renamed[{source.getNameAttr(), oldName}] = same.getNameAttr();
            op.erase();
            continue;
          }
          op.remove();
          renamed[{source.getNameAttr(), oldName}] = mergedSymbols.insert(&op);
          kept[key].push_back(kernel);
          continue;
        }
        op.remove();
        renamed[{source.getNameAttr(), oldName}] = mergedSymbols.insert(&op);
      }
    }
    renameSharedKernels(module, mergedSymbols, renamed);
    WalkResult walk = module.walk([&](gpu::LaunchFuncOp launch) {
      StringAttr name = renamed.lookup(
          {launch.getKernelModuleName(), launch.getKernelName()});
      if (!name) {
        launch.emitOpError("launches a kernel outside the outlined modules");
        return WalkResult::interrupt();
      }
      launch.setKernelAttr(SymbolRefAttr::get(b.getStringAttr(kKernelModule),
                                              {FlatSymbolRefAttr::get(name)}));
      return WalkResult::advance();
    });
    if (walk.wasInterrupted())
      return signalPassFailure();
    for (gpu::GPUModuleOp source : sources)
      source.erase();
    if (modules > 1)
      split(merged, b);
  }

  /// A kernel that several functions launch (the forward convolutions of
  /// @predict, @eval_step and @train_step after the dedupe) is named after
  /// the first of them, so a profile would show train_step's forward conv
  /// as `predict_conv_...`: it becomes `shared_<op>` (the name without that
  /// function's prefix, made unique).
  static void renameSharedKernels(
      ModuleOp module, SymbolTable &symbols,
      llvm::DenseMap<std::pair<StringAttr, StringAttr>, StringAttr> &renamed) {
    llvm::MapVector<StringAttr, llvm::SetVector<StringRef>> launchers;
    module.walk([&](gpu::LaunchFuncOp launch) {
      StringAttr name = renamed.lookup(
          {launch.getKernelModuleName(), launch.getKernelName()});
      auto fn = launch->getParentOfType<FunctionOpInterface>();
      if (name && fn)
        launchers[name].insert(fn.getName());
    });
    llvm::DenseMap<StringAttr, StringAttr> newNames;
    for (auto &[name, functions] : launchers) {
      if (functions.size() < 2)
        continue;
      StringRef base = name.getValue();
      for (StringRef fn : functions)
        if (base.starts_with(fn) &&
            base.drop_front(fn.size()).starts_with("_")) {
          base = base.drop_front(fn.size() + 1);
          break;
        }
      std::string candidate = ("shared_" + base).str();
      for (unsigned n = 0; symbols.lookup(candidate); ++n)
        candidate = ("shared_" + base + "_" + Twine(n)).str();
      StringAttr newName = StringAttr::get(module.getContext(), candidate);
      if (failed(symbols.rename(symbols.lookup(name), newName)))
        continue;
      newNames[name] = newName;
    }
    for (auto &[key, name] : renamed)
      if (StringAttr newName = newNames.lookup(name))
        name = newName;
  }

  /// Spreads the kernels of `merged` over `modules` gpu.modules (fewer if
  /// there are fewer kernels), largest first into the lightest, and points
  /// the launches at them. Other symbols of the module (none today) would
  /// have to be in every part: then it stays whole.
  void split(gpu::GPUModuleOp merged, OpBuilder &b) {
    SmallVector<gpu::GPUFuncOp> kernels;
    for (Operation &op : merged.getBody()->without_terminator()) {
      auto kernel = dyn_cast<gpu::GPUFuncOp>(&op);
      if (!kernel)
        return;
      kernels.push_back(kernel);
    }
    int64_t parts = std::min<int64_t>(modules, kernels.size());
    if (parts < 2)
      return;
    SmallVector<std::pair<int64_t, gpu::GPUFuncOp>> bySize;
    for (gpu::GPUFuncOp kernel : kernels)
      bySize.push_back({kernelCost(kernel), kernel});
    // Stable: equal sizes keep the kernels' order, so the split is the same
    // on every run.
    llvm::stable_sort(bySize,
                      [](auto &x, auto &y) { return x.first > y.first; });
    SmallVector<gpu::GPUModuleOp> targets;
    SmallVector<int64_t> load(parts, 0);
    b.setInsertionPoint(merged);
    for (int64_t i = 0; i < parts; ++i) {
      auto part = gpu::GPUModuleOp::create(
          b, merged.getLoc(), (Twine(kKernelModule) + "_" + Twine(i)).str());
      part->setAttrs(merged->getAttrs());
      SymbolTable::setSymbolName(part,
                                 (Twine(kKernelModule) + "_" + Twine(i)).str());
      targets.push_back(part);
    }
    llvm::DenseMap<StringAttr, StringAttr> moduleOf;
    for (auto &[cost, kernel] : bySize) {
      int64_t lightest =
          std::min_element(load.begin(), load.end()) - load.begin();
      load[lightest] += cost;
      Block *body = targets[lightest].getBody();
      kernel->moveBefore(body, body->end());
      moduleOf[kernel.getNameAttr()] = targets[lightest].getNameAttr();
    }
    getOperation().walk([&](gpu::LaunchFuncOp launch) {
      StringAttr part = moduleOf.lookup(launch.getKernelName());
      launch.setKernelAttr(SymbolRefAttr::get(
          part, {FlatSymbolRefAttr::get(launch.getKernelName())}));
    });
    merged.erase();
  }
};

struct ExpandMathPass
    : public dlc::impl::CUDAExpandMathPassBase<ExpandMathPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    // powf, tanh, ... into exp/log; then exp, log, erf, ... into
    // polynomials. sqrt and rsqrt have NVPTX instructions and are kept.
    math::populateExpansionPatterns(patterns);
    populateMathPolynomialApproximationPatterns(patterns, [](StringRef name) {
      return name != "sqrt" && name != "rsqrt";
    });
    populateMathF32ExpansionPatterns(patterns, [](StringRef name) {
      return name != "sqrt" && name != "rsqrt";
    });
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace
