// C interop for Firebreak: libnftables, nft's own library (parser, evaluator, netlink
// (de)linearization, listing), used where only nft's own parser or printer will do.
#ifndef FIREBREAK_CNFTABLES_SHIM_H
#define FIREBREAK_CNFTABLES_SHIM_H

// libnftables.h defines _GNU_SOURCE before <stdio.h>; include the libc headers first, as every
// other module sees them, so this module does not declare them differently.
#include <stdint.h>
#include <stdio.h>
#include <stdbool.h>
#include <unistd.h>
#include <sys/syscall.h>

#include <nftables/libnftables.h>

/// memfd_create(2) with MFD_CLOEXEC: an anonymous in-memory file (glibc declares it only with
/// _GNU_SOURCE, which Swift's Glibc module is built without).
static inline int fb_memfd_create(const char *name) { return (int)syscall(SYS_memfd_create, name, 1U); }

#endif
