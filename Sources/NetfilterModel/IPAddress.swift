/// An IPv4 or IPv6 address.
public enum IPAddress: Hashable, Sendable, Comparable, CustomStringConvertible {
  case v4(UInt32)
  /// The 128 bits as two big-endian halves.
  case v6(UInt64, UInt64)

  /// Parses dotted-quad IPv4 (`11.11.11.2`) or RFC 4291 IPv6 text (`2001:db8::1`, `::ffff:1.2.3.4`).
  public init?(_ text: some StringProtocol) {
    if text.contains(":") {
      guard let (hi, lo) = IPAddress.parseV6(Substring(text)) else { return nil }
      self = .v6(hi, lo)
    } else {
      guard let v = IPAddress.parseV4(Substring(text)) else { return nil }
      self = .v4(v)
    }
  }

  /// The address family.
  public var version: IPVersion {
    switch self {
    case .v4: return .v4
    case .v6: return .v6
    }
  }

  /// Number of bits in addresses of this family.
  public var bitWidth: Int { version.bitWidth }

  /// Canonical text: dotted quad, or RFC 5952 compressed IPv6 (as `inet_ntop` and nft print it).
  public var description: String {
    switch self {
    case .v4(let v):
      return "\(v >> 24).\((v >> 16) & 0xff).\((v >> 8) & 0xff).\(v & 0xff)"
    case .v6(let hi, let lo):
      let groups: [UInt16] = (0..<8).map { i in
        let word = i < 4 ? hi : lo
        return UInt16(truncatingIfNeeded: word >> (UInt64(3 - i % 4) * 16))
      }
      return IPAddress.formatV6(groups)
    }
  }

  /// The next address, or nil after the last one.
  public var successor: IPAddress? {
    switch self {
    case .v4(let v): return v == .max ? nil : .v4(v + 1)
    case .v6(let hi, let lo):
      if lo != .max { return .v6(hi, lo + 1) }
      return hi == .max ? nil : .v6(hi + 1, 0)
    }
  }

  /// The address with all bits after `length` cleared.
  public func masked(to length: Int) -> IPAddress {
    switch self {
    case .v4(let v):
      return .v4(length == 0 ? 0 : v & (UInt32.max << UInt32(32 - length)))
    case .v6(let hi, let lo):
      if length <= 64 {
        return .v6(length == 0 ? 0 : hi & (UInt64.max << UInt64(64 - length)), 0)
      }
      return .v6(hi, lo & (UInt64.max << UInt64(128 - length)))
    }
  }

  /// The address with all bits after `length` set (the last address of the prefix).
  public func lastAddress(prefixLength length: Int) -> IPAddress {
    switch self {
    case .v4(let v):
      return .v4(length == 32 ? v : v | (UInt32.max >> UInt32(length)))
    case .v6(let hi, let lo):
      if length >= 64 {
        return .v6(hi, length == 128 ? lo : lo | (UInt64.max >> UInt64(length - 64)))
      }
      return .v6(hi | (length == 0 ? UInt64.max : UInt64.max >> UInt64(length)), UInt64.max)
    }
  }

  public static func < (lhs: IPAddress, rhs: IPAddress) -> Bool {
    switch (lhs, rhs) {
    case (.v4(let a), .v4(let b)): return a < b
    case (.v6(let a1, let a2), .v6(let b1, let b2)): return (a1, a2) < (b1, b2)
    case (.v4, .v6): return true
    case (.v6, .v4): return false
    }
  }

  static func parseV4(_ text: Substring) -> UInt32? {
    let parts = text.split(separator: ".", omittingEmptySubsequences: false)
    guard parts.count == 4 else { return nil }
    var value: UInt32 = 0
    for part in parts {
      guard !part.isEmpty, part.count <= 3, part.allSatisfy({ $0.isASCII && $0.isNumber }),
        let octet = UInt32(part), octet <= 255
      else { return nil }
      // Leading zeros are ambiguous (octal in inet_aton); refuse them rather than guess.
      if part.count > 1 && part.first == "0" { return nil }
      value = value << 8 | octet
    }
    return value
  }

  static func parseV6(_ text: Substring) -> (UInt64, UInt64)? {
    var groups: [UInt16] = []
    var tail: [UInt16] = []
    var sawDoubleColon = false
    var halves = [text]
    if let r = text.firstRange(of: "::") {
      halves = [text[..<r.lowerBound], text[r.upperBound...]]
      if halves[1].firstRange(of: "::") != nil { return nil }
    }
    sawDoubleColon = halves.count == 2
    func parseGroups(_ s: Substring, allowV4Tail: Bool) -> [UInt16]? {
      if s.isEmpty { return [] }
      var out: [UInt16] = []
      let pieces = s.split(separator: ":", omittingEmptySubsequences: false)
      for (i, piece) in pieces.enumerated() {
        if i == pieces.count - 1 && allowV4Tail && piece.contains(".") {
          guard let v4 = parseV4(piece) else { return nil }
          out.append(UInt16(v4 >> 16))
          out.append(UInt16(v4 & 0xffff))
        } else {
          guard !piece.isEmpty, piece.count <= 4, let g = UInt16(piece, radix: 16) else { return nil }
          out.append(g)
        }
      }
      return out
    }
    if sawDoubleColon {
      guard let head = parseGroups(Substring(halves[0]), allowV4Tail: false),
        let rest = parseGroups(Substring(halves[1]), allowV4Tail: true),
        head.count + rest.count <= 7
      else { return nil }
      groups = head
      tail = rest
      groups += Array(repeating: 0, count: 8 - head.count - rest.count) + tail
    } else {
      guard let all = parseGroups(text, allowV4Tail: true), all.count == 8 else { return nil }
      groups = all
    }
    var hi: UInt64 = 0
    var lo: UInt64 = 0
    for (i, g) in groups.enumerated() {
      if i < 4 { hi = hi << 16 | UInt64(g) } else { lo = lo << 16 | UInt64(g) }
    }
    return (hi, lo)
  }

  static func formatV6(_ groups: [UInt16]) -> String {
    // RFC 5952: compress the longest run (>= 2) of zero groups, the first one on ties.
    var bestStart = -1
    var bestLength = 0
    var i = 0
    while i < 8 {
      if groups[i] == 0 {
        var j = i
        while j < 8 && groups[j] == 0 { j += 1 }
        if j - i > bestLength && j - i >= 2 {
          bestStart = i
          bestLength = j - i
        }
        i = j
      } else {
        i += 1
      }
    }
    let hex = groups.map { String($0, radix: 16) }
    if bestStart < 0 { return hex.joined(separator: ":") }
    let head = hex[0..<bestStart].joined(separator: ":")
    let tail = hex[(bestStart + bestLength)...].joined(separator: ":")
    return head + "::" + tail
  }
}

/// IPv4 or IPv6.
public enum IPVersion: String, Hashable, Sendable {
  case v4 = "ipv4"
  case v6 = "ipv6"
  /// Address width in bits.
  public var bitWidth: Int { self == .v4 ? 32 : 128 }
}

/// A network prefix with no host bits set: `11.11.11.0/24`. A full-length prefix is one address.
public struct IPPrefix: Hashable, Sendable, Comparable, CustomStringConvertible {
  public var address: IPAddress
  public var length: Int

  /// A prefix; `address` must have no bits set past `length` (use `init?(parsing:)` to check).
  public init(address: IPAddress, length: Int) {
    self.address = address
    self.length = length
  }

  /// One address as a full-length prefix.
  public init(_ address: IPAddress) {
    self.init(address: address, length: address.bitWidth)
  }

  /// The first address covered.
  public var first: IPAddress { address }
  /// The last address covered.
  public var last: IPAddress { address.lastAddress(prefixLength: length) }
  /// True when the prefix covers exactly one address.
  public var isSingleAddress: Bool { length == address.bitWidth }
  public var version: IPVersion { address.version }

  /// `1.2.3.0/24`, or the bare address for a full-length prefix (as nft lists it).
  public var description: String {
    isSingleAddress ? address.description : "\(address)/\(length)"
  }

  /// True when `other` lies inside this prefix.
  public func contains(_ other: IPAddress) -> Bool {
    other.version == version && other.masked(to: length) == address
  }

  public static func < (lhs: IPPrefix, rhs: IPPrefix) -> Bool {
    (lhs.address, lhs.length) < (rhs.address, rhs.length)
  }
}

/// An address with its prefix length as configured on an interface: `11.11.11.2/24` (host bits kept).
public struct InterfaceAddress: Hashable, Sendable, CustomStringConvertible {
  public var address: IPAddress
  public var prefixLength: Int
  public init(address: IPAddress, prefixLength: Int) {
    self.address = address
    self.prefixLength = prefixLength
  }
  /// The network the address lives in.
  public var network: IPPrefix {
    IPPrefix(address: address.masked(to: prefixLength), length: prefixLength)
  }
  public var description: String { "\(address)/\(prefixLength)" }
}

/// An Ethernet MAC address.
public struct MACAddress: Hashable, Sendable, Comparable, CustomStringConvertible {
  public var octets: [UInt8]

  /// Parses `00:11:22:aa:bb:cc` (colon-separated, 1–2 hex digits each).
  public init?(_ text: some StringProtocol) {
    let parts = text.split(separator: ":", omittingEmptySubsequences: false)
    guard parts.count == 6 else { return nil }
    var octets: [UInt8] = []
    for part in parts {
      guard (1...2).contains(part.count), let b = UInt8(part, radix: 16) else { return nil }
      octets.append(b)
    }
    self.octets = octets
  }

  /// Lower-case, two digits per octet, as nft and iptables list it.
  public var description: String {
    octets.map { $0 < 16 ? "0" + String($0, radix: 16) : String($0, radix: 16) }
      .joined(separator: ":")
  }

  public static func < (lhs: MACAddress, rhs: MACAddress) -> Bool {
    lhs.octets.lexicographicallyPrecedes(rhs.octets)
  }
}
