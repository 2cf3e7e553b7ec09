#ifndef BROWNOUT_CLIBFUZZER_H
#define BROWNOUT_CLIBFUZZER_H
#include <stddef.h>
#include <stdint.h>

/// libFuzzer's driver (clang's `-fsanitize=fuzzer` runtime). SwiftPM gives an executable its
/// own `main`, so the fuzz target starts the driver from there instead of using libFuzzer's.
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

#endif
