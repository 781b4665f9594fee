import NetfilterModel

/// Model elements from nft values: addresses, ports, protocol numbers, interface names, MACs,
/// conntrack states, TCP flags, marks and ICMP types, each nil when the text is not one.
enum NFTValues {
  /// `10.0.0.1`, `10.0.0.0/8` (host bits are cleared, as nft does), `10.0.0.1-10.0.0.9`, or a
  /// spaced range.
  static func address(_ value: NFTValue) -> AddressElement? {
    switch value {
    case .range(let a, let b):
      guard let lo = a.atomText.flatMap(IPAddress.init), let hi = b.atomText.flatMap(IPAddress.init),
        lo.version == hi.version, lo <= hi
      else { return nil }
      return .range(lo, hi)
    case .atom(let t) where t.kind == .word:
      let text = t.text
      if let slash = text.firstIndex(of: "/") {
        guard let a = IPAddress(text[..<slash]), let length = Int(text[text.index(after: slash)...]),
          (0...a.bitWidth).contains(length)
        else { return nil }
        return .prefix(IPPrefix(address: a.masked(to: length), length: length))
      }
      if let a = IPAddress(text) { return .prefix(IPPrefix(a)) }
      if let dash = text.firstIndex(of: "-"), let lo = IPAddress(text[..<dash]),
        let hi = IPAddress(text[text.index(after: dash)...]), lo.version == hi.version, lo <= hi
      {
        return .range(lo, hi)
      }
      return nil
    default: return nil
    }
  }

  /// `22`, `ssh`, `1024-65535` or a spaced range.
  static func port(_ value: NFTValue) -> PortRange? {
    switch value {
    case .range(let a, let b):
      guard let lo = a.atomText.flatMap(portNumber), let hi = b.atomText.flatMap(portNumber), lo <= hi else {
        return nil
      }
      return PortRange(lo, hi)
    case .atom(let t) where t.kind == .word:
      if let p = portNumber(t.text) { return PortRange(p) }
      if let dash = t.text.firstIndex(of: "-"), dash != t.text.startIndex,
        let lo = portNumber(String(t.text[..<dash])), let hi = portNumber(String(t.text[t.text.index(after: dash)...])),
        lo <= hi
      {
        return PortRange(lo, hi)
      }
      return nil
    default: return nil
    }
  }

  /// A decimal or hex number, or a service name nft knows from `/etc/services`.
  static func portNumber(_ text: String) -> UInt16? {
    if let n = number(text) { return UInt16(exactly: n) }
    return services[text]
  }

  /// The services of Debian's netbase `/etc/services` that firewalls name most.
  static let services: [String: UInt16] = [
    "ftp-data": 20, "ftp": 21, "ssh": 22, "telnet": 23, "smtp": 25, "time": 37, "whois": 43, "tacacs": 49,
    "domain": 53, "bootps": 67, "bootpc": 68, "tftp": 69, "gopher": 70, "finger": 79, "http": 80, "kerberos": 88,
    "pop3": 110, "sunrpc": 111, "auth": 113, "nntp": 119, "ntp": 123, "epmap": 135, "netbios-ns": 137,
    "netbios-dgm": 138, "netbios-ssn": 139, "imap2": 143, "snmp": 161, "snmp-trap": 162, "bgp": 179, "irc": 194,
    "ldap": 389, "https": 443, "microsoft-ds": 445, "kpasswd": 464, "submissions": 465, "isakmp": 500,
    "syslog": 514, "printer": 515, "talk": 517, "ntalk": 518, "route": 520, "dhcpv6-client": 546,
    "dhcpv6-server": 547, "rtsp": 554, "nntps": 563, "submission": 587, "ipp": 631, "ldaps": 636, "rsync": 873,
    "domain-s": 853, "ftps-data": 989, "ftps": 990, "telnets": 992, "imaps": 993, "pop3s": 995, "socks": 1080,
    "openvpn": 1194, "ms-sql-s": 1433, "ms-sql-m": 1434, "pptp": 1723, "radius": 1812, "radius-acct": 1813,
    "nfs": 2049, "mysql": 3306, "ms-wbt-server": 3389, "ipsec-nat-t": 4500, "sip": 5060, "sip-tls": 5061,
    "xmpp-client": 5222, "xmpp-server": 5269, "postgresql": 5432, "x11": 6000, "http-alt": 8080,
  ]

  /// Decimal or `0x` hex.
  static func number(_ text: String) -> UInt64? {
    if text.hasPrefix("0x") || text.hasPrefix("0X") { return UInt64(text.dropFirst(2), radix: 16) }
    return UInt64(text)
  }

  /// `tcp`, `6`.
  static func proto(_ value: NFTValue) -> UInt8? {
    guard case .atom(let t) = value, t.kind == .word else { return nil }
    if let n = number(t.text) { return UInt8(exactly: n) }
    return ProtocolNames.protocolNumber(t.text)
  }

  /// `"eth0"`, `eth0`, `"veth*"`; nil for a literal star (`"eth\*"`) or an empty name.
  static func interface(_ value: NFTValue) -> InterfacePattern? {
    guard case .atom(let t) = value, !t.text.isEmpty, !t.text.contains("\\"), t.text != "*" else { return nil }
    let pattern = InterfacePattern(parsing: t.text)
    guard !pattern.name.contains("*") else { return nil }
    return pattern
  }

  static func mac(_ value: NFTValue) -> MACAddress? {
    guard case .atom(let t) = value, t.kind == .word else { return nil }
    return MACAddress(t.text)
  }

  /// A type or code by name from `table`, or a number.
  static func named(_ value: NFTValue, in table: [(String, UInt8)]) -> UInt8? {
    guard case .atom(let t) = value, t.kind == .word else { return nil }
    if let n = number(t.text) { return UInt8(exactly: n) }
    return table.first { $0.0 == t.text }?.1
  }

  static func ctState(_ value: NFTValue) -> CTState? {
    guard case .atom(let t) = value, t.kind == .word else { return nil }
    return CTState(rawValue: t.text)
  }

  /// `syn`, `syn,ack`, `syn | ack`, `(fin | syn)` or a number.
  static func tcpFlags(_ value: NFTValue) -> TCPFlags? {
    var flags = TCPFlags()
    for item in value.flagItems {
      guard case .atom(let t) = item, t.kind == .word else { return nil }
      if let n = number(t.text), let byte = UInt8(exactly: n) {
        flags.formUnion(TCPFlags(rawValue: byte))
      } else if let f = TCPFlags.names.first(where: { $0.0 == t.text })?.1 {
        flags.insert(f)
      } else {
        return nil
      }
    }
    return flags
  }

  /// A 32-bit number.
  static func mark(_ value: NFTValue) -> UInt32? {
    guard case .atom(let t) = value, t.kind == .word, let n = number(t.text) else { return nil }
    return UInt32(exactly: n)
  }
}
