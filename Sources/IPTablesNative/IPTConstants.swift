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
    "QUEUE", "CONTINUE", "ERROR", "AUDIT", "CHECKSUM", "CLUSTERIP", "CONNSECMARK", "DNPT", "ECN", "HMARK",
    "IDLETIMER", "LED", "NETMAP", "RATEEST", "SECMARK", "SET", "SNPT", "SYNPROXY", "TCPOPTSTRIP", "TEE", "TPROXY",
    "ULOG",
  ]

  /// `-j LOG` flag options and their `XT_LOG_*` bits, in the order libxt_LOG prints them.
  static let logFlags: [(String, UInt8)] = [
    ("--log-tcp-sequence", UInt8(IPT_LOG_TCPSEQ)), ("--log-tcp-options", UInt8(IPT_LOG_TCPOPT)),
    ("--log-ip-options", UInt8(IPT_LOG_IPOPT)), ("--log-uid", UInt8(IPT_LOG_UID)),
    ("--log-macdecode", UInt8(IPT_LOG_MACDECODE)),
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

extension IPTConstants {
  /// `--state` names (the state match takes no SNAT/DNAT) and their conntrack state bits.
  static let stateNames: [String: UInt32] = ctStates.filter { $0.key != "SNAT" && $0.key != "DNAT" }

  /// `--pkt-type` names and their `PACKET_*` values; the first name of each value is the one printed.
  static let packetTypeOrder: [(String, Int32)] = [
    ("unicast", 0), ("broadcast", 1), ("multicast", 2), ("otherhost", 3), ("bcast", 1), ("mcast", 2), ("host", 0),
  ]

  /// `--pkt-type` names (any case) to `PACKET_*` values.
  static let packetTypes: [String: Int32] = Dictionary(packetTypeOrder, uniquingKeysWith: { first, _ in first })

  /// `--src-type`/`--dst-type` names in bit order (`XT_ADDRTYPE_UNSPEC` is bit 0), the order printed.
  static let addressTypes: [(String, UInt16)] = [
    "UNSPEC", "UNICAST", "LOCAL", "BROADCAST", "ANYCAST", "MULTICAST", "BLACKHOLE", "UNREACHABLE", "PROHIBIT",
    "THROW", "NAT", "XRESOLVE",
  ].enumerated().map { ($0.element, UInt16(1) << $0.offset) }

  /// Symbolic TOS values (RFC 1349) as libxt_tos knows them.
  static let tosNames: [(String, UInt8)] = [
    ("Minimize-Delay", 0x10), ("Maximize-Throughput", 0x08), ("Maximize-Reliability", 0x04),
    ("Minimize-Cost", 0x02), ("Normal-Service", 0x00),
  ]

  /// `--dscp-class` names and their DSCP values.
  static let dscpClasses: [String: UInt8] = [
    "CS0": 0x00, "CS1": 0x08, "CS2": 0x10, "CS3": 0x18, "CS4": 0x20, "CS5": 0x28, "CS6": 0x30, "CS7": 0x38,
    "BE": 0x00, "AF11": 0x0A, "AF12": 0x0C, "AF13": 0x0E, "AF21": 0x12, "AF22": 0x14, "AF23": 0x16, "AF31": 0x1A,
    "AF32": 0x1C, "AF33": 0x1E, "AF41": 0x22, "AF42": 0x24, "AF43": 0x26, "EF": 0x2E,
  ]

  /// `--ctevents` names in the order libxt_CT prints them, with their `IPCT_*` bit numbers.
  static let ctEvents: [(String, UInt32)] = [
    ("new", 0), ("related", 1), ("destroy", 2), ("reply", 3), ("assured", 4), ("protoinfo", 5), ("helper", 6),
    ("mark", 7), ("natseqinfo", 8), ("secmark", 9),
  ]

  /// `--expevents` names (`IPEXP_*` bit numbers).
  static let expectationEvents: [(String, UInt32)] = [("new", 0)]

  /// `--hashlimit-mode` fields in the order libxt_hashlimit prints them.
  static let hashlimitFields: [(String, UInt32)] = [
    ("srcip", UInt32(XT_HASHLIMIT_HASH_SIP)), ("srcport", UInt32(XT_HASHLIMIT_HASH_SPT)),
    ("dstip", UInt32(XT_HASHLIMIT_HASH_DIP)), ("dstport", UInt32(XT_HASHLIMIT_HASH_DPT)),
  ]
}
