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
  /// `-j LOG [--log-prefix P] [--log-level L] [--log-uid …]` (`struct ipt_log_info`, revision 0);
  /// `flags` are the `XT_LOG_*` bits (`--log-tcp-sequence` 0x01 … `--log-macdecode` 0x20).
  case log(prefix: String, level: UInt8, flags: UInt8)
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
  /// `-j CONNMARK …` (`struct xt_connmark_tginfo2`, revision 2).
  case connmark(IPTConnmark)
  /// `-j TRACE` (revision 0, no options).
  case trace
  /// `-j NOTRACK`: the CT target (revision 2) with `XT_CT_NOTRACK | XT_CT_NOTRACK_ALIAS`, which
  /// iptables-save lists as `-j NOTRACK` again.
  case notrack
  /// `-j CT …` (`struct xt_ct_target_info_v1`, revision 2).
  case ct(IPTConntrackTemplate)
  /// `-j NFLOG …` (`struct xt_nflog_info`, revision 0).
  case nflog(IPTNFLog)
  /// `-j TCPMSS --set-mss N` or `--clamp-mss-to-pmtu` (`struct xt_tcpmss_info`, revision 0):
  /// the MSS, `XT_TCPMSS_CLAMP_PMTU` (0xffff) to clamp.
  case tcpmss(UInt16)
  /// `-j DSCP --set-dscp N` (`struct xt_DSCP_info`, revision 0).
  case dscp(UInt8)
  /// `-j TOS --set-tos V/M` (`struct xt_tos_target_info`, revision 1): the masked bits become `V`.
  case tos(IPTTOSValue)
  /// `-j TTL --ttl-set|-inc|-dec N` (`struct ipt_TTL_info`) or `-j HL --hl-…` (`struct
  /// ip6t_HL_info`), both revision 0.
  case hopLimit(IPTHopLimitChange)
  /// `-j CLASSIFY --set-class MAJOR:MINOR` (`struct xt_classify_target_info`, revision 0).
  case classify(UInt32)
  /// `-j NFQUEUE …` (`struct xt_NFQ_info_v3`, revision 3).
  case nfqueue(IPTNFQueue)

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
