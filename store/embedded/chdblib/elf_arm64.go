package chdblib

// elfMachine is the ELF e_machine of the library this build can load
// (EM_AARCH64).
const elfMachine, archName = 183, "arm64"
