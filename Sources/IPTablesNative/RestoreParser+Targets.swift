import CIPTC
import Foundation

extension RestoreParser {
  /// `-j NAME OPTIONS`: the standard verdicts, a user chain, or the target extensions of
  /// `IPTTarget`.
  func target(_ name: String, _ options: [Option], _ place: Place) throws(IPTablesNativeError) -> IPTTarget {
    try once(options, name, place)
    var values: [String: String] = [:]
    for option in options {
      guard !option.negated else { throw place.error("target options cannot be negated") }
      values[option.name] = option.argument
    }
    /// The one option of `names` given, or an error naming them.
    func oneOf(_ names: [String]) throws(IPTablesNativeError) -> Option {
      try only(Set(names))
      guard options.count == 1 else {
        throw place.error("\(name) takes one of \(names.joined(separator: ", "))")
      }
      return options[0]
    }
    func only(_ allowed: Set<String>) throws(IPTablesNativeError) {
      if let extra = values.keys.first(where: { !allowed.contains($0) }) {
        throw place.error("unsupported option \(extra) of \(name)")
      }
    }
    switch name {
    case "ACCEPT", "DROP", "RETURN":
      try only([])
      return name == "ACCEPT" ? .accept : name == "DROP" ? .drop : .return
    case "REJECT":
      try only(["--reject-with"])
      let table = family == .ipv4 ? IPTConstants.rejectIPv4 : IPTConstants.rejectIPv6
      let with = values["--reject-with"] ?? (family == .ipv4 ? "icmp-port-unreachable" : "icmp6-port-unreachable")
      guard let value = table[with] else { throw place.error("unknown --reject-with \(with)") }
      return .reject(value)
    case "LOG":
      try only(Set(["--log-prefix", "--log-level"] + IPTConstants.logFlags.map(\.0)))
      let prefix = values["--log-prefix"] ?? ""
      guard prefix.utf8.count <= 29 else { throw place.error("log prefix longer than 29 bytes") }
      var level: UInt8 = 4
      if let text = values["--log-level"] {
        guard let l = UInt8(text) ?? IPTConstants.logLevels[text], l <= 7 else {
          throw place.error("bad --log-level \(text)")
        }
        level = l
      }
      let flags = IPTConstants.logFlags.filter { values[$0.0] != nil }.reduce(0) { $0 | $1.1 }
      return .log(prefix: prefix, level: level, flags: flags)
    case "MARK":
      try only(["--set-xmark"])
      guard let text = values["--set-xmark"] else { throw place.error("MARK needs --set-xmark") }
      return .mark(try markValue(text, place))
    case "DNAT", "SNAT":
      let key = name == "DNAT" ? "--to-destination" : "--to-source"
      try only([key])
      guard let text = values[key] else { throw place.error("\(name) needs \(key)") }
      let range = try natRange(text, place)
      return name == "DNAT" ? .dnat(range) : .snat(range)
    case "MASQUERADE", "REDIRECT":
      try only(["--to-ports"])
      var ports: ClosedRange<UInt16>?
      if let text = values["--to-ports"] { ports = try portRange(text, place, dash: true) }
      return name == "MASQUERADE" ? .masquerade(ports: ports) : .redirect(ports: ports)
    case "CONNMARK":
      return .connmark(try connmark(options, place))
    case "TRACE", "NOTRACK":
      try only([])
      return name == "TRACE" ? .trace : .notrack
    case "CT":
      return .ct(try conntrackTemplate(options, place))
    case "NFLOG":
      return .nflog(try nflog(options, place))
    case "TCPMSS":
      let option = try oneOf(["--set-mss", "--clamp-mss-to-pmtu"])
      guard option.name == "--set-mss" else { return .tcpmss(UInt16(XT_TCPMSS_CLAMP_PMTU)) }
      return .tcpmss(UInt16(try unsigned(option, 0...0xFFFE, place)))
    case "DSCP":
      return .dscp(try dscp(try oneOf(["--set-dscp", "--set-dscp-class"]), place))
    case "TOS":
      let option = try oneOf(["--set-tos", "--and-tos", "--or-tos", "--xor-tos"])
      guard option.name != "--set-tos" else { return .tos(try tosValue(option.argument, place)) }
      let bits = UInt8(try unsigned(option, 0...0xFF, place))
      switch option.name {
      case "--and-tos": return .tos(IPTTOSValue(value: 0, mask: ~bits))
      case "--or-tos": return .tos(IPTTOSValue(value: bits, mask: bits))
      default: return .tos(IPTTOSValue(value: bits, mask: 0))
      }
    case "TTL", "HL":
      guard (name == "TTL") == (family == .ipv4) else { throw place.error("-j \(name) in \(family.rawValue) rules") }
      let prefix = "--\(name.lowercased())-"
      let option = try oneOf([prefix + "set", prefix + "inc", prefix + "dec"])
      let mode = UInt8([prefix + "set", prefix + "inc", prefix + "dec"].firstIndex(of: option.name)!)
      let value = UInt8(try unsigned(option, mode == 0 ? 0...255 : 1...255, place))
      return .hopLimit(IPTHopLimitChange(mode: mode, value: value))
    case "CLASSIFY":
      let option = try oneOf(["--set-class"])
      let parts = option.argument.split(separator: ":", omittingEmptySubsequences: false)
      guard parts.count == 2, let major = UInt32(parts[0], radix: 16), let minor = UInt32(parts[1], radix: 16),
        major <= 0xFFFF, minor <= 0xFFFF
      else { throw place.error("bad --set-class \(option.argument) (MAJOR:MINOR in hex)") }
      return .classify(major << 16 | minor)
    case "NFQUEUE":
      return .nfqueue(try nfqueue(options, place))
    default:
      // Anything else is a user chain; the builder checks that the table declares it.
      guard options.isEmpty, !IPTConstants.otherTargets.contains(name) else {
        throw place.error("unsupported target -j \(name)")
      }
      return .jump(name)
    }
  }

  /// `-s`/`-d` operand: `10.0.0.0/8`, `2001:db8::/32`, or a bare address.
  func prefix(_ text: String, _ place: Place) throws(IPTablesNativeError) -> IPTPrefix {
    guard let slash = text.utf8.firstIndex(of: UInt8(ascii: "/")) else {
      let bytes = try address(text, place)
      return IPTPrefix(address: bytes, length: bytes.count * 8)
    }
    let bytes = try address(String(text[..<slash]), place)
    guard let length = Int(text[text.index(after: slash)...]), length >= 0, length <= bytes.count * 8 else {
      throw place.error("bad prefix length in \(text)")
    }
    return IPTPrefix(address: bytes, length: length)
  }

  /// An address of this family as network-order bytes.
  func address(_ text: String, _ place: Place) throws(IPTablesNativeError) -> [UInt8] {
    var bytes = [UInt8](repeating: 0, count: family.addressLength)
    let ok = bytes.withUnsafeMutableBytes { inet_pton(family == .ipv4 ? AF_INET : AF_INET6, text, $0.baseAddress) }
    guard ok == 1 else { throw place.error("bad \(family == .ipv4 ? "IPv4" : "IPv6") address \(text)") }
    return bytes
  }

  /// `10.0.0.1-10.0.0.9` (a single address is a range of one).
  func addressRange(_ text: String, _ place: Place) throws(IPTablesNativeError) -> IPTAddressRange {
    let parts = text.split(separator: "-", omittingEmptySubsequences: false)
    guard parts.count <= 2 else { throw place.error("bad address range \(text)") }
    let first = try address(String(parts[0]), place)
    return IPTAddressRange(first: first, last: parts.count == 2 ? try address(String(parts[1]), place) : first)
  }

  /// Interface names as iptables stores them: at most 15 bytes, `+` kept as the wildcard.
  func interface(_ name: String, _ place: Place) throws(IPTablesNativeError) -> String {
    guard !name.isEmpty, name.utf8.count < IFNAMSIZ, !name.contains("/") else {
      throw place.error("bad interface name \(name)")
    }
    return name
  }

  /// `22`, `1024:65535`, `:100`, `1024:`; with `dash`, NAT's `1000-2000`.
  func portRange(_ text: String, _ place: Place, dash: Bool = false) throws(IPTablesNativeError) -> ClosedRange<UInt16>
  {
    let parts = text.split(separator: dash ? "-" : ":", omittingEmptySubsequences: false)
    guard parts.count <= 2, let first = parts[0].isEmpty ? 0 : UInt16(parts[0]) else {
      throw place.error("bad port \(text)")
    }
    guard parts.count == 2 else { return first...first }
    guard let last = parts[1].isEmpty ? UInt16.max : UInt16(parts[1]), first <= last else {
      throw place.error("bad port range \(text)")
    }
    return first...last
  }

  /// `--to-destination`/`--to-source`: `ADDR[-ADDR][:PORT[-PORT]]`, IPv6 as `[ADDR]:PORT` or `ADDR`.
  func natRange(_ text: String, _ place: Place) throws(IPTablesNativeError) -> IPTNATRange {
    var addresses = text
    var ports: String?
    if family == .ipv6 {
      if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
        addresses = String(text[text.index(after: text.startIndex)..<close])
        let rest = text[text.index(after: close)...]
        if rest.hasPrefix(":") {
          ports = String(rest.dropFirst())
        } else if !rest.isEmpty {
          throw place.error("bad NAT range \(text)")
        }
      }
    } else if let colon = text.firstIndex(of: ":") {
      addresses = String(text[..<colon])
      ports = String(text[text.index(after: colon)...])
    }
    let range = addresses.isEmpty ? nil : try addressRange(addresses, place)
    var portRange: ClosedRange<UInt16>?
    if let ports { portRange = try self.portRange(ports, place, dash: true) }
    return IPTNATRange(addresses: range, ports: portRange)
  }
}
