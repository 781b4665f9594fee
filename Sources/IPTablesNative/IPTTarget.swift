/// What a rule does (`-j`/`-g`), in the target revision iptables-legacy 1.8.9 uses.
public enum IPTTarget: Sendable, Equatable {
  /// No `-j`: the rule only counts (a standard target that falls through).
  case fallThrough
  /// `-j ACCEPT`.
  case accept
  /// `-j DROP`.
  case drop
  /// `-j RETURN`.
  case `return`
  /// `-j CHAIN`.
  case jump(String)
  /// `-g CHAIN` (`IPT_F_GOTO`).
  case goto(String)
  /// `-j REJECT --reject-with NAME` (`ipt_REJECT_info`/`ip6t_REJECT_info`, revision 0): the
  /// `IPT_ICMP_*`/`IP6T_ICMP6_*` value.
  case reject(UInt32)
  /// `-j LOG [--log-prefix P] [--log-level L]` (`struct ipt_log_info`, revision 0).
  case log(prefix: String, level: UInt8)
  /// `-j MARK --set-xmark V/M` (`struct xt_mark_tginfo2`, revision 2).
  case mark(IPTMarkValue)
  /// `-j DNAT --to-destination …` (`struct nf_nat_range2`, revision 2).
  case dnat(IPTNATRange)
  /// `-j SNAT --to-source …` (IPv4: `nf_nat_ipv4_multi_range_compat`, revision 0; IPv6:
  /// `nf_nat_range`, revision 1).
  case snat(IPTNATRange)
  /// `-j MASQUERADE [--to-ports A[-B]]` (revision 0).
  case masquerade(ports: ClosedRange<UInt16>?)
  /// `-j REDIRECT [--to-ports A[-B]]` (revision 0).
  case redirect(ports: ClosedRange<UInt16>?)

  /// The chain a jump or goto names.
  var chain: String? {
    switch self {
    case .jump(let name), .goto(let name): return name
    default: return nil
    }
  }
}

/// A NAT mapping: `10.0.0.2-10.0.0.9:1000-2000`, either part optional.
public struct IPTNATRange: Sendable, Equatable {
  /// The address range (network-order bytes), nil to keep the address.
  public var addresses: IPTAddressRange?
  /// The port range, nil to keep the port.
  public var ports: ClosedRange<UInt16>?

  /// Creates a mapping.
  public init(addresses: IPTAddressRange?, ports: ClosedRange<UInt16>?) {
    self.addresses = addresses
    self.ports = ports
  }
}
