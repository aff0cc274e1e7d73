//===- NoMPICommunicator.cpp - createMPICommunicator without MPI ---------===//
//
// Built instead of MPICommunicator.cpp when CMake found no MPI: the
// executable then runs as one process and says why it cannot join a job.
//
//===----------------------------------------------------------------------===//

#include "dlc/Runtime/Communicator.h"

llvm::Expected<std::unique_ptr<dlc::runtime::Communicator>>
dlc::runtime::createMPICommunicator() {
  return llvm::createStringError(
      "this runtime was built without MPI (install libopenmpi-dev and "
      "rebuild dlc) but the program was started by mpirun");
}
