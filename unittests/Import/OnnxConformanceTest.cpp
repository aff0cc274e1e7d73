//===- OnnxConformanceTest.cpp - ONNX's backend tests through dlc ---------===//
//
// Runs ONNX's own backend test data (Debian's libonnx-testdata) for the ops
// dlc imports: every selected test's model.onnx is imported in function
// mode (graph inputs become arguments), all of them are compiled as one
// module through the full CPU pipeline (one compile: compile time dominates),
// then each test is called on its input_*.pb and compared with its
// output_*.pb. Inputs and outputs are converted between ONNX's layout and
// dlc's on the host with the layouts the importer reports.
//
// Also runs dlc's own tests in the same format (test/Import/onnx/
// training-ops: ONNX's training operators after the first step, with the
// expected outputs of ONNX's reference implementation), as suite
// "training-ops".
//
// Prints a table: passed / FAILED / not supported (with the importer's
// reason) per test. Fails if any supported test fails, if one of the tests
// issue 14 names explicitly does not pass, or if fewer tests pass than the
// floor below (a test that silently stopped running is a regression too).
// SKIPPED where the test data is not installed.
//
//===----------------------------------------------------------------------===//

#include "TestSupport.h"

#include "dlc/Import/Onnx.h"
#include "dlc/InitAll.h"

#include "../../lib/Import/OnnxTensor.h"

#include "onnx/onnx_pb.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <cstdlib>
#include <map>
#include <regex>
#include <set>

using namespace mlir;
using ::dlc::test::allClose;
using ::dlc::test::call;
using ::dlc::test::CallArg;
using ::dlc::test::compileSource;
using ::dlc::test::HostTensor;
namespace oi = mlir::dlc::onnximport;

#ifndef DLC_ONNX_TESTDATA_DIR
#define DLC_ONNX_TESTDATA_DIR "/usr/share/libonnx-testdata/data"
#endif

namespace {

/// Tests that pass today: fewer means a test stopped running.
constexpr int kPassedFloor = 141;

/// Tests that issue 14 names one by one, and those of the ONNX training
/// operators and of count_include_pad with padding: each must pass.
constexpr const char *kRequired[] = {
    "node/test_momentum",
    "node/test_nesterov_momentum",
    "node/test_adam",
    "node/test_momentum_multiple",
    "node/test_matmul_2d",
    "node/test_relu",
    "node/test_dropout_default",
    "node/test_batchnorm_epsilon_training_mode",
    "node/test_averagepool_2d_pads_count_include_pad",
    "node/test_averagepool_2d_precomputed_pads_count_include_pad",
    "node/test_maxpool_2d_pads",
    "node/test_maxpool_2d_same_lower",
    "node/test_averagepool_2d_pads",
    "node/test_averagepool_2d_same_lower",
    "training-ops/test_adam_t3",
    "training-ops/test_momentum_t3",
};

/// The tests of the ops dlc imports (issue 14): node tests by prefix, and
/// the pytorch-converted / pytorch-operator tests of the same ops. Not
/// test_adam_multiple: its model.onnx (libonnx-testdata 1.12) lacks the
/// epsilon (1e-2) its expected outputs were computed with, a known ONNX bug
/// (onnx/onnx#7749, fixed by #7763); on the model as stored, ONNX's
/// reference implementation gives what dlc gives. training-ops'
/// test_adam_post_multiple_t7 tests several tensors per Adam node instead.
bool isSelected(llvm::StringRef suite, llvm::StringRef name) {
  static const std::regex node(
      "test_(conv_.*|maxpool_2d_.*|averagepool_2d_.*|globalaveragepool.*|"
      "batchnorm_.*|relu|leakyrelu.*|sigmoid.*|tanh.*|softmax.*|gemm_.*|"
      "matmul_2d|add.*|concat_.*|flatten_.*|reshape_.*|dropout_default.*|"
      "sce_.*|momentum.*|nesterov_momentum|adam)");
  static const std::regex converted(
      "test_(AvgPool[12]d.*|BatchNorm.*|Conv1d.*|Conv2d.*|LeakyReLU.*|Linear.*|"
      "MaxPool[12]d.*|ReLU|Sigmoid|Softmax|Tanh|softmax_.*)");
  static const std::regex op("test_operator_(add.*|addmm|concat2|conv|"
                             "flatten|maxpool|mm|view|basic|params)");
  std::string n = name.str();
  if (suite == "node")
    return std::regex_match(n, node) &&
           // Softmax cross-entropy without class weights.
           !(name.starts_with("test_sce_") && name.contains("weight"));
  if (suite == "pytorch-converted")
    return std::regex_match(n, converted);
  if (suite == "training-ops")
    return name.starts_with("test_");
  return std::regex_match(n, op);
}

struct Case {
  std::string suite, name, dir, symbol;
  mlir::dlc::OnnxSignature signature;
  std::string status = "not supported";
  std::string detail;
  /// Indices of the test inputs given to the importer as constants.
  std::set<size_t> constantInputs;
};

/// The graph inputs that dlc needs as constants (it compiles static
/// shapes): a Reshape's shape, a Dropout's ratio and training_mode. The
/// test's first data set gives their values.
std::map<std::string, std::string>
constantInputsOf(const std::string &modelPath, const std::string &dataDir,
                 std::set<size_t> &indices) {
  std::map<std::string, std::string> constants;
  auto buffer = llvm::MemoryBuffer::getFile(modelPath);
  onnx::ModelProto model;
  if (!buffer || !model.ParseFromArray((*buffer)->getBufferStart(),
                                       int((*buffer)->getBufferSize())))
    return constants;
  std::set<std::string> initializers, wanted;
  for (const onnx::TensorProto &t : model.graph().initializer())
    initializers.insert(t.name());
  for (const onnx::NodeProto &n : model.graph().node())
    for (int i = 0; i < n.input_size(); ++i)
      if ((n.op_type() == "Reshape" && i == 1) ||
          (n.op_type() == "Dropout" && i >= 1))
        wanted.insert(n.input(i));
  size_t index = 0;
  for (const onnx::ValueInfoProto &in : model.graph().input()) {
    if (initializers.count(in.name()))
      continue;
    if (wanted.count(in.name())) {
      auto data = llvm::MemoryBuffer::getFile(dataDir + "/input_" +
                                              std::to_string(index) + ".pb");
      if (data) {
        constants[in.name()] = (*data)->getBuffer().str();
        indices.insert(index);
      }
    }
    ++index;
  }
  return constants;
}

/// Reads one .pb TensorProto.
bool readTensor(const std::string &path, oi::HostTensor &out,
                std::string &error) {
  auto buffer = llvm::MemoryBuffer::getFile(path);
  if (!buffer) {
    error = "cannot read " + path;
    return false;
  }
  onnx::TensorProto proto;
  if (!proto.ParseFromArray((*buffer)->getBufferStart(),
                            int((*buffer)->getBufferSize()))) {
    error = path + " is not a TensorProto";
    return false;
  }
  error = oi::readTensorProto(proto, out);
  return error.empty();
}

std::vector<std::string> listSorted(const std::string &dir,
                                    llvm::StringRef prefix) {
  std::vector<std::string> paths;
  std::error_code ec;
  for (llvm::sys::fs::directory_iterator it(dir, ec), end; it != end && !ec;
       it.increment(ec))
    if (llvm::sys::path::filename(it->path()).starts_with(prefix))
      paths.push_back(it->path());
  // input_0.pb ... input_10.pb: by index, not by name.
  std::sort(paths.begin(), paths.end(), [](const auto &a, const auto &b) {
    return a.size() != b.size() ? a.size() < b.size() : a < b;
  });
  return paths;
}

/// Runs one data set of a compiled case; "" when it matches.
std::string runDataSet(mlir::dlc::LoadedObject &object, Case &c,
                       const std::string &dataDir) {
  std::vector<std::string> inputs = listSorted(dataDir, "input_");
  std::vector<std::string> outputs = listSorted(dataDir, "output_");
  std::vector<std::string> kept;
  for (size_t i = 0; i < inputs.size(); ++i)
    if (!c.constantInputs.count(i))
      kept.push_back(inputs[i]);
  inputs = kept;
  if (inputs.size() != c.signature.args.size())
    return llvm::formatv("{0} inputs for {1} arguments", inputs.size(),
                         c.signature.args.size());
  if (outputs.size() != c.signature.results.size())
    return llvm::formatv("{0} outputs for {1} results", outputs.size(),
                         c.signature.results.size());
  std::vector<HostTensor> tensors;
  tensors.reserve(inputs.size() + outputs.size());
  std::string error;
  for (auto [path, layout] : llvm::zip(inputs, c.signature.args)) {
    oi::HostTensor t;
    if (!readTensor(path, t, error))
      return error;
    if (oi::numElements(t.shape) != oi::numElements(layout.onnxShape))
      return llvm::formatv("{0} has {1} elements, the model expects {2}", path,
                           oi::numElements(t.shape),
                           oi::numElements(layout.onnxShape));
    oi::Shape dlcShape = oi::Layout{layout.base, layout.perm}.permutedShape();
    std::vector<int64_t> shape(dlcShape.begin(), dlcShape.end());
    if (t.isInt) {
      HostTensor h = HostTensor::i32(shape);
      for (int64_t k = 0; k < t.size(); ++k)
        h.i()[k] = int32_t(t.i[k]);
      tensors.push_back(std::move(h));
    } else {
      HostTensor h = HostTensor::f32(shape);
      h.f() = oi::permuteData(t, layout.base, layout.perm);
      tensors.push_back(std::move(h));
    }
  }
  std::vector<oi::HostTensor> expected;
  for (auto [path, layout] : llvm::zip(outputs, c.signature.results)) {
    oi::HostTensor t;
    if (!readTensor(path, t, error))
      return error;
    if (oi::numElements(t.shape) != oi::numElements(layout.onnxShape))
      return "output " + path + " has another size than the model's output";
    // Expected values in dlc's order.
    oi::HostTensor e = oi::HostTensor::floats(
        layout.base, oi::permuteData(t, layout.base, layout.perm));
    expected.push_back(std::move(e));
    oi::Shape dlcShape = oi::Layout{layout.base, layout.perm}.permutedShape();
    tensors.push_back(HostTensor::f32(
        std::vector<int64_t>(dlcShape.begin(), dlcShape.end())));
  }
  std::vector<CallArg> args;
  for (HostTensor &t : tensors)
    args.emplace_back(t);
  call(object, c.symbol, args);
  for (size_t r = 0; r < expected.size(); ++r) {
    const HostTensor &actual = tensors[inputs.size() + r];
    // ONNX's backend tests compare with rtol 1e-3; dlc's exp/tanh are
    // polynomial approximations accurate to a few ulps, hence the atol.
    ::testing::AssertionResult close =
        allClose(actual.f(), expected[r].f, 1e-5f, 1e-3f);
    if (!close)
      return llvm::formatv("output {0}: {1}", r, close.message()).str();
  }
  return "";
}

} // namespace

TEST(OnnxConformance, BackendNodeTests) {
  // DLC_ONNX_TESTDATA overrides the Debian package's directory.
  const char *override = std::getenv("DLC_ONNX_TESTDATA");
  std::string root = override ? override : DLC_ONNX_TESTDATA_DIR;
  if (!llvm::sys::fs::is_directory(root + "/node"))
    GTEST_SKIP() << "ONNX test data not installed (" << root
                 << "; Debian package libonnx-testdata)";

  std::vector<Case> cases;
  for (const char *suite :
       {"node", "pytorch-converted", "pytorch-operator", "training-ops"}) {
    std::string dir = llvm::StringRef(suite) == "training-ops"
                          ? std::string(DLC_ONNX_TRAINING_OPS_DIR) + "/node"
                          : root + "/" + suite;
    std::vector<std::string> names;
    std::error_code ec;
    for (llvm::sys::fs::directory_iterator it(dir, ec), end; it != end && !ec;
         it.increment(ec)) {
      llvm::StringRef name = llvm::sys::path::filename(it->path());
      if (isSelected(suite, name))
        names.push_back(name.str());
    }
    std::sort(names.begin(), names.end());
    for (const std::string &name : names) {
      Case c;
      c.suite = suite;
      c.name = name;
      c.dir = dir + "/" + name;
      std::string symbol = std::string(suite) + "_" + name;
      std::replace_if(
          symbol.begin(), symbol.end(),
          [](char ch) { return !std::isalnum(uint8_t(ch)); }, '_');
      c.symbol = symbol;
      cases.push_back(std::move(c));
    }
  }

  // Import each test; all supported ones go into one module.
  DialectRegistry registry;
  mlir::dlc::registerAllDLCDialects(registry);
  MLIRContext context(registry);
  OwningOpRef<ModuleOp> combined = ModuleOp::create(UnknownLoc::get(&context));
  for (Case &c : cases) {
    llvm::SourceMgr sourceMgr;
    auto buffer = llvm::MemoryBuffer::getFile(c.dir + "/model.onnx");
    if (!buffer) {
      c.detail = "no model.onnx";
      continue;
    }
    sourceMgr.AddNewSourceBuffer(std::move(*buffer), llvm::SMLoc());
    std::string message;
    ScopedDiagnosticHandler capture(&context, [&](Diagnostic &d) {
      if (message.empty())
        message = d.str();
      return success();
    });
    mlir::dlc::OnnxImportOptions options;
    options.functionMode = true;
    std::vector<std::string> sets = listSorted(c.dir, "test_data_set_");
    if (!sets.empty())
      options.constantInputs = constantInputsOf(c.dir + "/model.onnx",
                                                sets.front(), c.constantInputs);
    OwningOpRef<ModuleOp> module =
        mlir::dlc::importOnnxModel(sourceMgr, &context, options, &c.signature);
    if (!module) {
      c.detail = message;
      continue;
    }
    auto forward = module->lookupSymbol<func::FuncOp>("forward");
    forward->remove();
    forward.setName(c.symbol);
    // Argument attributes carry the names only; the function is called
    // directly.
    combined->getBody()->push_back(forward);
    c.status = "compiled";
  }
  std::string source;
  llvm::raw_string_ostream os(source);
  combined->print(os);
  std::unique_ptr<mlir::dlc::LoadedObject> object = compileSource(source);
  ASSERT_TRUE(object) << "the conformance module did not compile";

  int passed = 0, failedCount = 0, unsupported = 0;
  for (Case &c : cases) {
    if (c.status != "compiled") {
      ++unsupported;
      continue;
    }
    std::vector<std::string> sets = listSorted(c.dir, "test_data_set_");
    std::string problem = sets.empty() ? "no test data sets" : "";
    for (const std::string &set : sets)
      if (problem.empty())
        problem = runDataSet(*object, c, set);
    c.status = problem.empty() ? "passed" : "FAILED";
    c.detail = problem;
    (problem.empty() ? passed : failedCount) += 1;
  }

  llvm::outs() << llvm::formatv("\n{0,-20} {1,-52} {2}\n", "suite", "test",
                                "result");
  for (const Case &c : cases) {
    std::string detail = c.detail;
    if (size_t nl = detail.find('\n'); nl != std::string::npos)
      detail.resize(nl);
    llvm::outs() << llvm::formatv("{0,-20} {1,-52} {2}{3}\n", c.suite, c.name,
                                  c.status,
                                  detail.empty() ? "" : ": " + detail);
  }
  llvm::outs() << llvm::formatv(
      "\nONNX conformance: {0} passed, {1} failed, {2} not supported, of {3}\n",
      passed, failedCount, unsupported, cases.size());
  llvm::outs().flush();
  EXPECT_EQ(failedCount, 0) << "supported ONNX tests fail (see the table)";
  for (const Case &c : cases)
    EXPECT_NE(c.status, "FAILED")
        << c.suite << "/" << c.name << ": " << c.detail;
  for (llvm::StringRef required : kRequired) {
    auto it = std::find_if(cases.begin(), cases.end(), [&](const Case &c) {
      return c.suite + "/" + c.name == required;
    });
    ASSERT_NE(it, cases.end()) << required.str() << " is not in the test data";
    EXPECT_EQ(it->status, "passed") << required.str() << ": " << it->detail;
  }
  EXPECT_GE(passed, kPassedFloor) << "fewer ONNX tests pass than before";
}
