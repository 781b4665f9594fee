// C interop for Firebreak: libmnl (netlink sockets and attributes), libnftnl (native nftables),
// the rtnetlink uapi, and the namespace syscalls Swift's Glibc module does not export.
#ifndef FIREBREAK_CNFTNL_SHIM_H
#define FIREBREAK_CNFTNL_SHIM_H


// Socket headers before any <linux/*.h>, or in_addr gets two definitions.
#include <sys/socket.h>
#include <netinet/in.h>
#include <net/if.h>
#include <sched.h>
#include <sys/mount.h>
#include <unistd.h>
#include <errno.h>
#include <sys/syscall.h>

#include <libmnl/libmnl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/if_link.h>
#include <linux/if_addr.h>
#include <linux/veth.h>
#include <linux/neighbour.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nf_tables.h>

#include <libnftnl/table.h>
#include <libnftnl/chain.h>
#include <libnftnl/rule.h>
#include <libnftnl/expr.h>
#include <libnftnl/set.h>
#include <libnftnl/batch.h>
#include <libnftnl/common.h>
#include <libnftnl/gen.h>

/// MNL_SOCKET_BUFFER_SIZE, a macro Swift cannot import.
static inline size_t fb_mnl_socket_buffer_size(void) { return MNL_SOCKET_BUFFER_SIZE; }

// Without _GNU_SOURCE (which would redefine glibc types differently from Swift's Glibc module)
// these are not declared; they are in every glibc since 2.14.
#ifndef CLONE_NEWNET
#define CLONE_NEWNET 0x40000000
#endif
extern int setns(int fd, int nstype);
extern int unshare(int flags);

/// setns(2): enter the network namespace behind `fd` (CLONE_NEWNET) on the calling thread.
static inline int fb_setns_net(int fd) { return setns(fd, CLONE_NEWNET); }

/// unshare(2) of the network namespace, for the calling thread only.
static inline int fb_unshare_net(void) { return unshare(CLONE_NEWNET); }

/// mount(2) flags used to publish a namespace as iproute2 does.
static inline unsigned long fb_ms_bind(void) { return MS_BIND; }
static inline unsigned long fb_ms_shared_rec(void) { return MS_SHARED | MS_REC; }
static inline int fb_mnt_detach(void) { return MNT_DETACH; }

/// The kernel thread id of the calling thread.
static inline int fb_gettid(void) { return (int)syscall(SYS_gettid); }

#endif
