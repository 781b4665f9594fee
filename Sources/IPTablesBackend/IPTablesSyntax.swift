import NetfilterModel

/// How `iptables-save` spells values, so compiled text lists back unchanged.
public enum IPTablesSyntax {
  /// A string as `xtables_save_string` prints it: bare when it is non-empty and only
  /// `[A-Za-z0-9_-]`, else in double quotes with `"`, `\` and `'` escaped by a backslash.
  public static func quoted(_ text: String) -> String {
    let bare =
      !text.isEmpty
      && text.unicodeScalars.allSatisfy { c in
        (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || (c >= "0" && c <= "9") || c == "_" || c == "-"
      }
    if bare { return text }
    var out = "\""
    for c in text {
      if c == "\"" || c == "\\" || c == "'" { out.append("\\") }
      out.append(c)
    }
    return out + "\""
  }

  /// `-p` operand for a protocol number: `tcp`, `ipv6-icmp`, `99`.
  static func protocolName(_ number: UInt8) -> String { ProtocolNames.protocolName(number) }

  /// An address as `-s`/`-d` lists it: always with the prefix length (`1.2.3.4/32`).
  static func prefix(_ prefix: IPPrefix) -> String {
    "\(prefix.address)/\(prefix.length)"
  }

  /// A port range as the `tcp`/`udp`/`multiport` matches list it: `22`, `1000:2000`.
  static func ports(_ range: PortRange) -> String {
    range.isSinglePort ? "\(range.first)" : "\(range.first):\(range.last)"
  }

  /// A port range as NAT targets list it: `8080`, `1000-2000`.
  static func natPorts(_ range: PortRange) -> String {
    range.isSinglePort ? "\(range.first)" : "\(range.first)-\(range.last)"
  }

  /// A number in the `0x…` form `mark` and `MARK` print.
  static func hex(_ value: UInt32) -> String { "0x" + String(value, radix: 16) }

  /// An interface pattern as `-i`/`--physdev-in` take it: `veth*` becomes `veth+`.
  static func interface(_ pattern: InterfacePattern) -> String {
    pattern.isWildcard ? pattern.name + "+" : pattern.name
  }

  /// TCP flags the `tcp` match knows, in the order it prints them.
  static let tcpFlagNames: [(String, TCPFlags)] = [
    ("FIN", .fin), ("SYN", .syn), ("RST", .rst), ("PSH", .psh), ("ACK", .ack), ("URG", .urg),
  ]

  /// `SYN,ACK`, or `NONE` for no flags.
  static func tcpFlags(_ flags: TCPFlags) -> String {
    let names = tcpFlagNames.filter { flags.contains($0.1) }.map(\.0)
    return names.isEmpty ? "NONE" : names.joined(separator: ",")
  }

  /// Conntrack states in the order the `conntrack` match prints them.
  static let ctStateOrder: [(CTState, String)] = [
    (.invalid, "INVALID"), (.new, "NEW"), (.related, "RELATED"), (.established, "ESTABLISHED"),
    (.untracked, "UNTRACKED"),
  ]

  /// `XT_LIMIT_SCALE`: the `limit` match keeps its rate as the period between packets in
  /// 1/10000 s.
  static let limitScale: UInt64 = 10000

  /// The units `limit` prints, largest first (libxt_limit's `rates`).
  static let limitUnits: [(String, UInt64)] = [
    ("day", 86400 * limitScale), ("hour", 3600 * limitScale), ("min", 60 * limitScale),
    ("sec", limitScale),
  ]

  /// The `--limit` text `iptables-save` prints for a period (libxt_limit's `print_rate`).
  static func limitRate(period: UInt64) -> (text: String, count: UInt64, unitSeconds: UInt64) {
    var i = 1
    while i < limitUnits.count {
      let mult = limitUnits[i].1
      if period > mult || mult / period < mult % period { break }
      i += 1
    }
    let (name, mult) = limitUnits[i - 1]
    return ("\(mult / period)/\(name)", mult / period, mult / limitScale)
  }

  /// The `--reject-with` name for an ICMP code.
  static func rejectName(_ code: ICMPRejectCode) -> String {
    switch code {
    case .netUnreachable: return "icmp-net-unreachable"
    case .hostUnreachable: return "icmp-host-unreachable"
    case .protUnreachable: return "icmp-proto-unreachable"
    case .portUnreachable: return "icmp-port-unreachable"
    case .netProhibited: return "icmp-net-prohibited"
    case .hostProhibited: return "icmp-host-prohibited"
    case .adminProhibited: return "icmp-admin-prohibited"
    }
  }

  /// The `--reject-with` name for an ICMPv6 code (ip6tables).
  static func rejectName(_ code: ICMPv6RejectCode) -> String {
    switch code {
    case .noRoute: return "icmp6-no-route"
    case .adminProhibited: return "icmp6-adm-prohibited"
    case .addrUnreachable: return "icmp6-addr-unreachable"
    case .portUnreachable: return "icmp6-port-unreachable"
    case .policyFail: return "icmp6-policy-fail"
    case .rejectRoute: return "icmp6-reject-route"
    }
  }

  /// The per-version code nft sends for an `icmpx` code (nft_reject's mapping).
  static func rejectName(_ code: ICMPxRejectCode, _ version: IPVersion) -> String {
    switch (code, version) {
    case (.noRoute, .v4): return rejectName(ICMPRejectCode.netUnreachable)
    case (.portUnreachable, .v4): return rejectName(ICMPRejectCode.portUnreachable)
    case (.hostUnreachable, .v4): return rejectName(ICMPRejectCode.hostUnreachable)
    case (.adminProhibited, .v4): return rejectName(ICMPRejectCode.adminProhibited)
    case (.noRoute, .v6): return rejectName(ICMPv6RejectCode.noRoute)
    case (.portUnreachable, .v6): return rejectName(ICMPv6RejectCode.portUnreachable)
    case (.hostUnreachable, .v6): return rejectName(ICMPv6RejectCode.addrUnreachable)
    case (.adminProhibited, .v6): return rejectName(ICMPv6RejectCode.adminProhibited)
    }
  }

  /// A NAT address (range) with optional ports: `1.2.3.4:1000-2000`, `[2001:db8::1]:80`.
  static func natDestination(_ d: NATDestination) -> String {
    var address = "\(d.address)"
    if let last = d.lastAddress { address += "-\(last)" }
    guard let ports = d.ports else { return address }
    if d.version == .v6 { address = "[\(d.address)]" + (d.lastAddress.map { "-[\($0)]" } ?? "") }
    return address + ":" + natPorts(ports)
  }
}
