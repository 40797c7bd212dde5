/* crc32.h — CRC-32 as in zlib/Ethernet (reflected, polynomial 0xEDB88320). */
#ifndef GUEST_CRC32_H
#define GUEST_CRC32_H

#include <stddef.h>
#include <stdint.h>

uint32_t crc32(const void *data, size_t len);

#endif
