// C interop for Firebreak's native iptables backend: libiptc (legacy x_tables) and the
// x_tables match/target structures of the kernel uapi.
#ifndef FIREBREAK_CIPTC_SHIM_H
#define FIREBREAK_CIPTC_SHIM_H

#include <sys/socket.h>
#include <netinet/in.h>
#include <net/if.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>

#include <libiptc/libiptc.h>
#include <libiptc/libip6tc.h>
#include <linux/netfilter/x_tables.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_nat.h>
#include <linux/netfilter/xt_comment.h>
#include <linux/netfilter/xt_conntrack.h>
#include <linux/netfilter/xt_iprange.h>
#include <linux/netfilter/xt_limit.h>
#include <linux/netfilter/xt_mac.h>
#include <linux/netfilter/xt_mark.h>
#include <linux/netfilter/xt_multiport.h>
#include <linux/netfilter/xt_physdev.h>
#include <linux/netfilter/xt_tcpudp.h>
#include <linux/netfilter/xt_owner.h>
#include <linux/netfilter/xt_CONNMARK.h>
#include <linux/netfilter/xt_CT.h>
#include <linux/netfilter/xt_NFLOG.h>
#include <linux/netfilter/xt_TCPMSS.h>
#include <linux/netfilter/xt_addrtype.h>
#include <linux/netfilter/xt_pkttype.h>
#include <linux/netfilter/xt_length.h>
#include <linux/netfilter/xt_DSCP.h>
#include <linux/netfilter/xt_CLASSIFY.h>
#include <linux/netfilter/xt_NFQUEUE.h>
#include <linux/netfilter/xt_statistic.h>
#include <linux/netfilter/xt_recent.h>
#include <linux/netfilter/xt_hashlimit.h>
#include <linux/netfilter_ipv4/ipt_LOG.h>
#include <linux/netfilter_ipv4/ipt_REJECT.h>
#include <linux/netfilter_ipv6/ip6t_REJECT.h>
// Not included: ipt_ttl.h and ipt_TTL.h share one include guard (as do ip6t_hl.h and
// ip6t_HL.h), so only one of each pair would be seen; their structures are two bytes
// (mode, value) and are written as such.

/// XT_ALIGN: match and target payloads are padded to 8 bytes (`__alignof__(struct _xt_align)`).
static inline unsigned int fb_xt_align(unsigned int size) { return XT_ALIGN(size); }

/// XT_CONNTRACK_STATE_BIT(IP_CT_*) and the two pseudo-states, as `--ctstate` sets them.
static inline unsigned int fb_ctstate_invalid(void) { return XT_CONNTRACK_STATE_INVALID; }
static inline unsigned int fb_ctstate_established(void) { return XT_CONNTRACK_STATE_BIT(IP_CT_ESTABLISHED); }
static inline unsigned int fb_ctstate_related(void) { return XT_CONNTRACK_STATE_BIT(IP_CT_RELATED); }
static inline unsigned int fb_ctstate_new(void) { return XT_CONNTRACK_STATE_BIT(IP_CT_NEW); }
static inline unsigned int fb_ctstate_untracked(void) { return XT_CONNTRACK_STATE_UNTRACKED; }
static inline unsigned int fb_ctstate_snat(void) { return XT_CONNTRACK_STATE_SNAT; }
static inline unsigned int fb_ctstate_dnat(void) { return XT_CONNTRACK_STATE_DNAT; }

#endif
