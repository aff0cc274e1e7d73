//===- DeviceTest.cpp - Devices and device tensors ------------------------===//
//
// The CPU device (aligned zeroed memory, memcpy copies, zero-copy host
// views), device tensors on a device without host-visible memory, and the
// choice of the device from the model table's code.
//
//===----------------------------------------------------------------------===//

#include "TestDevice.h"
#include "TestUtil.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>

using namespace dlc::runtime;
using namespace dlc::runtime::testing;
using ::testing::HasSubstr;

namespace {

TEST(CPUDeviceTest, AllocatesAlignedZeroedHostMemory) {
  CPUDevice cpu;
  EXPECT_EQ(cpu.getKind(), DeviceKind::CPU);
  EXPECT_EQ(cpu.getName(), "cpu");
  for (size_t bytes : {0, 1, 4, 63, 64, 65, 1000}) {
    llvm::Expected<DeviceBuffer> buffer = cpu.allocate(bytes);
    ASSERT_TRUE(bool(buffer)) << errorMessage(buffer.takeError());
    EXPECT_TRUE(bool(*buffer));
    EXPECT_EQ(buffer->size, bytes);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(buffer->address) % 64, 0u) << bytes;
    // The host addresses CPU device memory directly.
    EXPECT_EQ(cpu.hostAddress(*buffer), buffer->address);
    const uint8_t *p = static_cast<const uint8_t *>(buffer->address);
    EXPECT_TRUE(std::all_of(p, p + bytes, [](uint8_t b) { return b == 0; }));
    cpu.free(*buffer);
  }
}

TEST(CPUDeviceTest, CopiesEveryDirection) {
  CPUDevice cpu;
  DeviceBuffer a = cantFail(cpu.allocate(16)), b = cantFail(cpu.allocate(16));
  const int32_t values[4] = {1, -2, 3, 1 << 30};
  ASSERT_FALSE(cpu.copyToDevice(a, values, sizeof(values)));
  ASSERT_FALSE(cpu.copyOnDevice(b, a, sizeof(values)));
  int32_t back[4] = {};
  ASSERT_FALSE(cpu.copyToHost(back, b, sizeof(back)));
  ASSERT_FALSE(cpu.synchronize());
  EXPECT_EQ(std::memcmp(values, back, sizeof(values)), 0);
  cpu.free(a);
  cpu.free(b);
}

TEST(CPUDeviceTest, DeviceTensorsAreZeroCopy) {
  CountingCPUDevice cpu;
  {
    DeviceTensor t = cantFail(DeviceTensor::allocate(cpu, DType::F32, {3, 5}));
    EXPECT_EQ(t.getSizeInBytes(), 60u);
    EXPECT_EQ(t.hostAddress(), t.getAddress());
    // The host view is the device memory: writes through it are the
    // tensor's values, and uploading it copies nothing.
    Tensor view = t.hostTensor();
    EXPECT_FALSE(view.ownsData());
    EXPECT_EQ(view.data(), t.getAddress());
    view.data<float>()[7] = 2.5f;
    ASSERT_FALSE(t.upload(view));
    Tensor values = cantFail(t.download());
    EXPECT_EQ(values.data(), t.getAddress());
    EXPECT_EQ(values.data<float>()[7], 2.5f);
    EXPECT_EQ(cpu.counts.copies(), 0);

    // Values from other memory are copied once.
    Tensor other(DType::F32, {3, 5});
    other.data<float>()[0] = -1;
    ASSERT_FALSE(t.upload(other));
    EXPECT_EQ(cpu.counts.copiesToDevice, 1);
    EXPECT_EQ(cpu.counts.bytesToDevice, 60);
    EXPECT_EQ(view.data<float>()[0], -1.0f);

    // Staging memory is the device tensor too.
    StagedTensor staged =
        cantFail(StagedTensor::allocate(cpu, DType::I32, {16}));
    EXPECT_EQ(staged.host().data(), staged.device().getAddress());
    ASSERT_FALSE(staged.upload());
    ASSERT_FALSE(staged.download());
    EXPECT_EQ(cpu.counts.copies(), 1);
    EXPECT_EQ(cpu.counts.allocations, 2);
  }
  EXPECT_EQ(cpu.counts.frees, 2);
}

TEST(HostInvisibleDeviceTest, DeviceTensorsGoThroughCopies) {
  HostInvisibleDevice device;
  {
    DeviceTensor t =
        cantFail(DeviceTensor::allocate(device, DType::I64, {2, 2}));
    EXPECT_EQ(t.hostAddress(), nullptr);
    Tensor host = t.hostTensor();
    EXPECT_TRUE(host.ownsData());
    EXPECT_NE(host.data(), t.getAddress());
    host.data<int64_t>()[3] = 42;
    ASSERT_FALSE(t.upload(host));
    Tensor back = cantFail(t.download());
    EXPECT_NE(back.data(), host.data());
    EXPECT_EQ(back.data<int64_t>()[3], 42);
    EXPECT_EQ(device.counts.bytesToDevice, 32);
    EXPECT_EQ(device.counts.bytesToHost, 32);

    StagedTensor staged =
        cantFail(StagedTensor::allocate(device, DType::F32, {4}));
    EXPECT_EQ(device.counts.hostAllocations, 1);
    EXPECT_NE(staged.host().data(), staged.device().getAddress());
    staged.host().data<float>()[1] = 0.5f;
    ASSERT_FALSE(staged.upload());
    staged.host().data<float>()[1] = 0;
    ASSERT_FALSE(staged.download());
    EXPECT_EQ(staged.host().data<float>()[1], 0.5f);
    EXPECT_EQ(device.counts.bytesToDevice, 32 + 16);
    EXPECT_EQ(device.counts.bytesToHost, 32 + 16);
  }
  EXPECT_EQ(device.counts.frees, device.counts.allocations);
  EXPECT_EQ(device.counts.hostFrees, 1);
}

TEST(DeviceTest, TheModelTableChoosesTheDevice) {
  auto cpu = createDevice(0);
  ASSERT_TRUE(bool(cpu)) << errorMessage(cpu.takeError());
  EXPECT_EQ((*cpu)->getKind(), DeviceKind::CPU);
  auto cuda = createDevice(1);
  if (cuda) {
    // A machine with a GPU and its driver.
    EXPECT_EQ((*cuda)->getKind(), DeviceKind::CUDA);
  } else {
    std::string message = errorMessage(cuda);
    EXPECT_THAT(message, HasSubstr("compiled for a CUDA device"));
    EXPECT_THAT(message, HasSubstr("compile it with --target cpu"));
  }
  auto unknown = createDevice(7);
  EXPECT_THAT(errorMessage(unknown), HasSubstr("unknown device code 7"));
}

} // namespace
