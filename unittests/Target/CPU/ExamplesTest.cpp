//===- ExamplesTest.cpp - Every example model's @forward, run and checked -===//
//
// Imports each model file of examples/ (dlc YAML and Keras JSON) at batch 2,
// compiles its @forward through the full CPU pipeline (as imported, and
// after the graph optimizations the dlc driver runs by default), calls it
// on deterministic inputs and parameters, and compares the result with a
// reference interpreter: a walk over the dlc ops of the imported @forward
// that evaluates each one with the naive references of Reference.h. The
// interpreter knows nothing of any particular model, so a new example only
// needs a line in kExamples.
//
// The imported @forward has inference semantics: dropout and augmentation
// layers carry no key (identity; random_crop is the center crop) and batch
// norm uses the running statistics.
//
//===----------------------------------------------------------------------===//

#include "Reference.h"
#include "TestSupport.h"

#include "dlc/Dialect/DLC/IR/DLCOps.h"
#include "dlc/Import/Import.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iterator>
#include <optional>

using namespace dlc::test;
using namespace mlir;

namespace {

/// A model file of examples/ and the name its @forward gets in the test
/// module (a C identifier, also the test's name).
struct Example {
  const char *name;
  const char *path;
};

constexpr Example kExamples[] = {
    {"fashion_mnist_mlp", "examples/fashion_mnist/mlp.yaml"},
    {"fashion_mnist_cnn", "examples/fashion_mnist/cnn.yaml"},
    {"fashion_mnist_cnn_bn", "examples/fashion_mnist/cnn_bn.yaml"},
    {"cifar10_resnet_small", "examples/cifar10/resnet_small.yaml"},
    {"keras_mnist_cnn", "examples/keras/mnist_cnn.json"},
    {"keras_residual_block", "examples/keras/residual_block.json"},
    {"keras_residual_keras2", "examples/keras/residual_keras2.json"},
};
constexpr size_t kNumExamples = std::size(kExamples);

/// Small enough to keep the references (naive loops) fast, larger than one
/// so that batch indexing is exercised.
constexpr int64_t kBatch = 2;

/// The graph optimizations the dlc driver applies before code generation
/// (tools/dlc/dlc.cpp): the compiled code then differs in structure from
/// the imported ops the interpreter walks, which is the point.
constexpr const char *kDriverPasses = "dlc-optimize-steps";

/// A context that can import model files and hold their @forward.
std::unique_ptr<MLIRContext> makeContext() {
  DialectRegistry registry;
  mlir::dlc::registerImportDialects(registry);
  auto context = std::make_unique<MLIRContext>(registry);
  context->loadAllAvailableDialects();
  return context;
}

/// Imports `example` at batch kBatch; fails the test (and returns null) with
/// the importer's diagnostics.
OwningOpRef<ModuleOp> importExample(const Example &example,
                                    MLIRContext &context) {
  std::string path = std::string(DLC_SOURCE_DIR) + "/" + example.path;
  auto buffer = llvm::MemoryBuffer::getFile(path);
  if (!buffer) {
    ADD_FAILURE() << "cannot read " << path;
    return nullptr;
  }
  llvm::SourceMgr sourceMgr;
  sourceMgr.AddNewSourceBuffer(std::move(*buffer), llvm::SMLoc());
  std::string diagnostics;
  ScopedDiagnosticHandler handler(&context, [&](Diagnostic &d) {
    llvm::raw_string_ostream os(diagnostics);
    os << d.getLocation() << ": " << d << "\n";
    return success();
  });
  mlir::dlc::ImportOptions options;
  options.batchSize = kBatch;
  OwningOpRef<ModuleOp> module =
      mlir::dlc::importModel(sourceMgr, &context, options);
  if (!module)
    ADD_FAILURE() << "importing " << path << " failed:\n" << diagnostics;
  return module;
}

func::FuncOp getForward(ModuleOp module) {
  return module.lookupSymbol<func::FuncOp>(mlir::dlc::kForwardFuncName);
}

std::vector<int64_t> shapeOf(Type type) {
  return std::vector<int64_t>(cast<RankedTensorType>(type).getShape());
}

/// Deterministic, well-scaled values for @forward's arguments, derived from
/// the example's index: the input in [0, 1) (the range the runtime's input
/// normalization produces), kernels Glorot-like (fan-in = product of all but
/// the last dimension, for conv HWCF and dense [in, units] alike) so that
/// activations stay of order 1 through deep nets, running variances and
/// gammas in [0.5, 1.5] (a variance must be positive), other vectors in
/// [-0.5, 0.5].
std::vector<HostTensor> makeArguments(func::FuncOp forward, size_t seed) {
  std::mt19937 rng(1234 + seed);
  std::vector<HostTensor> args;
  for (unsigned i = 0; i < forward.getNumArguments(); ++i) {
    std::vector<int64_t> shape = shapeOf(forward.getArgument(i).getType());
    HostTensor t = HostTensor::f32(shape);
    auto name =
        forward.getArgAttrOfType<StringAttr>(i, mlir::dlc::attrs::kName);
    llvm::StringRef weight = name ? name.getValue() : "";
    if (i == 0) {
      t.randomize(rng, 0.0f, 1.0f);
    } else if (shape.size() >= 2) {
      int64_t fanIn = t.numElements() / shape.back();
      float limit = std::sqrt(6.0f / float(fanIn));
      t.randomize(rng, -limit, limit);
    } else if (weight.ends_with("variance") || weight.ends_with("gamma")) {
      t.randomize(rng, 0.5f, 1.5f);
    } else {
      t.randomize(rng, -0.5f, 0.5f);
    }
    args.push_back(std::move(t));
  }
  return args;
}

/// An f32 arith.constant as a host tensor (the ones/zeros gamma/beta of a
/// batch norm without scale/center).
HostTensor constantTensor(arith::ConstantOp op) {
  auto elements = cast<DenseElementsAttr>(op.getValue());
  HostTensor t = HostTensor::f32(shapeOf(op.getType()));
  // (getValues also iterates a splat, repeating its value.)
  llvm::copy(elements.getValues<float>(), t.f().begin());
  return t;
}

/// Evaluates `forward` on `args` op by op with the naive references: the
/// "reference chain of ops" of any imported model. Fails the test (and
/// returns nullopt) on an op it does not know.
std::optional<HostTensor> interpret(func::FuncOp forward,
                                    const std::vector<HostTensor> &args) {
  llvm::DenseMap<Value, HostTensor> values;
  for (auto [arg, tensor] : llvm::zip_equal(forward.getArguments(), args))
    values[arg] = tensor;
  auto in = [&](Value v) -> const HostTensor & {
    auto it = values.find(v);
    assert(it != values.end() && "operand evaluated before its use");
    return it->second;
  };
  auto inOrNull = [&](Value v) -> const HostTensor * {
    return v ? &in(v) : nullptr;
  };
  auto pads4 = [](llvm::ArrayRef<int64_t> p) {
    return std::array<int64_t, 4>{p[0], p[1], p[2], p[3]};
  };
  auto pair = [](llvm::ArrayRef<int64_t> p) {
    return std::array<int64_t, 2>{p[0], p[1]};
  };

  for (Operation &op : forward.getBody().front()) {
    if (auto ret = dyn_cast<func::ReturnOp>(op)) {
      if (ret.getNumOperands() != 1) {
        ADD_FAILURE() << "expected one result of @forward";
        return std::nullopt;
      }
      return in(ret.getOperand(0));
    }
    std::optional<HostTensor> result =
        llvm::TypeSwitch<Operation *, std::optional<HostTensor>>(&op)
            .Case([&](arith::ConstantOp c) { return constantTensor(c); })
            .Case([&](mlir::dlc::Conv2DOp c) {
              ref::Conv2DParams p;
              p.strides = pair(c.getStrides());
              p.dilations = pair(c.getDilations());
              p.pads = pads4(c.getResolvedPads());
              p.groups = c.getGroups();
              return ref::conv2d(in(c.getInput()), in(c.getFilter()),
                                 inOrNull(c.getBias()), p);
            })
            .Case([&](mlir::dlc::DenseOp d) {
              return ref::dense(in(d.getInput()), in(d.getKernel()),
                                inOrNull(d.getBias()));
            })
            .Case([&](mlir::dlc::BiasAddOp b) {
              return ref::biasAdd(in(b.getInput()), in(b.getBias()));
            })
            .Case([&](mlir::dlc::ReluOp r) {
              return ref::map(in(r.getInput()),
                              [](double v) { return v > 0 ? v : 0.0; });
            })
            .Case([&](mlir::dlc::SigmoidOp s) {
              return ref::map(in(s.getInput()), [](double v) {
                return 1.0 / (1.0 + std::exp(-v));
              });
            })
            .Case([&](mlir::dlc::TanhOp t) {
              return ref::map(in(t.getInput()),
                              [](double v) { return std::tanh(v); });
            })
            .Case([&](mlir::dlc::LeakyReluOp l) {
              double alpha = l.getAlphaAttr().getValueAsDouble();
              return ref::map(in(l.getInput()), [alpha](double v) {
                return v >= 0 ? v : alpha * v;
              });
            })
            .Case([&](mlir::dlc::SoftmaxOp s) {
              return ref::softmax(in(s.getInput()), s.getAxis());
            })
            .Case([&](mlir::dlc::MaxPool2DOp p) {
              return ref::maxPool(in(p.getInput()), pair(p.getPoolSize()),
                                  pair(p.getStrides()),
                                  pads4(p.getResolvedPads()));
            })
            .Case([&](mlir::dlc::AvgPool2DOp p) {
              return ref::avgPool(in(p.getInput()), pair(p.getPoolSize()),
                                  pair(p.getStrides()),
                                  pads4(p.getResolvedPads()));
            })
            .Case([&](mlir::dlc::GlobalAvgPoolOp g) {
              return ref::globalAvgPool(in(g.getInput()));
            })
            // Flatten and reshape move no data (row-major): the result type
            // holds the resolved shape.
            .Case([&](mlir::dlc::FlattenOp f) {
              return ref::reshape(in(f.getInput()), shapeOf(f.getType()));
            })
            .Case([&](mlir::dlc::ReshapeOp r) {
              return ref::reshape(in(r.getInput()), shapeOf(r.getType()));
            })
            .Case([&](mlir::dlc::AddOp a) {
              return ref::add(in(a.getLhs()), in(a.getRhs()));
            })
            .Case([&](mlir::dlc::ConcatOp c) {
              std::vector<const HostTensor *> inputs;
              for (Value v : c.getInputs())
                inputs.push_back(&in(v));
              return ref::concat(inputs, c.getAxis());
            })
            .Case([&](mlir::dlc::BatchNormOp b) {
              return ref::batchNorm(
                  in(b.getInput()), in(b.getGamma()), in(b.getBeta()),
                  in(b.getMean()), in(b.getVariance()),
                  float(b.getEpsilonAttr().getValueAsDouble()));
            })
            // Keyless dropout and augmentation: the inference identity, the
            // center crop for random_crop. A key would mean a training
            // forward, which the importer never produces.
            .Case([&](mlir::dlc::DropoutOp d) -> std::optional<HostTensor> {
              if (d.getKey())
                return std::nullopt;
              return in(d.getInput());
            })
            .Case([&](mlir::dlc::RandomFlipOp f) -> std::optional<HostTensor> {
              if (f.getKey())
                return std::nullopt;
              return in(f.getInput());
            })
            .Case([&](mlir::dlc::RandomTranslationOp t)
                      -> std::optional<HostTensor> {
              if (t.getKey())
                return std::nullopt;
              return in(t.getInput());
            })
            .Case([&](mlir::dlc::RandomCropOp c) -> std::optional<HostTensor> {
              if (c.getKey())
                return std::nullopt;
              return ref::randomCrop(in(c.getInput()), nullptr, c.getStream(),
                                     c.getHeight(), c.getWidth());
            })
            .Default([](Operation *) { return std::nullopt; });
    if (!result || op.getNumResults() != 1) {
      ADD_FAILURE() << "the reference interpreter does not handle "
                    << op.getName().getStringRef().str();
      return std::nullopt;
    }
    values[op.getResult(0)] = std::move(*result);
  }
  ADD_FAILURE() << "@forward has no return";
  return std::nullopt;
}

/// One module holding every example's @forward, renamed to the example's
/// name, as MLIR source for compileSource.
std::string combinedSource() {
  std::unique_ptr<MLIRContext> context = makeContext();
  OpBuilder builder(context.get());
  OwningOpRef<ModuleOp> combined = ModuleOp::create(builder.getUnknownLoc());
  builder.setInsertionPointToEnd(combined->getBody());
  for (const Example &example : kExamples) {
    OwningOpRef<ModuleOp> module = importExample(example, *context);
    if (!module)
      continue;
    auto forward =
        cast<func::FuncOp>(builder.clone(*getForward(*module).getOperation()));
    forward.setSymName(example.name);
  }
  std::string source;
  llvm::raw_string_ostream os(source);
  combined->print(os);
  return source;
}

/// The suite's parameter: the example, and whether the driver's graph
/// optimizations ran before code generation.
struct Variant {
  size_t example;
  bool optimized;
};

/// Names a failing case by its example, not by the parameter's bytes.
void PrintTo(const Variant &variant, std::ostream *os) {
  *os << kExamples[variant.example].path
      << (variant.optimized ? " (driver passes)" : " (as imported)");
}

class ExamplesTest : public ::testing::TestWithParam<Variant> {
protected:
  /// Compiling dominates the run time: all forwards of one variant are one
  /// module, compiled once (and cached between ctest's processes).
  static void SetUpTestSuite() {
    std::string source = combinedSource();
    object(false) = compileSource(source);
    object(true) = compileSource(source, {}, kDriverPasses);
  }
  static void TearDownTestSuite() {
    object(false).reset();
    object(true).reset();
  }
  static std::unique_ptr<mlir::dlc::LoadedObject> &object(bool optimized) {
    static std::unique_ptr<mlir::dlc::LoadedObject> compiled[2];
    return compiled[optimized];
  }
};

TEST_P(ExamplesTest, ForwardMatchesReferenceChain) {
  Variant variant = GetParam();
  const Example &example = kExamples[variant.example];
  ASSERT_TRUE(object(variant.optimized)) << "the examples did not compile";
  std::unique_ptr<MLIRContext> context = makeContext();
  OwningOpRef<ModuleOp> module = importExample(example, *context);
  ASSERT_TRUE(module);
  func::FuncOp forward = getForward(*module);
  ASSERT_TRUE(forward);
  ASSERT_EQ(forward.getNumResults(), 1u);

  std::vector<HostTensor> args = makeArguments(forward, variant.example);
  // The reference first: it reads the arguments as the test made them.
  std::optional<HostTensor> expected = interpret(forward, args);
  ASSERT_TRUE(expected);
  HostTensor output =
      HostTensor::f32(shapeOf(forward.getResultTypes()[0]), NAN);
  std::vector<CallArg> callArgs(args.begin(), args.end());
  callArgs.push_back(output);
  call(*object(variant.optimized), example.name, callArgs);
  ASSERT_EQ(output.shape(), expected->shape());

  // The references accumulate in double, the compiled code in float32 in
  // another order (tiled, vectorized, FMA, batch norm folded into the
  // convolution weights): a reduction of n terms differs by O(n * eps)
  // relative to its magnitude, and a dozen layers compound it. 1e-4
  // relative to the output's scale (~800 float32 ulps) leaves room for that
  // and still catches any wrong index, pad or parameter, which moves
  // outputs by O(1).
  double maxRef = 0, maxError = 0;
  for (int64_t k = 0; k < output.numElements(); ++k) {
    maxRef = std::max(maxRef, std::fabs(double(expected->f()[k])));
    double error = std::fabs(double(output.f()[k]) - expected->f()[k]);
    maxError = std::isnan(error) ? INFINITY : std::max(maxError, error);
  }
  double tolerance = 1e-4 * std::max(1.0, maxRef);
  RecordProperty("max_abs_error", std::to_string(maxError));
  RecordProperty("max_abs_reference", std::to_string(maxRef));
  std::printf("[ %-20s ] %s: max|compiled - ref| = %.3g, max|ref| = %.3g\n",
              variant.optimized ? "driver passes" : "as imported", example.name,
              maxError, maxRef);
  EXPECT_LE(maxError, tolerance)
      << allClose(output.f(), expected->f(), 0.0f, 0.0f).message();
}

std::vector<Variant> allVariants() {
  std::vector<Variant> variants;
  for (bool optimized : {false, true})
    for (size_t i = 0; i < kNumExamples; ++i)
      variants.push_back({i, optimized});
  return variants;
}

INSTANTIATE_TEST_SUITE_P(
    Examples, ExamplesTest, ::testing::ValuesIn(allVariants()),
    [](const ::testing::TestParamInfo<Variant> &info) {
      return std::string(kExamples[info.param.example].name) +
             (info.param.optimized ? "_optimized" : "_imported");
    });

} // namespace
