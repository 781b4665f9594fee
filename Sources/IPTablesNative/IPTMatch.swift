/// A match extension of a rule (`-m NAME …`), in the revision iptables-legacy 1.8.9 uses.
public enum IPTMatch: Sendable, Equatable {
  /// `-m tcp [--sport A[:B]] [--dport A[:B]] [--tcp-flags MASK COMP]` (`struct xt_tcp`, revision 0).
  case tcp(IPTTransportMatch)
  /// `-m udp [--sport …] [--dport …]` (`struct xt_udp`, revision 0).
  case udp(IPTTransportMatch)
  /// `-m icmp --icmp-type T[/C]` or `-m icmp6 --icmpv6-type T[/C]` (`struct ipt_icmp`/`ip6t_icmp`, revision 0);
  /// `codes` is `0...255` when no code was given.
  case icmp(IPTNegatable<IPTICMPType>)
  /// `-m multiport --sports|--dports P[,A:B]…` (`struct xt_multiport_v1`, revision 1).
  case multiport(IPTMultiport)
  /// `-m conntrack --ctstate S,…` (`struct xt_conntrack_mtinfo3`, revision 3): `XT_CONNTRACK_STATE_*` bits.
  case conntrack(IPTNegatable<UInt32>)
  /// `-m iprange [--src-range A-B] [--dst-range A-B]` (`struct xt_iprange_mtinfo`, revision 1).
  case iprange(source: IPTNegatable<IPTAddressRange>?, destination: IPTNegatable<IPTAddressRange>?)
  /// `-m mac --mac-source XX:…` (`struct xt_mac_info`, revision 0).
  case mac(IPTNegatable<[UInt8]>)
  /// `-m mark --mark V[/M]` (`struct xt_mark_mtinfo1`, revision 1).
  case mark(IPTNegatable<IPTMarkValue>)
  /// `-m comment --comment TEXT` (`struct xt_comment_info`, revision 0).
  case comment(String)
  /// `-m limit --limit N/UNIT [--limit-burst B]` (`struct xt_rateinfo`, revision 0); `average` is in
  /// `XT_LIMIT_SCALE` units per packet, as the kernel takes it.
  case limit(average: UInt32, burst: UInt32)
  /// `-m physdev [--physdev-in P] [--physdev-out P] [--physdev-is-in|-out|-bridged]`
  /// (`struct xt_physdev_info`, revision 0).
  case physdev(IPTPhysdev)
  /// `-m state --state S,…`: the conntrack match (revision 3) with `XT_CONNTRACK_STATE_ALIAS`,
  /// which iptables-save lists as `-m state` again.
  case state(IPTNegatable<UInt32>)
  /// `-m owner [--socket-exists] [--uid-owner A[-B]] [--gid-owner A[-B] [--suppl-groups]]`
  /// (`struct xt_owner_match_info`, revision 1).
  case owner(IPTOwner)
  /// `-m connmark --mark V[/M]` (`struct xt_connmark_mtinfo1`, revision 1).
  case connmark(IPTNegatable<IPTMarkValue>)
  /// `-m addrtype [--src-type T,…] [--dst-type T,…] [--limit-iface-in|out]`
  /// (`struct xt_addrtype_info_v1`, revision 1).
  case addrtype(IPTAddressType)
  /// `-m pkttype --pkt-type unicast|broadcast|multicast` (`struct xt_pkttype_info`, revision 0):
  /// the `PACKET_*` value.
  case pkttype(IPTNegatable<Int32>)
  /// `-m length --length A[:B]` (`struct xt_length_info`, revision 0).
  case length(IPTNegatable<ClosedRange<UInt16>>)
  /// `-m ttl --ttl-eq|-lt|-gt N` (`struct ipt_ttl_info`) or `-m hl --hl-eq|-lt|-gt N`
  /// (`struct ip6t_hl_info`), both revision 0.
  case hopLimit(IPTHopLimitMatch)
  /// `-m tos --tos V[/M]` (`struct xt_tos_match_info`, revision 1).
  case tos(IPTNegatable<IPTTOSValue>)
  /// `-m dscp --dscp N` or `--dscp-class C` (`struct xt_dscp_info`, revision 0).
  case dscp(IPTNegatable<UInt8>)
  /// `-m statistic --mode random|nth …` (`struct xt_statistic_info`, revision 0).
  case statistic(IPTStatistic)
  /// `-m recent --set|--rcheck|--update|--remove …` (`struct xt_recent_mtinfo_v1`, revision 1).
  case recent(IPTRecent)
  /// `-m hashlimit --hashlimit-upto|-above RATE --hashlimit-name NAME …`
  /// (`struct xt_hashlimit_mtinfo3`, revision 3).
  case hashlimit(IPTHashLimit)
}

/// The options of the `tcp` and `udp` matches.
public struct IPTTransportMatch: Sendable, Equatable {
  /// `--sport`; nil is any (`0:65535`).
  public var sourcePorts: IPTNegatable<ClosedRange<UInt16>>?
  /// `--dport`.
  public var destinationPorts: IPTNegatable<ClosedRange<UInt16>>?
  /// `--tcp-flags MASK COMP` (tcp only): `TCPHDR` flag bits, FIN = 0x01 … URG = 0x20.
  public var flags: IPTNegatable<IPTTCPFlags>?

  /// Creates the options.
  public init(
    sourcePorts: IPTNegatable<ClosedRange<UInt16>>? = nil, destinationPorts: IPTNegatable<ClosedRange<UInt16>>? = nil,
    flags: IPTNegatable<IPTTCPFlags>? = nil
  ) {
    self.sourcePorts = sourcePorts
    self.destinationPorts = destinationPorts
    self.flags = flags
  }
}

/// `--tcp-flags MASK COMP`.
public struct IPTTCPFlags: Sendable, Equatable {
  /// The flags examined.
  public var mask: UInt8
  /// The flags that must be set among them.
  public var compare: UInt8

  /// Creates flags.
  public init(mask: UInt8, compare: UInt8) {
    self.mask = mask
    self.compare = compare
  }
}

/// An ICMP type with a code range.
public struct IPTICMPType: Sendable, Equatable {
  /// The type.
  public var type: UInt8
  /// The codes matched.
  public var codes: ClosedRange<UInt8>

  /// Creates a type test.
  public init(type: UInt8, codes: ClosedRange<UInt8> = 0...255) {
    self.type = type
    self.codes = codes
  }
}

/// `--sports`/`--dports` of the multiport match.
public struct IPTMultiport: Sendable, Equatable {
  /// True for `--sports`, false for `--dports`.
  public var source: Bool
  /// Single ports and ranges, at most 15 ports counting a range as two.
  public var ports: [ClosedRange<UInt16>]
  /// `! --dports`.
  public var negated: Bool

  /// Creates a multiport test.
  public init(source: Bool, ports: [ClosedRange<UInt16>], negated: Bool = false) {
    self.source = source
    self.ports = ports
    self.negated = negated
  }
}

/// An inclusive address range: `10.0.0.1-10.0.0.9`.
public struct IPTAddressRange: Sendable, Equatable {
  /// Network-order bytes of the first address.
  public var first: [UInt8]
  /// Network-order bytes of the last address.
  public var last: [UInt8]

  /// Creates a range.
  public init(first: [UInt8], last: [UInt8]) {
    self.first = first
    self.last = last
  }
}

/// A mark value with its mask: `0x100/0xff00` (`0x10` alone has mask `0xffffffff`).
public struct IPTMarkValue: Sendable, Equatable {
  /// The value.
  public var value: UInt32
  /// The mask.
  public var mask: UInt32

  /// Creates a mark.
  public init(value: UInt32, mask: UInt32 = 0xFFFF_FFFF) {
    self.value = value
    self.mask = mask
  }
}
