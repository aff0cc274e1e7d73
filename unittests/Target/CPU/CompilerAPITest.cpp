//===- CompilerAPITest.cpp - The driver-facing API and the C ABI ----------===//
//
// Each stage of the public API (lowerToLinalg, lowerToLLVMDialect,
// translateToLLVMIR, emitObjectFile, emitObjectFilesInParallel) is usable
// on its own, the object
// exports C entry points and needs nothing beyond libc/libm, arguments are
// read-only unless donated, and a donated argument is updated in place.
//
//===----------------------------------------------------------------------===//

#include "TestSupport.h"

#include "dlc/InitAll.h"
#include "dlc/Target/CPU/CPUTarget.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/IR/Constants.h"
#include "llvm/IR/DerivedTypes.h"
#include "llvm/IR/GlobalVariable.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Module.h"
#include "llvm/Object/ObjectFile.h"
#include "llvm/Support/raw_ostream.h"

#include <set>

using namespace dlc::test;

namespace {

constexpr const char *kConvRelu = R"mlir(
func.func @conv_relu(%x: tensor<1x6x6x3xf32>, %w: tensor<3x3x3x8xf32>) -> tensor<1x4x4x8xf32> {
  %c = dlc.conv2d %x, %w : (tensor<1x6x6x3xf32>, tensor<3x3x3x8xf32>) -> tensor<1x4x4x8xf32>
  %y = dlc.relu %c : tensor<1x4x4x8xf32>
  return %y : tensor<1x4x4x8xf32>
}
)mlir";

/// A context with every dialect and interface the pipeline needs.
class CompilerAPITest : public ::testing::Test {
protected:
  CompilerAPITest() : context(makeRegistry()) {}
  static mlir::DialectRegistry makeRegistry() {
    mlir::DialectRegistry registry;
    mlir::dlc::registerAllDLCDialects(registry);
    return registry;
  }
  mlir::OwningOpRef<mlir::ModuleOp> parse(const char *source) {
    return mlir::parseSourceString<mlir::ModuleOp>(source, &context);
  }
  static std::string print(mlir::ModuleOp module) {
    std::string s;
    llvm::raw_string_ostream os(s);
    module.print(os);
    return s;
  }
  mlir::MLIRContext context;
};

TEST_F(CompilerAPITest, EveryStageIsPrintable) {
  auto module = parse(kConvRelu);
  ASSERT_TRUE(module);
  ASSERT_TRUE(mlir::succeeded(mlir::dlc::lowerToLinalg(*module)));
  std::string linalg = print(*module);
  EXPECT_NE(linalg.find("linalg.conv_2d_nhwc_hwcf"), std::string::npos);
  EXPECT_EQ(linalg.find("dlc."), std::string::npos);

  ASSERT_TRUE(mlir::succeeded(mlir::dlc::lowerToLLVMDialect(*module)));
  std::string llvmDialect = print(*module);
  EXPECT_NE(llvmDialect.find("llvm.func @_mlir_ciface_conv_relu"),
            std::string::npos);

  llvm::LLVMContext llvmContext;
  std::unique_ptr<llvm::Module> ir =
      mlir::dlc::translateToLLVMIR(*module, llvmContext);
  ASSERT_TRUE(ir);
  llvm::Function *entry = ir->getFunction("_mlir_ciface_conv_relu");
  ASSERT_TRUE(entry);
  EXPECT_FALSE(entry->isDeclaration());
  EXPECT_EQ(entry->arg_size(), 3u); // x, w, result
  EXPECT_FALSE(ir->getTargetTriple().str().empty());

  llvm::SmallString<0> object;
  llvm::raw_svector_ostream os(object);
  ASSERT_FALSE(bool(mlir::dlc::emitObjectFile(*ir, os)));
  EXPECT_TRUE(object.str().starts_with("\x7f"
                                       "ELF"));
}

/// The global symbols `bytes` (an object file) defines and leaves undefined.
std::pair<std::set<std::string>, std::set<std::string>>
symbolsOf(const llvm::SmallString<0> &bytes) {
  std::set<std::string> defined, undefined;
  auto object = llvm::object::ObjectFile::createObjectFile(
      llvm::MemoryBufferRef(llvm::StringRef(bytes.data(), bytes.size()), "o"));
  if (!object) {
    ADD_FAILURE() << llvm::toString(object.takeError());
    return {};
  }
  for (const llvm::object::SymbolRef &symbol : (*object)->symbols()) {
    auto name = symbol.getName();
    auto flags = symbol.getFlags();
    if (!name || !flags || name->empty())
      continue;
    if (*flags & llvm::object::SymbolRef::SF_Undefined)
      undefined.insert(name->str());
    else if (*flags & llvm::object::SymbolRef::SF_Global)
      defined.insert(name->str());
  }
  return {defined, undefined};
}

TEST_F(CompilerAPITest, ObjectNeedsOnlyLibcAndLibm) {
  // Concatenation (strided copies), softmax (exp), a loss (a 0-D result)
  // and a keyed dropout: the runtime-heavy corners of the lowering.
  auto module = parse(R"mlir(
func.func @mix(%a: tensor<2x3xf32>, %b: tensor<2x5xf32>, %k: i64) -> (tensor<2x8xf32>, tensor<f32>) {
  %c = dlc.concat %a, %b : (tensor<2x3xf32>, tensor<2x5xf32>) -> tensor<2x8xf32>
  %s = dlc.softmax %c : tensor<2x8xf32>
  %d = dlc.dropout %s, %k {rate = 0.5 : f32} : (tensor<2x8xf32>, i64) -> tensor<2x8xf32>
  %t = dlc.tanh %d : tensor<2x8xf32>
  %l = dlc.mse %t, %s : (tensor<2x8xf32>, tensor<2x8xf32>) -> tensor<f32>
  return %t, %l : tensor<2x8xf32>, tensor<f32>
}
)mlir");
  ASSERT_TRUE(module);
  llvm::SmallString<0> bytes;
  llvm::raw_svector_ostream os(bytes);
  ASSERT_FALSE(bool(mlir::dlc::compileToObjectFile(*module, os)));
  auto [defined, undefined] = symbolsOf(bytes);
  EXPECT_TRUE(defined.count("_mlir_ciface_mix"));
  std::set<std::string> libc = {"malloc", "free", "memcpy", "memset", "memmove",
                                "expf",   "logf", "log1pf", "tanhf",  "roundf"};
  for (const std::string &name : undefined)
    EXPECT_TRUE(libc.count(name)) << "unexpected dependency: " << name;
}

TEST_F(CompilerAPITest, ParallelObjectsSplitThePublicFunctions) {
  // Two entry points (each with its C interface wrapper): every public
  // function is defined in exactly one object, the largest (conv_relu) in
  // the first, which also gets what completeFirst adds and refers to the
  // other object's functions as undefined symbols that linking resolves.
  auto module = parse(R"mlir(
func.func @conv_relu(%x: tensor<1x6x6x3xf32>, %w: tensor<3x3x3x8xf32>) -> tensor<1x4x4x8xf32> {
  %c = dlc.conv2d %x, %w : (tensor<1x6x6x3xf32>, tensor<3x3x3x8xf32>) -> tensor<1x4x4x8xf32>
  %y = dlc.relu %c : tensor<1x4x4x8xf32>
  return %y : tensor<1x4x4x8xf32>
}
func.func @relu(%x: tensor<8xf32>) -> tensor<8xf32> {
  %y = dlc.relu %x : tensor<8xf32>
  return %y : tensor<8xf32>
}
)mlir");
  ASSERT_TRUE(module);
  ASSERT_TRUE(mlir::succeeded(mlir::dlc::lowerToLinalg(*module)));
  ASSERT_TRUE(mlir::succeeded(mlir::dlc::lowerToLLVMDialect(*module)));
  auto objects = mlir::dlc::emitObjectFilesInParallel(
      *module, {}, /*parts=*/2, [](llvm::Module &first) -> llvm::Error {
        // A table that names every C entry point, as the model table does.
        auto *ptr = llvm::PointerType::get(first.getContext(), 0);
        std::vector<llvm::Constant *> entries;
        for (const char *name : {"_mlir_ciface_conv_relu", "_mlir_ciface_relu"})
          if (llvm::Function *f = first.getFunction(name))
            entries.push_back(f);
        auto *type = llvm::ArrayType::get(ptr, entries.size());
        new llvm::GlobalVariable(first, type, /*isConstant=*/true,
                                 llvm::GlobalValue::ExternalLinkage,
                                 llvm::ConstantArray::get(type, entries),
                                 "table");
        return llvm::Error::success();
      });
  ASSERT_TRUE(bool(objects)) << llvm::toString(objects.takeError());
  // Each part's code generation runs in pieces (two per part here): the
  // first part's pieces come first.
  ASSERT_EQ(objects->size(), 4u);
  std::vector<std::set<std::string>> defined, undefined;
  for (const auto &object : *objects) {
    auto [d, u] = symbolsOf(object);
    defined.push_back(d), undefined.push_back(u);
  }
  auto definitions = [&](const std::string &name) {
    int count = 0;
    for (const auto &d : defined)
      count += d.count(name);
    return count;
  };
  EXPECT_TRUE(defined[0].count("conv_relu") || defined[1].count("conv_relu"));
  EXPECT_TRUE(defined[0].count("table"));
  EXPECT_EQ(definitions("table"), 1);
  for (const char *name :
       {"conv_relu", "_mlir_ciface_conv_relu", "relu", "_mlir_ciface_relu"}) {
    EXPECT_EQ(definitions(name), 1)
        << name << " must be defined in exactly one object";
    // The table's references to other objects stay undefined in the first.
    if (!defined[0].count(name) && llvm::StringRef(name).starts_with("_mlir"))
      EXPECT_TRUE(undefined[0].count(name)) << name;
  }
  // Every symbol an object needs from dlc's code is defined by one of them
  // (the rest is libc, libm and libomp).
  for (const auto &u : undefined)
    for (const std::string &name : u)
      if (llvm::StringRef(name).starts_with("dlc.") ||
          llvm::StringRef(name).starts_with("_mlir") || name == "relu" ||
          name == "conv_relu")
        EXPECT_EQ(definitions(name), 1) << name;
  EXPECT_FALSE(defined[2].empty() && defined[3].empty());
}

TEST_F(CompilerAPITest, CPUTargetDefinesTheModelTableOnce) {
  // A step function with a description: the target's objects (two parts,
  // as dlc compile makes them) define dlc_model and each packed entry point
  // exactly once between them.
  auto module = parse(R"mlir(
module @m {
  func.func @predict(%x: tensor<2x1x1x4xf32> {dlc.name = "input", dlc.role = "input"},
                     %w: tensor<4x3xf32> {dlc.name = "w", dlc.role = "param"})
      -> (tensor<2x3xf32> {dlc.name = "logits", dlc.role = "logits"}) {
    %f = dlc.flatten %x : (tensor<2x1x1x4xf32>) -> tensor<2x4xf32>
    %y = dlc.matmul %f, %w : (tensor<2x4xf32>, tensor<4x3xf32>) -> tensor<2x3xf32>
    return %y : tensor<2x3xf32>
  }
  func.func @other(%x: tensor<8xf32>) -> tensor<8xf32> {
    %y = dlc.relu %x : tensor<8xf32>
    return %y : tensor<8xf32>
  }
}
)mlir");
  ASSERT_TRUE(module);
  std::unique_ptr<mlir::dlc::Target> target = mlir::dlc::createCPUTarget();
  EXPECT_EQ(target->getName(), "cpu");
  EXPECT_EQ(target->getEmitStages().size(), 2u);
  ASSERT_TRUE(mlir::succeeded(mlir::dlc::lowerToLinalg(*module)));
  ASSERT_TRUE(mlir::succeeded(mlir::dlc::lowerForTarget(*module, *target)));
  auto objects = target->emitObjects(*module);
  ASSERT_TRUE(bool(objects)) << llvm::toString(objects.takeError());
  ASSERT_GE(objects->size(), 2u);
  std::vector<std::set<std::string>> defined;
  for (const auto &object : *objects)
    defined.push_back(symbolsOf(object).first);
  for (const char *name : {"dlc_model", "dlc_packed_predict", "predict"}) {
    size_t count = 0;
    for (const auto &d : defined)
      count += d.count(name);
    EXPECT_EQ(count, 1u) << name;
  }
  EXPECT_TRUE(defined[0].count("dlc_model"));
}

constexpr const char *kCallingConvention = R"mlir(
func.func @relu(%x: tensor<8xf32>) -> tensor<8xf32> {
  %y = dlc.relu %x : tensor<8xf32>
  return %y : tensor<8xf32>
}
func.func @add_donated(%p: tensor<8xf32> {bufferization.writable = true}, %g: tensor<8xf32>) -> tensor<8xf32> {
  %y = dlc.add %p, %g : tensor<8xf32>
  return %y : tensor<8xf32>
}
func.func @add_in_place(%p: tensor<8xf32> {dlc.result = 0 : i64}, %g: tensor<8xf32>) -> tensor<8xf32> {
  %y = dlc.add %p, %g : tensor<8xf32>
  return %y : tensor<8xf32>
}
func.func @add_in_place_then_read(%p: tensor<8xf32> {dlc.result = 0 : i64}, %g: tensor<8xf32>)
    -> (tensor<8xf32>, tensor<f32>) {
  %y = dlc.add %p, %g : tensor<8xf32>
  %l = dlc.mse %y, %p : (tensor<8xf32>, tensor<8xf32>) -> tensor<f32>
  return %y, %l : tensor<8xf32>, tensor<f32>
}
)mlir";

class CallingConventionTest : public ::testing::Test {
protected:
  static void SetUpTestSuite() { object() = compileSource(kCallingConvention); }
  static void TearDownTestSuite() { object().reset(); }
  static std::unique_ptr<mlir::dlc::LoadedObject> &object() {
    static std::unique_ptr<mlir::dlc::LoadedObject> compiled;
    return compiled;
  }
  void SetUp() override {
    ASSERT_TRUE(object());
    p.randomize(rng), g.randomize(rng);
    for (int i = 0; i < 8; ++i)
      sum.push_back(p.f()[i] + g.f()[i]);
  }
  std::mt19937 rng{7};
  HostTensor p = HostTensor::f32({8}), g = HostTensor::f32({8});
  std::vector<float> sum;
};

TEST_F(CallingConventionTest, ArgumentsAreReadOnly) {
  std::vector<float> original = p.f();
  HostTensor y = HostTensor::f32({8}, NAN);
  call(*object(), "relu", {p, y});
  EXPECT_EQ(p.f(), original);
  for (int i = 0; i < 8; ++i)
    EXPECT_EQ(y.f()[i], std::max(original[i], 0.0f));
}

TEST_F(CallingConventionTest, DonatedArgumentKeepsItsResultBuffer) {
  // The function may overwrite a donated argument; the result still goes
  // to its out-parameter.
  HostTensor y = HostTensor::f32({8}, NAN);
  call(*object(), "add_donated", {p, g, y});
  EXPECT_EQ(y.f(), sum);
}

TEST_F(CallingConventionTest, TiedResultIsWrittenInPlace) {
  // No out-parameter: the result lands in the argument's buffer.
  call(*object(), "add_in_place", {p, g});
  EXPECT_EQ(p.f(), sum);
}

TEST_F(CallingConventionTest, TiedResultWaitsForLaterReads) {
  // mse(p + g, p) reads the old p after the sum: the sum cannot be computed
  // in p's buffer directly, yet p must hold it at the end.
  double expected = 0;
  for (float v : g.f())
    expected += double(v) * v / 8;
  HostTensor loss = HostTensor::f32({}, NAN);
  call(*object(), "add_in_place_then_read", {p, g, loss});
  EXPECT_EQ(p.f(), sum);
  EXPECT_NEAR(loss.f()[0], expected, 1e-6);
}

} // namespace
