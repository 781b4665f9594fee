// C interop for Firebreak's native iptables backend: libiptc (legacy x_tables) and the
// x_tables match/target structures of the kernel uapi.
#ifndef FIREBREAK_CIPTC_SHIM_H
#define FIREBREAK_CIPTC_SHIM_H

#include <sys/socket.h>
#include <netinet/in.h>
#include <net/if.h>
#include <errno.h>
#include <sys/file.h>

#include <libiptc/libiptc.h>
#include <libiptc/libip6tc.h>
#include <linux/netfilter/x_tables.h>

#endif
