import CIPTC

/// Names and numbers of the x_tables extensions, as iptables spells them.
enum IPTConstants {
  /// `XT_LIMIT_SCALE`: `xt_rateinfo.avg` is in 1/10000 s per packet.
  static let limitScale: UInt32 = 10000

  /// `--ctstate` names and their `XT_CONNTRACK_STATE_*` bits.
  static let ctStates: [String: UInt32] = [
    "INVALID": fb_ctstate_invalid(), "ESTABLISHED": fb_ctstate_established(), "RELATED": fb_ctstate_related(),
    "NEW": fb_ctstate_new(), "UNTRACKED": fb_ctstate_untracked(), "SNAT": fb_ctstate_snat(),
    "DNAT": fb_ctstate_dnat(),
  ]

  /// `--reject-with` names for iptables (`enum ipt_reject_with`).
  static let rejectIPv4: [String: UInt32] = [
    "icmp-net-unreachable": IPT_ICMP_NET_UNREACHABLE.rawValue, "net-unreach": IPT_ICMP_NET_UNREACHABLE.rawValue,
    "icmp-host-unreachable": IPT_ICMP_HOST_UNREACHABLE.rawValue, "host-unreach": IPT_ICMP_HOST_UNREACHABLE.rawValue,
    "icmp-proto-unreachable": IPT_ICMP_PROT_UNREACHABLE.rawValue, "proto-unreach": IPT_ICMP_PROT_UNREACHABLE.rawValue,
    "icmp-port-unreachable": IPT_ICMP_PORT_UNREACHABLE.rawValue, "port-unreach": IPT_ICMP_PORT_UNREACHABLE.rawValue,
    "icmp-net-prohibited": IPT_ICMP_NET_PROHIBITED.rawValue, "net-prohib": IPT_ICMP_NET_PROHIBITED.rawValue,
    "icmp-host-prohibited": IPT_ICMP_HOST_PROHIBITED.rawValue, "host-prohib": IPT_ICMP_HOST_PROHIBITED.rawValue,
    "tcp-reset": IPT_TCP_RESET.rawValue,
    "icmp-admin-prohibited": IPT_ICMP_ADMIN_PROHIBITED.rawValue, "admin-prohib": IPT_ICMP_ADMIN_PROHIBITED.rawValue,
  ]

  /// `--reject-with` names for ip6tables (`enum ip6t_reject_with`).
  static let rejectIPv6: [String: UInt32] = [
    "icmp6-no-route": IP6T_ICMP6_NO_ROUTE.rawValue, "no-route": IP6T_ICMP6_NO_ROUTE.rawValue,
    "icmp6-adm-prohibited": IP6T_ICMP6_ADM_PROHIBITED.rawValue, "adm-prohibited": IP6T_ICMP6_ADM_PROHIBITED.rawValue,
    "icmp6-not-neighbor": IP6T_ICMP6_NOT_NEIGHBOUR.rawValue, "icmp6-not-neighbour": IP6T_ICMP6_NOT_NEIGHBOUR.rawValue,
    "icmp6-addr-unreachable": IP6T_ICMP6_ADDR_UNREACH.rawValue, "addr-unreach": IP6T_ICMP6_ADDR_UNREACH.rawValue,
    "icmp6-port-unreachable": IP6T_ICMP6_PORT_UNREACH.rawValue, "port-unreach": IP6T_ICMP6_PORT_UNREACH.rawValue,
    "tcp-reset": IP6T_TCP_RESET.rawValue,
    "icmp6-policy-fail": IP6T_ICMP6_POLICY_FAIL.rawValue, "policy-fail": IP6T_ICMP6_POLICY_FAIL.rawValue,
    "icmp6-reject-route": IP6T_ICMP6_REJECT_ROUTE.rawValue, "reject-route": IP6T_ICMP6_REJECT_ROUTE.rawValue,
  ]

  /// syslog level names `--log-level` takes.
  static let logLevels: [String: UInt8] = [
    "emerg": 0, "panic": 0, "alert": 1, "crit": 2, "err": 3, "error": 3, "warn": 4, "warning": 4, "notice": 5,
    "info": 6, "debug": 7,
  ]

  /// Target extensions this backend does not build; `-j` with one of them is an error, not a chain.
  static let otherTargets: Set<String> = [
    "QUEUE", "CONTINUE", "ERROR", "AUDIT", "CHECKSUM", "CLASSIFY", "CLUSTERIP", "CONNMARK", "CONNSECMARK", "CT",
    "DNPT", "DSCP", "ECN", "HL", "HMARK", "IDLETIMER", "LED", "NETMAP", "NFLOG", "NFQUEUE", "NOTRACK", "RATEEST",
    "SECMARK", "SET", "SNPT", "SYNPROXY", "TCPMSS", "TCPOPTSTRIP", "TEE", "TOS", "TPROXY", "TRACE", "TTL", "ULOG",
  ]
}

extension IPTConstants {
  /// `--ctstate` names in the order libxt_conntrack prints them.
  static let ctStateOrder: [(String, UInt32)] = [
    "INVALID", "NEW", "RELATED", "ESTABLISHED", "UNTRACKED", "SNAT", "DNAT",
  ]
  .map { ($0, ctStates[$0]!) }

  /// The name libipt_REJECT prints for each value.
  static let rejectIPv4Names: [UInt32: String] = [
    IPT_ICMP_NET_UNREACHABLE.rawValue: "icmp-net-unreachable",
    IPT_ICMP_HOST_UNREACHABLE.rawValue: "icmp-host-unreachable",
    IPT_ICMP_PROT_UNREACHABLE.rawValue: "icmp-proto-unreachable",
    IPT_ICMP_PORT_UNREACHABLE.rawValue: "icmp-port-unreachable",
    IPT_ICMP_NET_PROHIBITED.rawValue: "icmp-net-prohibited",
    IPT_ICMP_HOST_PROHIBITED.rawValue: "icmp-host-prohibited", IPT_TCP_RESET.rawValue: "tcp-reset",
    IPT_ICMP_ADMIN_PROHIBITED.rawValue: "icmp-admin-prohibited",
  ]

  /// The name libip6t_REJECT prints for each value.
  static let rejectIPv6Names: [UInt32: String] = [
    IP6T_ICMP6_NO_ROUTE.rawValue: "icmp6-no-route", IP6T_ICMP6_ADM_PROHIBITED.rawValue: "icmp6-adm-prohibited",
    IP6T_ICMP6_NOT_NEIGHBOUR.rawValue: "icmp6-not-neighbor", IP6T_ICMP6_ADDR_UNREACH.rawValue: "icmp6-addr-unreachable",
    IP6T_ICMP6_PORT_UNREACH.rawValue: "icmp6-port-unreachable", IP6T_TCP_RESET.rawValue: "tcp-reset",
    IP6T_ICMP6_POLICY_FAIL.rawValue: "icmp6-policy-fail", IP6T_ICMP6_REJECT_ROUTE.rawValue: "icmp6-reject-route",
  ]
}
