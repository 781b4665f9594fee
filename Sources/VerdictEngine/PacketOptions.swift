import NetfilterModel

/// The PACKET options of `simulate` (`--src 11.11.11.2 --dst 11.11.11.3 --proto icmp …`), shared by
/// the command line, `--batch` lines and tests.
public enum PacketOptions {
  /// The options that take a value.
  public static let valued: Set<String> = [
    "--src", "--dst", "--proto", "--sport", "--dport", "--icmp-type", "--icmp-code", "--tcp-flags", "--iif", "--oif",
    "--hook",
    "--from", "--ct-state", "--mark", "--ct-mark", "--ether-src", "--physdev-in", "--physdev-out",
  ]

  /// Their help text.
  public static let help = """
    PACKET options:
      --src IP --dst IP          addresses (--dst is required; --src defaults to the sender's address)
      --proto tcp|udp|icmp|icmpv6|arp|NUMBER
      --sport N --dport N        ports (imply tcp when --proto is not given)
      --icmp-type NAME           icmp/icmpv6 type (default echo-request)
      --icmp-code NAME|N         icmp/icmpv6 code (default 0)
      --tcp-flags syn,ack,...    (default syn for a new connection, ack otherwise)
      --iif NAME --oif NAME      interfaces (without topology)
      --hook input|forward|output   the path without topology (default: from --iif/--oif, else input)
      --from NAMESPACE           the sender, when the policy has a topology
      --ct-state new|established|related|invalid|untracked   (default new)
      --mark N                   packet mark (decimal or 0x hex)
      --ct-mark N                the connection's mark (default 0, a new connection's)
      --ether-src MAC            source MAC (decides ether saddr matches)
      --physdev-in PORT --physdev-out PORT   bridge ports (without topology)
    """

  /// Builds a simulator request from `--flag value` words (tests, batch lines).
  public static func request(words: [String]) throws -> Simulator.Request {
    var values: [String: String] = [:]
    var i = 0
    while i < words.count {
      let flag = words[i]
      guard valued.contains(flag) else { throw Simulator.RequestError(message: "unknown packet option \(flag)") }
      guard i + 1 < words.count else { throw Simulator.RequestError(message: "option \(flag) needs a value") }
      values[flag] = words[i + 1]
      i += 2
    }
    return try request(values)
  }

  /// Builds a simulator request from parsed options.
  public static func request(_ values: [String: String]) throws -> Simulator.Request {
    func fail(_ message: String) -> Simulator.RequestError { Simulator.RequestError(message: message) }
    guard let dstText = values["--dst"] else { throw fail("missing --dst") }
    guard let dst = IPAddress(dstText) else { throw fail("--dst '\(dstText)' is not an IP address") }
    var src: IPAddress?
    if let s = values["--src"] {
      guard let a = IPAddress(s) else { throw fail("--src '\(s)' is not an IP address") }
      guard a.version == dst.version else { throw fail("--src and --dst are of different IP versions") }
      src = a
    }
    func port(_ flag: String) throws -> UInt16? {
      guard let t = values[flag] else { return nil }
      guard let p = UInt16(t) else { throw fail("\(flag) '\(t)' is not a port (0-65535)") }
      return p
    }
    let sport = try port("--sport")
    let dport = try port("--dport")
    var isARP = false
    var proto: UInt8?
    if let p = values["--proto"] {
      if p == "arp" {
        isARP = true
      } else if p == "icmpv6" {
        proto = 58
      } else if let n = ProtocolNames.protocolNumber(p) {
        proto = n
      } else {
        throw fail("--proto '\(p)' is not a protocol (tcp, udp, icmp, icmpv6, arp or a number)")
      }
    } else if sport != nil || dport != nil {
      proto = 6
    } else if values["--icmp-type"] != nil {
      proto = dst.version == .v4 ? 1 : 58
    }
    if isARP && dst.version == .v6 { throw fail("ARP is IPv4 only; IPv6 uses neighbour discovery (icmpv6)") }
    if proto == 1 && dst.version == .v6 { throw fail("icmp is IPv4; use --proto icmpv6 for IPv6") }
    if proto == 58 && dst.version == .v4 { throw fail("icmpv6 is IPv6; use --proto icmp for IPv4") }
    if (sport != nil || dport != nil) && proto != 6 && proto != 17 {
      throw fail("--sport/--dport need --proto tcp or udp")
    }
    var ctState = CTState.new
    if let c = values["--ct-state"] {
      guard let s = CTState(rawValue: c) else {
        throw fail("--ct-state must be one of \(CTState.allCases.map(\.rawValue).joined(separator: ", ")), not '\(c)'")
      }
      ctState = s
    }
    var icmpType: UInt8?
    var icmpCode: UInt8?
    if proto == 1 || proto == 58 {
      let codeVersion: IPVersion = proto == 1 ? .v4 : .v6
      let codeText = values["--icmp-code"] ?? "0"
      guard let c = ProtocolNames.number(codeText, in: ProtocolNames.icmpCodeTable(codeVersion)) else {
        throw fail("--icmp-code '\(codeText)' is not an \(proto == 1 ? "icmp" : "icmpv6") code")
      }
      icmpCode = c
      let version: IPVersion = proto == 1 ? .v4 : .v6
      let name = values["--icmp-type"] ?? "echo-request"
      guard let t = ProtocolNames.number(name, in: ProtocolNames.icmpTypeTable(version)) else {
        throw fail("--icmp-type '\(name)' is not an \(proto == 1 ? "icmp" : "icmpv6") type")
      }
      icmpType = t
    } else if values["--icmp-type"] != nil || values["--icmp-code"] != nil {
      throw fail("--icmp-type and --icmp-code need --proto icmp or icmpv6")
    }
    var flags: TCPFlags?
    if proto == 6 {
      if let f = values["--tcp-flags"] {
        var set = TCPFlags()
        for name in f.split(separator: ",") {
          guard let flag = TCPFlags.names.first(where: { $0.0 == name.lowercased() }) else {
            throw fail("--tcp-flags: unknown flag '\(name)'")
          }
          set.insert(flag.1)
        }
        flags = set
      } else {
        flags = ctState == .new ? .syn : .ack
      }
    } else if values["--tcp-flags"] != nil {
      throw fail("--tcp-flags needs --proto tcp")
    }
    func number(_ option: String) throws -> UInt32 {
      guard let m = values[option] else { return 0 }
      let parsed = m.hasPrefix("0x") ? UInt32(m.dropFirst(2), radix: 16) : UInt32(m)
      guard let parsed else { throw fail("\(option) '\(m)' is not a 32-bit number") }
      return parsed
    }
    let mark = try number("--mark")
    let ctMark = try number("--ct-mark")
    if ctMark != 0 && ctState != .established && ctState != .related {
      throw fail("--ct-mark needs --ct-state established or related (a new connection's mark is 0)")
    }
    var mac: MACAddress?
    if let e = values["--ether-src"] {
      guard let m = MACAddress(e) else { throw fail("--ether-src '\(e)' is not a MAC address") }
      mac = m
    }
    var hook: Hook?
    if let h = values["--hook"] {
      guard let parsed = Hook(rawValue: h), [.input, .forward, .output].contains(parsed) else {
        throw fail("--hook must be input, forward or output, not '\(h)'")
      }
      hook = parsed
    }
    let packet = Packet(
      source: src, destination: dst, l4proto: proto, sourcePort: sport, destinationPort: dport, icmpType: icmpType,
      icmpCode: icmpCode, tcpFlags: flags, inputInterface: values["--iif"], outputInterface: values["--oif"],
      bridgePortIn: values["--physdev-in"], bridgePortOut: values["--physdev-out"], ctState: ctState, mark: mark,
      ctMark: ctMark, etherSource: mac, isARP: isARP)
    return Simulator.Request(packet: packet, hook: hook, from: values["--from"])
  }
}
