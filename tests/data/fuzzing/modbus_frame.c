/* A toy Modbus-like frame parser, fuzzed by libFuzzer (clang -fsanitize=fuzzer,address).
 * The bugs are deliberate, selected at build time: -DLEAK leaks on a frame whose third byte is
 * 'L'; -DHANG loops forever on one whose third byte is 'H'. Without either it is clean. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 3 || data[0] != 'M' || data[1] != 'B') return 0;
  char *frame = malloc(size);
  memcpy(frame, data, size);
#ifdef LEAK
  if (data[2] == 'L') return 0;
#endif
#ifdef HANG
  while (data[2] == 'H') {
  }
#endif
  free(frame);
  return 0;
}
