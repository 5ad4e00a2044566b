#pragma once
// CRC32C (Castagnoli), the checksum of Kafka's RecordBatch v2.
// Uses the SSE4.2 crc32 instruction when the CPU has it, a table otherwise.
#include <cstddef>
#include <cstdint>

namespace al {

/// CRC32C of [data, data + size), continuing from `crc` (0 for a fresh sum).
uint32_t crc32c(const void* data, size_t size, uint32_t crc = 0);

/// The portable table implementation (exposed so tests can compare both paths).
uint32_t crc32c_table(const void* data, size_t size, uint32_t crc = 0);

/// Whether crc32c() uses the hardware instruction on this machine.
bool crc32c_hardware();

} // namespace al
