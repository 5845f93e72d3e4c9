package chdblib

// elfMachine is the ELF e_machine of the library this build can load
// (EM_X86_64).
const elfMachine, archName = 62, "amd64"
