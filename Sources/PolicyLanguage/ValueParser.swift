import NetfilterModel

/// Turns value tokens into typed model values, with located errors.
enum ValueParser {
  static func fail(_ message: String, _ token: Token) -> Diagnostic {
    .error(message, at: token.location)
  }

  /// `10.0.0.0/8`, `1.2.3.4`, `1.2.3.4-1.2.3.9`, `2001:db8::/32`.
  static func addressElement(_ token: Token) throws -> AddressElement {
    guard token.kind == .word else { throw fail("expected an address, found '\(token)'", token) }
    let text = token.text
    if let slash = text.firstIndex(of: "/") {
      let addressText = text[..<slash]
      let lengthText = text[text.index(after: slash)...]
      guard let address = IPAddress(addressText) else {
        throw fail("'\(addressText)' is not an IPv4 or IPv6 address", token)
      }
      guard let length = Int(lengthText), length >= 0, length <= address.bitWidth else {
        throw fail(
          "bad prefix length '/\(lengthText)' in \(text): \(address.version == .v4 ? "IPv4" : "IPv6") prefixes are 0 to \(address.bitWidth)",
          token)
      }
      let network = address.masked(to: length)
      if network != address {
        throw fail("host bits set in \(text); the network is \(network)/\(length)", token)
      }
      return .prefix(IPPrefix(address: address, length: length))
    }
    if !text.contains(":"), let dash = text.firstIndex(of: "-") {
      guard let a = IPAddress(text[..<dash]), let b = IPAddress(text[text.index(after: dash)...])
      else { throw fail("'\(text)' is not an address range (write 1.2.3.4-1.2.3.9)", token) }
      guard a.version == b.version else { throw fail("range \(text) mixes IPv4 and IPv6", token) }
      guard a <= b else { throw fail("range \(text) is empty: \(a) comes after \(b)", token) }
      return .range(a, b)
    }
    if text.contains(":"), text.contains("-") {
      let parts = text.split(separator: "-", omittingEmptySubsequences: false)
      if parts.count == 2, let a = IPAddress(parts[0]), let b = IPAddress(parts[1]) {
        guard a <= b else { throw fail("range \(text) is empty: \(a) comes after \(b)", token) }
        return .range(a, b)
      }
    }
    guard let address = IPAddress(text) else {
      throw fail("'\(text)' is not an IPv4 or IPv6 address", token)
    }
    return .prefix(IPPrefix(address))
  }

  /// Well-known service names accepted for ports.
  static let services: [String: UInt16] = [
    "ssh": 22, "smtp": 25, "domain": 53, "http": 80, "ntp": 123, "https": 443, "telnet": 23,
    "ftp": 21,
  ]

  static func port(_ text: Substring, _ token: Token) throws -> UInt16 {
    if let named = services[String(text)] { return named }
    guard let n = Int(text), text.allSatisfy({ $0.isASCII && $0.isNumber }) else {
      throw fail("'\(text)' is not a port number", token)
    }
    guard (0...65535).contains(n) else {
      throw fail("bad port \(n): ports are 0 to 65535", token)
    }
    return UInt16(n)
  }

  /// `22`, `ssh`, `1000-2000`.
  static func portRange(_ token: Token) throws -> PortRange {
    guard token.kind == .word else { throw fail("expected a port, found '\(token)'", token) }
    let text = token.text
    if let dash = text.firstIndex(of: "-"), dash != text.startIndex {
      let a = try port(text[..<dash], token)
      let b = try port(text[text.index(after: dash)...], token)
      guard a <= b else { throw fail("port range \(text) is empty: \(a) is above \(b)", token) }
      return PortRange(a, b)
    }
    return PortRange(try port(Substring(text), token))
  }

  /// An interface name or `prefix*` pattern, at most 15 bytes. A lone `*` is refused unless
  /// `anyAllowed` (a bridge port: `physdev in "*"` is iptables' "bridged at all").
  static func interface(_ token: Token, anyAllowed: Bool = false) throws -> InterfacePattern {
    guard token.kind == .word || token.kind == .string else {
      throw fail("expected an interface name, found '\(token)'", token)
    }
    let pattern = InterfacePattern(parsing: token.text)
    if pattern.isWildcard && pattern.name.isEmpty {
      guard anyAllowed else {
        throw fail("'*' alone matches every interface (and nft refuses it); remove the match", token)
      }
      return pattern
    }
    try checkInterfaceName(pattern.name, token)
    return pattern
  }

  static func checkInterfaceName(_ name: String, _ token: Token, allowEmpty: Bool = false) throws {
    if name.contains("*") {
      throw fail("'*' is only allowed at the end of an interface name ('veth*')", token)
    }
    if name.isEmpty && !allowEmpty { throw fail("empty interface name", token) }
    if name.utf8.count > InterfacePattern.maximumLength {
      throw fail(
        "interface name '\(name)' is \(name.utf8.count) bytes; the kernel allows at most \(InterfacePattern.maximumLength)",
        token)
    }
    if name.contains("/") || name.contains(":") || name.contains(where: { $0 == " " || !$0.isASCII }) {
      throw fail("interface name '\(name)' may not contain '/', ':', spaces or non-ASCII characters", token)
    }
  }

  static func mac(_ token: Token) throws -> MACAddress {
    guard token.kind == .word, let m = MACAddress(token.text) else {
      throw fail("'\(token)' is not a MAC address (write 00:11:22:33:44:55)", token)
    }
    return m
  }

  static func mark(_ token: Token) throws -> UInt32 {
    guard token.kind == .word else { throw fail("expected a mark value, found '\(token)'", token) }
    let text = token.text
    let value: UInt32?
    if text.hasPrefix("0x") {
      value = UInt32(text.dropFirst(2), radix: 16)
    } else {
      value = UInt32(text)
    }
    guard let value else {
      throw fail("'\(text)' is not a 32-bit mark (decimal or 0x hex)", token)
    }
    return value
  }

  static func addressType(_ token: Token) throws -> AddressType {
    guard token.kind == .word, let t = AddressType(rawValue: token.text) else {
      throw fail(
        "unknown address type '\(token)' (known: \(AddressType.allCases.map(\.rawValue).joined(separator: ", ")))",
        token)
    }
    return t
  }

  static func ctState(_ token: Token) throws -> CTState {
    guard token.kind == .word, let s = CTState(rawValue: token.text) else {
      throw fail(
        "unknown conntrack state '\(token)' (known: \(CTState.allCases.map(\.rawValue).joined(separator: ", ")))",
        token)
    }
    return s
  }

  static func proto(_ token: Token) throws -> UInt8 {
    guard token.kind == .word, let n = ProtocolNames.protocolNumber(token.text) else {
      throw fail("unknown protocol '\(token)' (use a name like tcp, udp, icmp or a number 0-255)", token)
    }
    return n
  }

  static func icmpType(_ token: Token, _ version: IPVersion) throws -> UInt8 {
    let table = ProtocolNames.icmpTypeTable(version)
    guard token.kind == .word, let n = ProtocolNames.number(token.text, in: table) else {
      throw fail(
        "unknown \(version == .v4 ? "icmp" : "icmpv6") type '\(token)' (e.g. \(table.prefix(3).map(\.0).joined(separator: ", ")))",
        token)
    }
    return n
  }

  static func icmpCode(_ token: Token, _ version: IPVersion) throws -> UInt8 {
    let table = ProtocolNames.icmpCodeTable(version)
    guard token.kind == .word, let n = ProtocolNames.number(token.text, in: table) else {
      throw fail("unknown \(version == .v4 ? "icmp" : "icmpv6") code '\(token)'", token)
    }
    return n
  }

  /// `to 1.2.3.4`, `to 1.2.3.4:8080`, `to 1.2.3.4-1.2.3.9:1000-2000`, `to 2001:db8::1`.
  static func natDestination(_ token: Token) throws -> NATDestination {
    guard token.kind == .word else { throw fail("expected an address after 'to', found '\(token)'", token) }
    let text = token.text
    var addressPart = Substring(text)
    var ports: PortRange?
    if !text.contains("::") && text.filter({ $0 == ":" }).count == 1, let colon = text.firstIndex(of: ":") {
      addressPart = text[..<colon]
      let portToken = Token(.word, String(text[text.index(after: colon)...]), at: token.location)
      ports = try portRange(portToken)
    }
    if let dash = addressPart.firstIndex(of: "-") {
      guard let a = IPAddress(addressPart[..<dash]), let b = IPAddress(addressPart[addressPart.index(after: dash)...]),
        a.version == b.version, a <= b
      else { throw fail("'\(addressPart)' is not an address range", token) }
      return NATDestination(address: a, lastAddress: b, ports: ports)
    }
    guard let a = IPAddress(addressPart) else {
      throw fail("'\(addressPart)' is not an IPv4 or IPv6 address", token)
    }
    return NATDestination(address: a, ports: ports)
  }

  /// `:8080` or `:1000-2000` (masquerade/redirect ports).
  static func portsAfterColon(_ token: Token) throws -> PortRange {
    guard token.kind == .word, token.text.hasPrefix(":") else {
      throw fail("expected ':PORT' or ':PORT-PORT', found '\(token)'", token)
    }
    return try portRange(Token(.word, String(token.text.dropFirst()), at: token.location))
  }
}
