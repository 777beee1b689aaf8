/* A toy frame reader for AFL++ (afl-clang-fast): aborts on input starting "MB" when built with
 * -DCRASH; clean without it. Reads one frame from stdin. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
int main(void) {
  char buf[64];
  ssize_t n = read(0, buf, sizeof buf);
  if (n >= 3 && buf[0] == 'M' && buf[1] == 'B') {
#ifdef CRASH
    abort();
#endif
  }
  return 0;
}
