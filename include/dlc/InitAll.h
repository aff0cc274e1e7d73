//===- InitAll.h - Register everything dlc tools need -----------*- C++ -*-===//
//
// One place that lists the dialects and passes dlc-opt and dlc load, so the
// two tools can never disagree on what a pipeline may name.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_INITALL_H
#define DLC_INITALL_H

namespace mlir {
class DialectRegistry;

namespace dlc {

/// Adds the dlc dialect and the upstream dialects (and their external
/// interface models) used by dlc's lowerings to `registry`.
void registerAllDLCDialects(DialectRegistry &registry);

/// Registers dlc's passes and pipelines and the upstream passes dlc uses.
void registerAllDLCPasses();

} // namespace dlc
} // namespace mlir

#endif // DLC_INITALL_H
