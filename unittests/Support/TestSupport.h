//===- TestSupport.h - Compile, call and compare in e2e tests ---*- C++ -*-===//
//
// What every e2e numerics test needs: host tensors that carry the memref
// descriptor of dlc's calling convention, compiling MLIR source through the
// full CPU pipeline into the process, calling an entry point with a list of
// tensors and scalars, and comparing against a reference with tolerances.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_UNITTESTS_SUPPORT_TESTSUPPORT_H
#define DLC_UNITTESTS_SUPPORT_TESTSUPPORT_H

#include "dlc/Target/CPU/ObjectLoader.h"

#include "gtest/gtest.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace dlc::test {

/// A row-major host buffer of f32 or i32 with a static shape, and the memref
/// descriptor ({allocated, aligned, offset, sizes[R], strides[R]}) through
/// which compiled code sees it.
class HostTensor {
public:
  static HostTensor f32(std::vector<int64_t> shape, float value = 0.0f);
  static HostTensor i32(std::vector<int64_t> shape, int32_t value = 0);

  const std::vector<int64_t> &shape() const { return dims; }
  int64_t numElements() const;
  bool isInt() const { return isI32; }
  std::vector<float> &f() { return floats; }
  const std::vector<float> &f() const { return floats; }
  std::vector<int32_t> &i() { return ints; }
  const std::vector<int32_t> &i() const { return ints; }

  /// The MLIR type, e.g. "tensor<2x3xf32>".
  std::string type() const;

  /// The descriptor of the current data (rebuilt: the vector may move).
  void *descriptor();

  /// Fills with uniform values in [lo, hi) from `rng`.
  HostTensor &randomize(std::mt19937 &rng, float lo = -1.0f, float hi = 1.0f);

private:
  std::vector<int64_t> dims;
  bool isI32 = false;
  std::vector<float> floats;
  std::vector<int32_t> ints;
  std::vector<int64_t> desc;
};

/// An argument of a compiled entry point: a tensor (by descriptor) or an
/// integer scalar (the i64 key of randomized ops).
struct CallArg {
  CallArg(HostTensor &tensor) : tensor(&tensor) {}
  CallArg(int64_t scalar) : scalar(scalar) {}
  HostTensor *tensor = nullptr;
  int64_t scalar = 0;
};

/// Parses `source` (dlc and/or upstream ops), runs the textual pass
/// pipeline `passes` on it first when not empty (e.g. "dlc-test-vjp" or
/// "dlc-build-train-step"), compiles it in process with the full CPU
/// pipeline and links it. A module with @train_step, @eval_step or @predict
/// also gets the runtime's `dlc_model` table and `dlc_packed_<f>` entry
/// points (dlc/Runtime/ModelABI.h). Fails the current test (and returns
/// null) with the diagnostics when any stage fails.
std::unique_ptr<mlir::dlc::LoadedObject>
compileSource(const std::string &source,
              const mlir::dlc::CPUPipelineOptions &options = {},
              const std::string &passes = "");

/// Calls `_mlir_ciface_<name>` with `args` (arguments then result buffers,
/// see dlc/Target/CPU/CPUTarget.h). Every argument is one integer-class
/// register or stack slot in the C ABI, so one pointer-sized signature per
/// arity (up to 64) serves every entry point.
void call(mlir::dlc::LoadedObject &object, const std::string &name,
          std::vector<CallArg> args);

/// Whether |actual - expected| <= atol + rtol * |expected| everywhere (and
/// both are NaN or neither); the message lists the worst elements.
::testing::AssertionResult allClose(const std::vector<float> &actual,
                                    const std::vector<float> &expected,
                                    float atol, float rtol);

/// "AxBxC" for an MLIR type.
std::string shapeString(const std::vector<int64_t> &shape);

/// One e2e case: a function of the suite's module and how to check it.
struct OpCase {
  /// The test name and the symbol of its function.
  std::string name;
  /// The whole func.func, named @`name`.
  std::string function;
  /// Creates inputs, calls the function, compares with the reference.
  std::function<void(mlir::dlc::LoadedObject &object, const std::string &name)>
      run;
};

/// func.func @name(%a0: argTypes[0], ...) -> (resultTypes...) whose body is
/// `body` (which may use %a0, %a1, ...) followed by a return of `results`.
std::string makeFunction(const std::string &name,
                         const std::vector<std::string> &argTypes,
                         const std::string &body,
                         const std::vector<std::string> &results,
                         const std::vector<std::string> &resultTypes);

/// A parameterized suite over the cases returned by `Cases`: all functions
/// are compiled as one module once per suite (compile time dominates the
/// suite's run time), then each case runs as its own test.
template <std::vector<OpCase> (*Cases)()>
class OpCaseSuite : public ::testing::TestWithParam<size_t> {
public:
  static std::vector<OpCase> &cases() {
    static std::vector<OpCase> all = Cases();
    return all;
  }
  static std::string caseName(const ::testing::TestParamInfo<size_t> &info) {
    return cases()[info.param].name;
  }

protected:
  static void SetUpTestSuite() {
    std::string source;
    for (const OpCase &c : cases())
      source += c.function;
    object() = compileSource(source);
  }
  static void TearDownTestSuite() { object().reset(); }
  static std::unique_ptr<mlir::dlc::LoadedObject> &object() {
    static std::unique_ptr<mlir::dlc::LoadedObject> compiled;
    return compiled;
  }
  void runCase() {
    ASSERT_TRUE(object()) << "the suite's module did not compile";
    const OpCase &c = cases()[GetParam()];
    c.run(*object(), c.name);
  }
};

/// Instantiates `Suite` (an OpCaseSuite) over all its cases.
#define DLC_INSTANTIATE_OP_CASES(Suite)                                        \
  TEST_P(Suite, MatchesReference) { runCase(); }                               \
  INSTANTIATE_TEST_SUITE_P(Grid, Suite,                                        \
                           ::testing::Range<size_t>(0, Suite::cases().size()), \
                           Suite::caseName)

} // namespace dlc::test

#endif // DLC_UNITTESTS_SUPPORT_TESTSUPPORT_H
