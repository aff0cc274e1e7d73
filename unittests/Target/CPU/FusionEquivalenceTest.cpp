//===- FusionEquivalenceTest.cpp - Fused vs unfused whole training steps --===//
//
// The fusions (dlc-fuse-conv-bn-relu, dlc-fold-batch-norm,
// dlc-fuse-softmax-cross-entropy, epilogue and elementwise fusion in the
// CPU pipeline) must not change what a model computes beyond f32 rounding. Each
// example model (examples/fashion_mnist/cnn_bn.yaml,
// examples/cifar10/resnet_small.yaml) is imported once and compiled twice, as
// the dlc driver does by default and with --no-fusion (no dlc fusion pass, no
// epilogue or elementwise fusion in the CPU pipeline), then both programs run
// from identical deterministic weights (det_uniform within the glorot limit,
// gamma 1, running variance 1, everything else 0) on identical synthetic
// batches (four det_uniform batches cycled, labels i % classes, so the loss can
// fall). Dropout and augmentation get the same seed and step on both
// sides, hence the same masks and shifts.
//
// The optimizer is replaced by plain SGD: one update with learning rate 1
// is then `p - g`, so the parameter deltas are the gradients, and the
// optimizer code itself (which the passes do not touch) cannot hide a
// gradient difference the way Adam's sign-like first step would.
//
// Tolerances (observed errors are printed with DLC_TEST_VERBOSE=1):
// * one step: the loss within 1e-5 relative; every gradient (parameter
//   delta) within 1e-4 of its largest magnitude plus 4 ulp of the
//   parameter's largest magnitude (each delta is read back from an f32
//   parameter, which rounds it by half an ulp on each side); every running
//   statistic within 1e-5 * max(1, max|b|). Fused and plain batch norm
//   share their arithmetic, but the CPU schedule accumulates the fused
//   statistics in the convolution's tiles, in another order, and the
//   backward reductions differ in order too.
// * 100 steps: f32 differences grow through the trajectory, so single
//   late steps are not compared; the mean loss of every 10-step window
//   must agree within 2%.
// * eval_step and predict after the 100 steps (running statistics away
//   from 0 and 1, so folding is not trivial): the loss and the logits
//   within 1e-4 of their largest magnitude.
//
//===----------------------------------------------------------------------===//

#include "Golden.h"
#include "TestSupport.h"

#include "dlc/Import/Import.h"
#include "dlc/Runtime/ModelABI.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/SourceMgr.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>

using namespace dlc::test;

namespace {

/// The driver's graph optimizations after dlc-build-train-step, with and
/// without the fusions under test (tools/dlc/dlc.cpp, lowerToStage).
constexpr const char *kUnfusedPasses =
    "dlc-build-train-step,dlc-optimize-steps{fuse-conv-bn-relu=false "
    "fold-batch-norm=false fuse-softmax-cross-entropy=false}";
constexpr const char *kFusedPasses = "dlc-build-train-step,dlc-optimize-steps";

struct ModelCase {
  const char *file; // under examples/
  int64_t batch;
  int64_t classes;
  double inputLow, inputHigh; // the input's range (as the runtime feeds it)
  float learningRate;         // of the 100-step trajectory
};

bool endsWith(const std::string &s, const std::string &suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

/// The model file imported at `batch`, with plain SGD, as MLIR text.
std::string importWithSgd(const std::string &path, int64_t batch) {
  mlir::DialectRegistry registry;
  mlir::dlc::registerImportDialects(registry);
  mlir::MLIRContext context(registry);
  llvm::SourceMgr sourceMgr;
  std::string included;
  if (sourceMgr.AddIncludeFile(path, llvm::SMLoc(), included) == 0) {
    ADD_FAILURE() << "cannot read " << path;
    return "";
  }
  mlir::dlc::ImportOptions options;
  options.batchSize = batch;
  mlir::OwningOpRef<mlir::ModuleOp> module =
      mlir::dlc::importModel(sourceMgr, &context, options);
  if (!module) {
    ADD_FAILURE() << "cannot import " << path;
    return "";
  }
  mlir::Builder b(&context);
  (*module)->setAttr(
      mlir::dlc::attrs::kOptimizer,
      b.getDictionaryAttr(b.getNamedAttr("name", b.getStringAttr("sgd"))));
  std::string text;
  llvm::raw_string_ostream os(text);
  module->print(os);
  return text;
}

HostTensor tensorFor(const dlc_tensor_info &info) {
  std::vector<int64_t> shape(info.shape, info.shape + info.rank);
  return info.dtype == DLC_DTYPE_I32 ? HostTensor::i32(shape)
                                     : HostTensor::f32(shape);
}

/// The training variables (params, opt_state, state) keyed "role:name".
using Variables = std::map<std::string, HostTensor>;

std::string keyOf(const dlc_tensor_info &info) {
  return std::string(info.role) + ":" + info.name;
}

bool isVariable(const dlc_tensor_info &info) {
  std::string role = info.role;
  return role == "param" || role == "opt_state" || role == "state";
}

/// One compiled variant and its entry points from the dlc_model table.
struct Program {
  std::unique_ptr<mlir::dlc::LoadedObject> object;
  const dlc_model_info *model = nullptr;

  const dlc_function_info *function(const char *name) const {
    for (int32_t f = 0; f < model->num_functions; ++f)
      if (std::strcmp(model->functions[f].name, name) == 0)
        return &model->functions[f];
    return nullptr;
  }

  /// Calls `fn` the way the runtime does: variables by role and name,
  /// then the batch and scalars; results that update a variable replace
  /// it, the others (loss, correct, logits) are returned by role.
  std::map<std::string, HostTensor> call(const dlc_function_info &fn,
                                         Variables &vars, HostTensor &x,
                                         HostTensor &labels, int64_t step,
                                         float learningRate) const {
    std::vector<void *> descriptors(fn.num_args + fn.num_results);
    std::vector<int64_t> ints(fn.num_args);
    std::vector<float> floats(fn.num_args);
    std::vector<HostTensor> results;
    std::vector<void *> packed;
    for (int32_t i = 0; i < fn.num_args; ++i) {
      const dlc_tensor_info &a = fn.args[i];
      std::string role = a.role;
      if (a.rank < 0) {
        ints[i] = role == "step" ? step : 7; // seed: any fixed value
        floats[i] = learningRate;
        packed.push_back(a.dtype == DLC_DTYPE_F32
                             ? static_cast<void *>(&floats[i])
                             : static_cast<void *>(&ints[i]));
        continue;
      }
      HostTensor *t = role == "input"    ? &x
                      : role == "labels" ? &labels
                                         : &vars.at(keyOf(a));
      descriptors[i] = t->descriptor();
      packed.push_back(&descriptors[i]);
    }
    results.reserve(fn.num_results);
    for (int32_t i = 0; i < fn.num_results; ++i) {
      results.push_back(tensorFor(fn.results[i]));
      descriptors[fn.num_args + i] = results.back().descriptor();
      packed.push_back(&descriptors[fn.num_args + i]);
    }
    fn.packed(packed.data());
    std::map<std::string, HostTensor> outputs;
    for (int32_t i = 0; i < fn.num_results; ++i) {
      if (isVariable(fn.results[i]))
        vars.at(keyOf(fn.results[i])) = std::move(results[i]);
      else
        outputs.emplace(fn.results[i].role, std::move(results[i]));
    }
    return outputs;
  }
};

Program compile(const std::string &source, bool fused) {
  Program p;
  // The unfused program has no codegen fusion either (dlc --no-fusion).
  mlir::dlc::CPUPipelineOptions options;
  options.fuseElementwise = options.fuseEpilogue = fused;
  p.object =
      compileSource(source, options, fused ? kFusedPasses : kUnfusedPasses);
  if (!p.object)
    return p;
  auto model = p.object->lookup("dlc_model");
  if (!model) {
    ADD_FAILURE() << llvm::toString(model.takeError());
    p.object.reset();
    return p;
  }
  p.model = static_cast<const dlc_model_info *>(*model);
  return p;
}

/// The initial variables of `trainStep`: kernels from det_uniform within
/// the glorot limit (stream = 1-based position among the arguments),
/// gamma and running variance 1, the rest 0.
Variables initialVariables(const dlc_function_info &trainStep) {
  Variables vars;
  for (int32_t i = 0; i < trainStep.num_args; ++i) {
    const dlc_tensor_info &a = trainStep.args[i];
    if (!isVariable(a))
      continue;
    HostTensor t = tensorFor(a);
    std::string name = a.name, role = a.role;
    if (role == "param" && endsWith(name, "kernel")) {
      double limit = glorotLimit(t.shape());
      t.f() = detUniform(i + 1, t.numElements(), -limit, limit);
    } else if (endsWith(name, "gamma") || endsWith(name, "moving_variance")) {
      t.f().assign(t.numElements(), 1.0f);
    }
    vars.emplace(keyOf(a), std::move(t));
  }
  return vars;
}

double maxAbs(const std::vector<float> &v) {
  double m = 0;
  for (float x : v)
    m = std::max(m, double(std::fabs(x)));
  return m;
}

double maxAbsDiff(const std::vector<float> &a, const std::vector<float> &b) {
  double m = 0;
  for (size_t k = 0; k < a.size(); ++k)
    m = std::max(m, std::fabs(double(a[k]) - b[k]));
  return m;
}

bool verbose() { return std::getenv("DLC_TEST_VERBOSE") != nullptr; }

void checkFusedMatchesUnfused(const ModelCase &c) {
  std::string source =
      importWithSgd(std::string(DLC_EXAMPLES_DIR) + "/" + c.file, c.batch);
  ASSERT_FALSE(source.empty());
  Program unfused = compile(source, /*fused=*/false);
  Program fused = compile(source, /*fused=*/true);
  ASSERT_TRUE(unfused.object && fused.object);
  const dlc_function_info *trainA = fused.function("train_step");
  const dlc_function_info *trainB = unfused.function("train_step");
  ASSERT_TRUE(trainA && trainB);

  // Four batches, cycled.
  const dlc_tensor_info *inputInfo = nullptr, *labelsInfo = nullptr;
  for (int32_t i = 0; i < trainB->num_args; ++i) {
    std::string role = trainB->args[i].role;
    if (role == "input")
      inputInfo = &trainB->args[i];
    else if (role == "labels")
      labelsInfo = &trainB->args[i];
  }
  ASSERT_TRUE(inputInfo && labelsInfo);
  std::vector<HostTensor> inputs;
  HostTensor labels = tensorFor(*labelsInfo);
  for (int64_t k = 0; k < labels.numElements(); ++k)
    labels.i()[k] = k % c.classes;
  for (uint64_t s = 0; s < 4; ++s) {
    inputs.push_back(tensorFor(*inputInfo));
    inputs.back().f() = detUniform(100 + s, inputs.back().numElements(),
                                   c.inputLow, c.inputHigh);
  }

  // (a) One step with learning rate 1: deltas are the gradients.
  Variables initial = initialVariables(*trainB);
  Variables varsA = initial, varsB = initial;
  auto outA = fused.call(*trainA, varsA, inputs[0], labels, 0, 1.0f);
  auto outB = unfused.call(*trainB, varsB, inputs[0], labels, 0, 1.0f);
  float lossA = outA.at("loss").f()[0], lossB = outB.at("loss").f()[0];
  EXPECT_LE(std::fabs(lossA - lossB), 1e-5 * std::fabs(lossB))
      << "loss fused " << lossA << ", unfused " << lossB;
  if (verbose())
    std::printf("loss: fused %.7g unfused %.7g\n", lossA, lossB);
  for (auto &[key, before] : initial) {
    const std::vector<float> &a = varsA.at(key).f(), &b = varsB.at(key).f();
    double error, bound;
    if (key.rfind("param:", 0) == 0) {
      std::vector<float> deltaA(a.size()), deltaB(b.size());
      for (size_t k = 0; k < a.size(); ++k) {
        deltaA[k] = before.f()[k] - a[k];
        deltaB[k] = before.f()[k] - b[k];
      }
      error = maxAbsDiff(deltaA, deltaB);
      double ulp = std::ldexp(std::max(maxAbs(before.f()), maxAbs(b)), -23);
      bound = 1e-4 * maxAbs(deltaB) + 4 * ulp;
      if (verbose())
        std::printf("%-40s grad max|a-b| %.3g, max|b| %.3g\n", key.c_str(),
                    error, maxAbs(deltaB));
    } else {
      error = maxAbsDiff(a, b);
      bound = 1e-5 * std::max(1.0, maxAbs(b));
      if (verbose())
        std::printf("%-40s max|a-b| %.3g, max|b| %.3g\n", key.c_str(), error,
                    maxAbs(b));
    }
    EXPECT_LE(error, bound) << key << " after one step";
  }

  // (b) 100 steps from the start: the loss trajectories.
  constexpr int kSteps = 100, kWindow = 10;
  float lr = c.learningRate;
  varsA = initial, varsB = initial;
  std::vector<double> lossesA, lossesB;
  for (int s = 0; s < kSteps; ++s) {
    HostTensor &x = inputs[s % inputs.size()];
    lossesA.push_back(
        fused.call(*trainA, varsA, x, labels, s, lr).at("loss").f()[0]);
    lossesB.push_back(
        unfused.call(*trainB, varsB, x, labels, s, lr).at("loss").f()[0]);
  }
  // The control (verbose runs only): the unfused program with the learning
  // rate 1e-6 relative away shows how far f32-sized perturbations alone
  // move the window means.
  std::vector<double> lossesC;
  if (verbose()) {
    Variables varsC = initial;
    for (int s = 0; s < kSteps; ++s)
      lossesC.push_back(unfused
                            .call(*trainB, varsC, inputs[s % inputs.size()],
                                  labels, s, lr * (1 + 1e-6f))
                            .at("loss")
                            .f()[0]);
  }
  for (int w = 0; w < kSteps / kWindow; ++w) {
    double meanA = 0, meanB = 0, meanC = 0;
    for (int s = w * kWindow; s < (w + 1) * kWindow; ++s) {
      meanA += lossesA[s] / kWindow, meanB += lossesB[s] / kWindow;
      if (!lossesC.empty())
        meanC += lossesC[s] / kWindow;
    }
    EXPECT_LE(std::fabs(meanA - meanB), 0.02 * meanB)
        << "steps " << w * kWindow << ".." << (w + 1) * kWindow - 1
        << ": mean loss fused " << meanA << ", unfused " << meanB;
    if (verbose())
      std::printf("steps %2d..%2d: mean loss fused %.6f unfused %.6f "
                  "(control %.6f)\n",
                  w * kWindow, (w + 1) * kWindow - 1, meanA, meanB, meanC);
  }
  // The trajectory must have moved: a step that changed nothing would
  // pass the comparison trivially.
  EXPECT_LT(lossesB.back(), lossesB.front());

  // (c) Inference on the trained variables (both sides get the unfused
  // ones): eval_step and predict with folded batch norm.
  for (const char *name : {"eval_step", "predict"}) {
    const dlc_function_info *fnA = fused.function(name);
    const dlc_function_info *fnB = unfused.function(name);
    ASSERT_TRUE(fnA && fnB) << name;
    Variables evalA = varsB, evalB = varsB;
    auto resultA = fused.call(*fnA, evalA, inputs[1], labels, 0, 0.0f);
    auto resultB = unfused.call(*fnB, evalB, inputs[1], labels, 0, 0.0f);
    for (auto &[role, b] : resultB) {
      if (b.isInt()) {
        EXPECT_EQ(resultA.at(role).i(), b.i()) << name << " " << role;
        continue;
      }
      double error = maxAbsDiff(resultA.at(role).f(), b.f());
      EXPECT_LE(error, 1e-4 * maxAbs(b.f())) << name << " " << role;
      if (verbose())
        std::printf("%s %s: max|a-b| %.3g, max|b| %.3g\n", name, role.c_str(),
                    error, maxAbs(b.f()));
    }
  }
}

TEST(FusionEquivalence, CnnBn) {
  checkFusedMatchesUnfused(
      {"fashion_mnist/cnn_bn.yaml", 16, 10, 0.0, 1.0, 0.001f});
}

// Strided convolutions, projection shortcuts, residual adds and
// augmentation. With input seed 100 this step once exposed a relu mask
// that flipped between the programs (one element of s2_bn1 within rounding
// of 0, when plain batch norm still used a different variance formula);
// plain and fused batch norm now share their arithmetic (Normalization.cpp).
TEST(FusionEquivalence, ResNetSmall) {
  checkFusedMatchesUnfused(
      {"cifar10/resnet_small.yaml", 8, 10, -2.0, 2.0, 0.01f});
}

} // namespace
