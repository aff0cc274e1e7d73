//===- TrainStepBench.cpp - Fused vs unfused training steps ---------------===//
//
// Compiles the example models (cnn_bn at batch 64, resnet_small at batch
// 128, their model files' batch sizes) as the driver does by default
// ("fused"), with --no-fusion ("unfused": no dlc-fuse-conv-bn-relu,
// dlc-fold-batch-norm or dlc-fuse-softmax-cross-entropy, no epilogue or
// elementwise fusion in the CPU pipeline), and with each fusion turned off
// alone ("-conv-bn-relu", "-softmax-ce", "-epilogue", "-elementwise": what
// that one fusion is worth), and prints
// side by side for each:
//  * the median time of one @train_step and of one @predict (inference on
//    the same batch) on one thread, after warm-up, the variants taking
//    turns step by step;
//  * the bytes of intermediates kept for backward, counted on the dlc IR
//    before lowering: the sizes of the values defined before the loss op
//    of @train_step and used after it other than by the return (the
//    return's forward values are the updated running statistics, which are
//    outputs, not intermediates). Arguments (weights, the batch) are not
//    counted: they exist either way.
// The last line per model is unfused / fused.
// This is a benchmark, not a test: it checks nothing and ctest never runs
// it. Weights are det-random (uniform within a fan-in limit), the batch is
// uniform noise; the timing does not depend on the values.
//
// Usage: dlc-train-bench [--steps N] [--cpu NAME] [--model NAME]
//   --steps  timed steps per variant, round robin (default 10)
//   --model  cnn_bn or resnet_small only
//
//===----------------------------------------------------------------------===//

#include "dlc/Compiler/Compiler.h"
#include "dlc/Import/Import.h"
#include "dlc/InitAll.h"
#include "dlc/Runtime/ModelABI.h"
#include "dlc/Target/CPU/CPUTarget.h"
#include "dlc/Target/CPU/ObjectLoader.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Module.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <random>
#include <string>
#include <vector>

using namespace mlir;

namespace {

/// Which fusions a variant runs (the driver's flags).
struct Fusions {
  const char *name;
  bool convBnRelu, foldBatchNorm, softmaxCrossEntropy, epilogue, elementwise;
};

/// The two variants the comparison is about, then each fusion turned off
/// alone (its share of the gain).
const Fusions kVariants[] = {
    {"unfused", false, false, false, false, false},
    {"fused", true, true, true, true, true},
    {"-conv-bn-relu", false, true, true, true, true},
    {"-softmax-ce", true, true, false, true, true},
    {"-epilogue", true, true, true, false, true},
    {"-elementwise", true, true, true, true, false},
};

struct Variant {
  double stepMs = 0, predictMs = 0;
  int64_t keptBytes = 0;
  int64_t keptValues = 0;
};

/// The bytes of the forward values @train_step keeps for its backward
/// part: results of ops before the loss op with a user after it (other
/// than the return). The loss op is the definition of the result whose
/// dlc.role is "loss".
std::pair<int64_t, int64_t> keptForBackward(func::FuncOp step) {
  Operation *loss = nullptr;
  auto ret = cast<func::ReturnOp>(step.getBody().front().getTerminator());
  for (unsigned i = 0; i < step.getNumResults(); ++i)
    if (auto role = step.getResultAttrOfType<StringAttr>(i, "dlc.role"))
      if (role.getValue() == "loss")
        loss = ret.getOperand(i).getDefiningOp();
  if (!loss)
    return {-1, -1};
  int64_t bytes = 0, values = 0;
  for (Operation &op : step.getBody().front()) {
    if (&op == loss)
      break;
    for (Value v : op.getResults()) {
      bool usedAfter = llvm::any_of(v.getUsers(), [&](Operation *user) {
        return !isa<func::ReturnOp>(user) && loss->isBeforeInBlock(user);
      });
      auto type = dyn_cast<RankedTensorType>(v.getType());
      if (!usedAfter || !type || !type.hasStaticShape())
        continue;
      bytes +=
          type.getNumElements() * ((type.getElementTypeBitWidth() + 7) / 8);
      ++values;
    }
  }
  return {bytes, values};
}

/// Runs the driver's pipeline on `module` (a clone of the imported one),
/// counts the kept bytes, compiles and loads it.
llvm::Expected<std::unique_ptr<dlc::LoadedObject>>
compile(ModuleOp module, const Fusions &fusions,
        dlc::CPUPipelineOptions options, Variant &variant) {
  options.fuseElementwise = fusions.elementwise;
  options.fuseEpilogue = fusions.epilogue;
  dlc::StepOptions steps;
  steps.fusions.convBnRelu = fusions.convBnRelu;
  steps.fusions.foldBatchNorm = fusions.foldBatchNorm;
  steps.fusions.softmaxCrossEntropy = fusions.softmaxCrossEntropy;
  if (failed(dlc::buildSteps(module, steps)))
    return llvm::createStringError("building the steps failed");
  std::tie(variant.keptBytes, variant.keptValues) =
      keptForBackward(module.lookupSymbol<func::FuncOp>("train_step"));

  std::unique_ptr<dlc::Target> target = dlc::createCPUTarget(options);
  if (failed(dlc::lowerToLinalg(module)) ||
      failed(dlc::lowerForTarget(module, *target)))
    return llvm::createStringError("lowering failed");
  llvm::SmallString<0> bytes;
  llvm::raw_svector_ostream os(bytes);
  if (llvm::Error error = target->emit(module, "obj", os))
    return std::move(error);
  return dlc::LoadedObject::load(
      llvm::MemoryBuffer::getMemBufferCopy(bytes, "train_step"));
}

/// One buffer per argument and result of the step, filled once.
struct Buffers {
  std::vector<std::vector<float>> data;
  std::vector<std::vector<int64_t>> descriptors;
  std::vector<void *> descriptorPointers;
  std::vector<int64_t> ints;
  std::vector<float> floats;
  std::vector<void *> packed;

  explicit Buffers(const dlc_function_info &fn) {
    int32_t n = fn.num_args + fn.num_results;
    data.resize(n), descriptors.resize(n), descriptorPointers.resize(n);
    ints.resize(n), floats.resize(n);
    std::mt19937 rng(1);
    for (int32_t i = 0; i < n; ++i) {
      const dlc_tensor_info &t =
          i < fn.num_args ? fn.args[i] : fn.results[i - fn.num_args];
      if (t.rank < 0) {
        ints[i] = 0, floats[i] = 1e-3f;
        packed.push_back(t.dtype == DLC_DTYPE_F32
                             ? static_cast<void *>(&floats[i])
                             : static_cast<void *>(&ints[i]));
        continue;
      }
      int64_t count = 1;
      for (int32_t d = 0; d < t.rank; ++d)
        count *= t.shape[d];
      // i32 tensors (labels) as 0: a valid class; f32 as small noise with
      // positive variances (a fan-in-sized scale keeps activations sane).
      float scale = t.rank >= 2
                        ? 1.0f / std::sqrt(float(count / t.shape[t.rank - 1]))
                        : 0.5f;
      std::uniform_real_distribution<float> uniform(0.5f * scale, scale);
      data[i].resize(count);
      if (t.dtype == DLC_DTYPE_F32)
        for (float &x : data[i])
          x = uniform(rng);
      else
        std::fill(data[i].begin(), data[i].end(), 0.0f); // i32 zero bits
      descriptors[i] = {reinterpret_cast<int64_t>(data[i].data()),
                        reinterpret_cast<int64_t>(data[i].data()), 0};
      descriptors[i].insert(descriptors[i].end(), t.shape, t.shape + t.rank);
      int64_t stride = 1;
      std::vector<int64_t> strides(t.rank);
      for (int32_t d = t.rank - 1; d >= 0; --d)
        strides[d] = stride, stride *= t.shape[d];
      descriptors[i].insert(descriptors[i].end(), strides.begin(),
                            strides.end());
      descriptorPointers[i] = descriptors[i].data();
      packed.push_back(&descriptorPointers[i]);
    }
  }
};

/// One entry point of a loaded object and its buffers.
struct Runner {
  const dlc_function_info *step = nullptr;
  std::unique_ptr<Buffers> buffers;
  std::vector<double> times;

  bool init(dlc::LoadedObject &object, const char *name) {
    auto model = object.lookup("dlc_model");
    if (!model) {
      llvm::consumeError(model.takeError());
      return false;
    }
    const auto *info = static_cast<const dlc_model_info *>(*model);
    for (int32_t f = 0; f < info->num_functions; ++f)
      if (!std::strcmp(info->functions[f].name, name))
        step = &info->functions[f];
    if (!step)
      return false;
    buffers = std::make_unique<Buffers>(*step);
    return true;
  }
  /// One step (repeated calls on the same buffers repeat the same work:
  /// the in-place update changes the values, not the work).
  void run(bool timed) {
    auto start = std::chrono::steady_clock::now();
    step->packed(buffers->packed.data());
    if (timed)
      times.push_back(std::chrono::duration<double, std::milli>(
                          std::chrono::steady_clock::now() - start)
                          .count());
  }
  double median() {
    std::sort(times.begin(), times.end());
    return times[times.size() / 2];
  }
};

} // namespace

int main(int argc, char **argv) {
  int steps = 10;
  std::string only;
  dlc::CPUPipelineOptions options;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--steps") && i + 1 < argc)
      steps = std::max(1, std::atoi(argv[++i]));
    else if (!std::strcmp(argv[i], "--cpu") && i + 1 < argc)
      options.cpu = argv[++i];
    else if (!std::strcmp(argv[i], "--model") && i + 1 < argc)
      only = argv[++i];
    else {
      std::fprintf(stderr,
                   "usage: %s [--steps N] [--cpu NAME] [--model NAME]\n",
                   argv[0]);
      return 2;
    }
  }
#ifdef __GLIBC__
  // As dlc-bench: keep freed intermediates instead of unmapping them and
  // page-faulting them back in on every step.
  mallopt(M_MMAP_THRESHOLD, 1 << 30);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
#endif

  DialectRegistry registry;
  dlc::registerAllDLCDialects(registry);
  dlc::registerImportDialects(registry);
  MLIRContext context(registry);
  context.disableMultithreading();

  struct Model {
    const char *name, *file;
  };
  const Model models[] = {{"cnn_bn", "fashion_mnist/cnn_bn.yaml"},
                          {"resnet_small", "cifar10/resnet_small.yaml"}};
  std::printf("%-14s %-14s %12s %14s %12s %8s\n", "model", "variant",
              "step (ms)", "predict (ms)", "kept (MiB)", "values");
  for (const Model &m : models) {
    if (!only.empty() && only != m.name)
      continue;
    llvm::SourceMgr sourceMgr;
    std::string included;
    std::string path = std::string(DLC_EXAMPLES_DIR) + "/" + m.file;
    if (!sourceMgr.AddIncludeFile(path, llvm::SMLoc(), included)) {
      std::fprintf(stderr, "cannot read %s\n", path.c_str());
      return 1;
    }
    OwningOpRef<ModuleOp> imported = dlc::importModel(sourceMgr, &context);
    if (!imported)
      return 1;
    constexpr size_t kCount = std::size(kVariants);
    Variant variants[kCount];
    std::unique_ptr<dlc::LoadedObject> objects[kCount];
    Runner trains[kCount], predicts[kCount];
    for (size_t v = 0; v < kCount; ++v) {
      OwningOpRef<ModuleOp> module = imported->clone();
      auto object = compile(*module, kVariants[v], options, variants[v]);
      if (!object) {
        llvm::errs() << m.name << ": " << llvm::toString(object.takeError())
                     << "\n";
        return 1;
      }
      objects[v] = std::move(*object);
      if (!trains[v].init(*objects[v], "train_step") ||
          !predicts[v].init(*objects[v], "predict"))
        return 1;
    }
    // Two warm-up steps each, then round robin: a load that comes and goes
    // on the machine hits every variant alike.
    for (int s = 0; s < steps + 2; ++s)
      for (size_t v = 0; v < kCount; ++v) {
        trains[v].run(/*timed=*/s >= 2);
        predicts[v].run(/*timed=*/s >= 2);
      }
    for (size_t v = 0; v < kCount; ++v) {
      variants[v].stepMs = trains[v].median();
      variants[v].predictMs = predicts[v].median();
      std::printf("%-14s %-14s %12.1f %14.1f %12.2f %8lld\n", m.name,
                  kVariants[v].name, variants[v].stepMs, variants[v].predictMs,
                  variants[v].keptBytes / double(1 << 20),
                  (long long)variants[v].keptValues);
    }
    std::printf("%-14s %-14s %11.2fx %13.2fx %11.2fx\n", m.name,
                "unfused/fused", variants[0].stepMs / variants[1].stepMs,
                variants[0].predictMs / variants[1].predictMs,
                double(variants[0].keptBytes) / variants[1].keptBytes);
  }
  return 0;
}
