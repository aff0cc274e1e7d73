//===- ImportFuzzTest.cpp - The importer survives malformed model files ---===//
//
// Feeds the importer thousands of deterministic mutations (truncations, byte
// flips, deleted and duplicated ranges, inserted YAML/JSON tokens, swapped
// lines) of the example model files. Whatever the input, the importer must
// return, either with a module that verifies and no error, or with no module
// and at least one error located in the model file. A crash fails the test
// (the signal handler prints the input that caused it); a watchdog aborts on
// a hang.
//
//===----------------------------------------------------------------------===//

#include "dlc/Import/Import.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Signals.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

#include "gtest/gtest.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <random>
#include <thread>

using namespace mlir;

#ifndef DLC_FUZZ_SEED
#define DLC_FUZZ_SEED 20261127
#endif

namespace {

/// Every example model, the seeds of the mutations.
std::vector<std::string> readExamples() {
  std::vector<std::string> texts;
  std::error_code ec;
  SmallString<256> root(DLC_SOURCE_DIR);
  llvm::sys::path::append(root, "examples");
  for (llvm::sys::fs::recursive_directory_iterator it(root, ec), end;
       it != end && !ec; it.increment(ec)) {
    StringRef path = it->path();
    if (!path.ends_with(".yaml") && !path.ends_with(".json"))
      continue;
    auto buffer = llvm::MemoryBuffer::getFile(path);
    if (buffer)
      texts.push_back((*buffer)->getBuffer().str());
  }
  return texts;
}

/// The input being imported, printed if it crashes the importer.
std::string currentInput;
void printCurrentInput(void *) {
  llvm::errs() << "\n--- importer input that crashed (" << currentInput.size()
               << " bytes) ---\n"
               << currentInput << "\n--- end of input ---\n";
}

/// Imports `text` and checks the contract; returns whether it imported.
class Importer {
public:
  Importer() {
    DialectRegistry registry;
    dlc::registerImportDialects(registry);
    context.appendDialectRegistry(registry);
  }

  bool run(StringRef text) {
    currentInput = text.str();
    llvm::SourceMgr sourceMgr;
    sourceMgr.AddNewSourceBuffer(
        llvm::MemoryBuffer::getMemBufferCopy(text, "model.yaml"),
        llvm::SMLoc());
    unsigned lines = text.count('\n') + 1;
    unsigned errors = 0;
    std::string badLocation;
    ScopedDiagnosticHandler handler(&context, [&](Diagnostic &diag) {
      if (diag.getSeverity() != DiagnosticSeverity::Error)
        return success();
      ++errors;
      // Every error must name model.yaml:line:col within the file.
      auto loc = diag.getLocation()->findInstanceOf<FileLineColLoc>();
      if (!loc || loc.getFilename() != "model.yaml" || loc.getLine() < 1 ||
          loc.getLine() > lines || loc.getColumn() < 1)
        badLocation = diag.str();
      return success();
    });
    OwningOpRef<ModuleOp> module = dlc::importModel(sourceMgr, &context);
    EXPECT_TRUE(badLocation.empty())
        << "error without a location in the file: " << badLocation
        << "\ninput:\n"
        << text.str();
    if (module) {
      EXPECT_EQ(errors, 0u) << "imported despite an error; input:\n"
                            << text.str();
      EXPECT_TRUE(succeeded(verify(*module)));
      return true;
    }
    EXPECT_GE(errors, 1u) << "failed without an error; input:\n" << text.str();
    return false;
  }

private:
  MLIRContext context;
};

/// Tokens that make YAML and JSON, and model files, go wrong in interesting
/// ways.
constexpr const char *kTokens[] = {
    ":",
    ": ",
    "- ",
    "[",
    "]",
    "{",
    "}",
    ",",
    "\"",
    "'",
    "#",
    "&a ",
    "*a",
    "!!str ",
    "? ",
    "|\n",
    ">\n",
    "\n",
    "\t",
    "    ",
    "null",
    "~",
    "true",
    "-1",
    "0",
    "1e309",
    "99999999999999999999",
    "0.5",
    "NaN",
    "\\u0000",
    "---\n",
    "...\n",
    "\xff",
    "\xc3",
    "inputs: [",
    "name: a, ",
    "layers:",
    "class_name",
    "- Add: {}\n",
    "- Conv2D: {filters: 8, kernel_size: 40}\n",
    "[null, 0, 0]",
    "\"inbound_nodes\": [[[\"dense\", 0, 0, {}]]], ",
    "\"keras_history\": [\"conv2d\", 1, 0]"};

/// Applies one random mutation to `text`.
std::string mutateOnce(std::string text, std::mt19937 &rng) {
  auto pick = [&](size_t n) { return n == 0 ? 0 : size_t(rng() % n); };
  size_t size = text.size();
  switch (rng() % 7) {
  case 0: // Truncate.
    return text.substr(0, pick(size + 1));
  case 1: { // Replace a byte, mostly by printable ASCII.
    if (size == 0)
      return text;
    text[pick(size)] = rng() % 4 ? char(32 + rng() % 95) : char(rng() % 256);
    return text;
  }
  case 2: { // Delete a range.
    size_t at = pick(size + 1);
    return text.erase(at, 1 + pick(32));
  }
  case 3: { // Duplicate a range (duplicate keys, layers and names).
    size_t at = pick(size + 1);
    std::string range = text.substr(at, 1 + pick(80));
    return text.insert(at, range);
  }
  case 4: { // Insert a token.
    const char *token = kTokens[pick(std::size(kTokens))];
    return text.insert(pick(size + 1), token);
  }
  case 5: { // Replace a number by a token (out-of-range values, types).
    size_t at = text.find_first_of("0123456789", pick(size + 1));
    if (at == std::string::npos)
      return text;
    size_t end = text.find_first_not_of("0123456789.", at);
    return text.replace(at, end == std::string::npos ? end : end - at,
                        kTokens[pick(std::size(kTokens))]);
  }
  default: { // Swap two lines (reorders layers: cycles, dangling names).
    SmallVector<StringRef> lines;
    StringRef(text).split(lines, '\n');
    if (lines.size() < 2)
      return text;
    std::swap(lines[pick(lines.size())], lines[pick(lines.size())]);
    return llvm::join(lines, "\n");
  }
  }
}

/// Aborts the process if `progress` stops moving for `limit`: a hang.
class Watchdog {
public:
  explicit Watchdog(std::chrono::seconds limit)
      : thread([this, limit] {
          std::unique_lock<std::mutex> lock(mutex);
          uint64_t last = progress.load();
          while (!done) {
            if (wake.wait_for(lock, limit, [this] { return done; }))
              return;
            uint64_t now = progress.load();
            if (now == last) {
              llvm::errs() << "importer hangs on:\n" << currentInput << "\n";
              std::abort();
            }
            last = now;
          }
        }) {}
  ~Watchdog() {
    {
      std::lock_guard<std::mutex> lock(mutex);
      done = true;
    }
    wake.notify_all();
    thread.join();
  }
  void tick() { ++progress; }

private:
  std::atomic<uint64_t> progress{0};
  std::mutex mutex;
  std::condition_variable wake;
  bool done = false;
  std::thread thread;
};

class ImportFuzzTest : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    llvm::sys::PrintStackTraceOnErrorSignal("DLCImportTests");
    llvm::sys::AddSignalHandler(printCurrentInput, nullptr);
  }
};

TEST_F(ImportFuzzTest, ExamplesImport) {
  std::vector<std::string> examples = readExamples();
  ASSERT_GE(examples.size(), 5u)
      << "examples not found under " << DLC_SOURCE_DIR;
  Importer importer;
  for (const std::string &text : examples)
    EXPECT_TRUE(importer.run(text)) << text;
}

TEST_F(ImportFuzzTest, EveryTruncationIsHandled) {
  Importer importer;
  Watchdog watchdog(std::chrono::seconds(20));
  for (const std::string &text : readExamples()) {
    // Every prefix of the small YAML files, a sample of the long JSON ones.
    size_t step = std::max<size_t>(1, text.size() / 600);
    for (size_t length = 0; length < text.size(); length += step) {
      importer.run(StringRef(text).take_front(length));
      watchdog.tick();
    }
  }
}

TEST_F(ImportFuzzTest, MutatedFilesNeverCrash) {
  constexpr int kVariants = 20000;
  std::vector<std::string> examples = readExamples();
  ASSERT_FALSE(examples.empty());
  std::mt19937 rng(DLC_FUZZ_SEED); // Deterministic: failures reproduce.
  Importer importer;
  Watchdog watchdog(std::chrono::seconds(20));
  auto start = std::chrono::steady_clock::now();
  int imported = 0;
  for (int i = 0; i < kVariants; ++i) {
    std::string text = examples[i % examples.size()];
    for (unsigned n = 1 + rng() % 3; n > 0; --n)
      text = mutateOnce(std::move(text), rng);
    imported += importer.run(text);
    watchdog.tick();
  }
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  // Mutations of comments and whitespace still import; most mutations must
  // be caught, else the mutator is not exercising the checks. (Hangs are
  // the watchdog's to catch; the time is printed, never asserted.)
  EXPECT_GT(imported, 0);
  EXPECT_LT(imported, kVariants / 2);
  std::printf("%d of %d mutated files imported, %.1f s\n", imported, kVariants,
              seconds);
}

} // namespace
