// Declarations only: the functions come from the libFuzzer runtime when fuzzing.
