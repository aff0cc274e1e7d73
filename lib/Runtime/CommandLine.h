//===- CommandLine.h - Options of training executables ----------*- C++ -*-===//
//
// A small hand-rolled parser instead of llvm::cl: dlcRuntimeMain must be
// callable several times in one process (the tests do), and llvm::cl's
// options are global. Every option is declared once in a table
// (CommandLine.cpp) that also renders --help; the commands that read the
// options are in Commands.cpp.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_LIB_RUNTIME_COMMANDLINE_H
#define DLC_LIB_RUNTIME_COMMANDLINE_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>
#include <optional>
#include <string>

namespace dlc::runtime::cli {

/// The commands; each option lists the commands it belongs to.
enum Command : unsigned {
  Train = 1,
  Evaluate = 2,
  Predict = 4,
  Info = 8,
  Summary = 16,
  Export = 32,
  Gradients = 64,
};

/// The options given on the command line, by name.
struct ParsedArgs {
  Command command;
  llvm::StringMap<std::string> values;
  bool has(llvm::StringRef name) const { return values.count(name); }
  llvm::StringRef get(llvm::StringRef name, llvm::StringRef def = "") const {
    auto it = values.find(name);
    return it == values.end() ? def : llvm::StringRef(it->second);
  }
};
/// A command-line mistake: reported with a hint to --help, exit status 2.
struct UsageError {
  std::string message;
};

/// Parses `args` (the command name first) into `parsed`; a usage error
/// otherwise.
std::optional<UsageError> parseCommandLine(llvm::ArrayRef<std::string> args,
                                           ParsedArgs &parsed);

/// Prints the overview (no command) or a command's options. `modelSummary`
/// is the first line about the model, `modelName` goes into the example.
void printHelp(llvm::raw_ostream &out, llvm::StringRef program,
               llvm::StringRef modelSummary, llvm::StringRef modelName,
               std::optional<Command> command);

/// Typed option values: the option's value, `def` when it is absent. A bad
/// value returns `def` and records a usage error unless one is recorded.
int64_t readInteger(const ParsedArgs &a, llvm::StringRef name, int64_t def,
                    int64_t min, std::optional<UsageError> &usage);
double readNumber(const ParsedArgs &a, llvm::StringRef name, double def,
                  double min, double max, std::optional<UsageError> &usage);

} // namespace dlc::runtime::cli

#endif // DLC_LIB_RUNTIME_COMMANDLINE_H
