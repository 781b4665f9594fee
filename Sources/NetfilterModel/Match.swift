/// One condition of a rule. All matches of a rule must hold for its statements and verdict to run.
public struct Match: Hashable, Sendable {
  /// What is tested.
  public enum Kind: Hashable, Sendable {
    /// `ip saddr …`, `ip6 daddr …`.
    case address(IPVersion, Direction, Operand<AddressElement>)
    /// `meta nfproto ipv4`: the packet's IP version (nft accepts it in inet tables only).
    case nfproto(IPVersion)
    /// `ip protocol`, `ip6 nexthdr`, `meta l4proto`: the transport protocol.
    case l4proto(ProtocolField, Operand<UInt8>)
    /// `tcp dport 22`, `udp sport 1000-2000`.
    case port(TransportProtocol, Direction, Operand<PortRange>)
    /// `icmp type echo-request`, `icmpv6 type …`.
    case icmpType(IPVersion, Operand<UInt8>)
    /// `icmp code 3`, `icmpv6 code …`.
    case icmpCode(IPVersion, Operand<UInt8>)
    /// `iifname "veth*"`, `oifname { "eth0", "eth1" }`.
    case interface(Direction, Operand<InterfacePattern>)
    /// `iif "lo"`, `oif { "eth0", "eth1" }`: the interface by the index nft resolved its name to
    /// when the rule was loaded (nft refuses a name that does not exist then). Where names do not
    /// change, as in the engine, it holds for exactly the packets `iifname` with the name does.
    case interfaceIndex(Direction, Operand<String>)
    /// `physdev in "reth1"`: the bridge port a bridged packet came in on or leaves by.
    case bridgePort(Direction, InterfacePattern)
    /// `fib daddr type local`, `fib saddr type { broadcast, multicast }`: the kernel's type of
    /// the source or destination address in the namespace (iptables `-m addrtype`).
    case addressType(Direction, Set<AddressType>)
    /// `ct state established,related`: any of the states.
    case ctState(Set<CTState>)
    /// `meta mark 0x1`, `meta mark & 0xff == 0x1`.
    case mark(value: UInt32, mask: UInt32?)
    /// `ct mark 0x1`, `ct mark & 0xff == 0x1`: the connection's mark (iptables `-m connmark`).
    /// Never holds for a packet without a conntrack entry (untracked or invalid), negated or not.
    case ctMark(value: UInt32, mask: UInt32?)
    /// `ether saddr 00:11:22:33:44:55`.
    case etherSource(Operand<MACAddress>)
    /// `tcp flags syn / syn,ack`: `(flags & mask) == value`.
    case tcpFlags(value: TCPFlags, mask: TCPFlags)
    /// `limit rate 3/minute burst 5 packets` (stateful; `over` inverts).
    case limit(RateLimit)
    /// A match the model cannot evaluate exactly, kept verbatim so the rule is never dropped or
    /// widened. The engine answers `unknown` for a rule that reaches it.
    case opaque(OpaqueMatch)
  }

  public var kind: Kind
  /// `!=`: the match holds when the test does not.
  public var negated: Bool
  public var location: SourceLocation

  public init(_ kind: Kind, negated: Bool = false, location: SourceLocation = .unknown) {
    self.kind = kind
    self.negated = negated
    self.location = location
  }
}

/// The syntax an opaque part's text is written in: the one backend that can compile it back.
public enum OpaqueSyntax: String, Hashable, Sendable {
  /// iptables-save syntax (`-m owner --uid-owner 0`, `-j TCPMSS --clamp-mss-to-pmtu`).
  case iptables
  /// nft syntax (`fib daddr type local`, `flow add @ft`).
  case nft
  /// An nft JSON expression or statement, compact (`{"match":{"left":{"fib":…}}}`): no backend
  /// compiles it; it exists so `simulate --ruleset` on a JSON dump names what it cannot decide.
  case nftJSON = "nft-json"
}

/// A match the model keeps as written (an imported rule).
public struct OpaqueMatch: Hashable, Sendable {
  /// What it tests, for messages: `owner`, `fragment`, `fib`, `ct status`.
  public var module: String
  /// The match as written in `syntax`, with any negation (`-m owner ! --uid-owner 0`).
  public var text: String
  public var syntax: OpaqueSyntax
  public init(module: String, text: String, syntax: OpaqueSyntax = .iptables) {
    self.module = module
    self.text = text
    self.syntax = syntax
  }
}

extension OpaqueMatch {
  /// The words of nft text outside its quoted strings.
  public static func nftWords(_ text: String) -> [String] {
    var words: [String] = []
    var current = ""
    var quoted = false
    for c in text {
      if c == "\"" {
        quoted.toggle()
        continue
      }
      if quoted { continue }
      if c == " " || c == "\t" {
        if !current.isEmpty { words.append(current) }
        current = ""
      } else {
        current.append(c)
      }
    }
    if !current.isEmpty { words.append(current) }
    return words
  }

  /// Why nft text kept as written cannot go into a script as one part of one rule, nil when it
  /// can: outside its quotes it must not end the rule or open a comment (`;`, `#`, a line break)
  /// or close a block it did not open (`}`, `)`), so a policy can never reach tables it does not
  /// name through an opaque part.
  public static func nftTextProblem(_ text: String) -> String? {
    var quoted = false
    var depth: [Character] = []
    for c in text {
      if c == "\"" {
        quoted.toggle()
        continue
      }
      if quoted { continue }
      switch c {
      case ";", "#", "\n", "\r":
        return "'\(c == "\n" || c == "\r" ? "line break" : String(c))' outside quotes would end the rule"
      case "{", "(": depth.append(c)
      case "}", ")":
        guard let open = depth.popLast(), (open == "{") == (c == "}") else {
          return "'\(c)' closes what the part did not open"
        }
      default: break
      }
    }
    if quoted { return "an unterminated quote" }
    if let open = depth.last { return "'\(open)' is never closed" }
    return nil
  }
  /// What an nft expression tests, for messages: its first word, and the field for the
  /// multi-field keywords (`ct status`, `meta iiftype`, `tcp option`) or the set a statement
  /// updates (`add @blocked`).
  public static func nftModule<S: StringProtocol>(_ words: [S]) -> String {
    let multiField: Set<String> = [
      "ct", "meta", "tcp", "udp", "ip", "ip6", "icmp", "icmpv6", "ether", "rt", "th", "osf",
    ]
    if words.count >= 2, multiField.contains(String(words[0])) { return "\(words[0]) \(words[1])" }
    if words.count >= 2, ["add", "update", "delete"].contains(String(words[0])), words[1].hasPrefix("@") {
      return "\(words[0]) \(words[1])"
    }
    return words.first.map { String($0) } ?? "nft"
  }
}

/// Source or destination; input or output interface.
public enum Direction: String, Hashable, Sendable {
  case source, destination
  /// `in`/`out` for interfaces and bridge ports.
  public static var input: Direction { .source }
  public static var output: Direction { .destination }
}

/// Which header field names the transport protocol.
public enum ProtocolField: String, Hashable, Sendable {
  /// `ip protocol`
  case ipProtocol
  /// `ip6 nexthdr`
  case ip6NextHeader
  /// `meta l4proto`
  case metaL4proto
}

/// TCP or UDP, the protocols with ports.
public enum TransportProtocol: String, Hashable, Sendable, CaseIterable {
  case tcp, udp
  /// The IANA protocol number.
  public var number: UInt8 { self == .tcp ? 6 : 17 }
}

/// A single value, an anonymous set `{ a, b }`, or a named set `@name`.
public enum Operand<Element: Hashable & Sendable>: Hashable, Sendable {
  case single(Element)
  case set([Element])
  case named(String)

  /// The elements written inline (empty for a named set).
  public var inlineElements: [Element] {
    switch self {
    case .single(let e): return [e]
    case .set(let es): return es
    case .named: return []
    }
  }

  /// Transforms the elements, keeping the shape.
  public func map<T>(_ transform: (Element) -> T) -> Operand<T> {
    switch self {
    case .single(let e): return .single(transform(e))
    case .set(let es): return .set(es.map(transform))
    case .named(let n): return .named(n)
    }
  }
}

/// An address element: a prefix (a single address is a full-length prefix) or a range.
public enum AddressElement: Hashable, Sendable, Comparable, CustomStringConvertible {
  case prefix(IPPrefix)
  case range(IPAddress, IPAddress)

  public var version: IPVersion {
    switch self {
    case .prefix(let p): return p.version
    case .range(let a, _): return a.version
    }
  }
  /// First and last address covered.
  public var bounds: (IPAddress, IPAddress) {
    switch self {
    case .prefix(let p): return (p.first, p.last)
    case .range(let a, let b): return (a, b)
    }
  }
  /// True when the element covers `address`.
  public func contains(_ address: IPAddress) -> Bool {
    let (lo, hi) = bounds
    return address.version == version && lo <= address && address <= hi
  }
  /// True when the element is one address.
  public var isSingleAddress: Bool {
    if case .prefix(let p) = self { return p.isSingleAddress }
    return false
  }
  public var description: String {
    switch self {
    case .prefix(let p): return p.description
    case .range(let a, let b): return "\(a)-\(b)"
    }
  }
  public static func < (lhs: AddressElement, rhs: AddressElement) -> Bool {
    (lhs.bounds.0, lhs.bounds.1) < (rhs.bounds.0, rhs.bounds.1)
  }
}

/// A port or an inclusive port range: `22`, `1000-2000`.
public struct PortRange: Hashable, Sendable, Comparable, CustomStringConvertible {
  public var first: UInt16
  public var last: UInt16
  public init(_ first: UInt16, _ last: UInt16) {
    self.first = first
    self.last = last
  }
  public init(_ port: UInt16) { self.init(port, port) }
  public var isSinglePort: Bool { first == last }
  public func contains(_ port: UInt16) -> Bool { first <= port && port <= last }
  /// `22` or `1000-2000` (nft syntax).
  public var description: String { isSinglePort ? "\(first)" : "\(first)-\(last)" }
  public static func < (lhs: PortRange, rhs: PortRange) -> Bool {
    (lhs.first, lhs.last) < (rhs.first, rhs.last)
  }
}

/// An interface name, possibly ending in `*` (matches every name with that prefix).
public struct InterfacePattern: Hashable, Sendable, Comparable, CustomStringConvertible {
  /// The name without the wildcard.
  public var name: String
  public var isWildcard: Bool
  public init(name: String, isWildcard: Bool = false) {
    self.name = name
    self.isWildcard = isWildcard
  }
  /// Parses `eth0` or `veth*`.
  public init(parsing text: String) {
    if text.hasSuffix("*") {
      self.init(name: String(text.dropLast()), isWildcard: true)
    } else {
      self.init(name: text)
    }
  }
  /// True when an interface called `interface` matches.
  public func matches(_ interface: String) -> Bool {
    isWildcard ? interface.hasPrefix(name) : interface == name
  }
  /// nft syntax without quotes: `veth*`.
  public var description: String { isWildcard ? name + "*" : name }
  public static func < (lhs: InterfacePattern, rhs: InterfacePattern) -> Bool {
    lhs.description < rhs.description
  }
  /// The kernel's interface name limit (IFNAMSIZ − 1).
  public static let maximumLength = 15
}

/// What the kernel's routing tables say an address is (`RTN_*`, in their order): `fib … type`
/// and iptables' addrtype.
public enum AddressType: String, Hashable, Sendable, CaseIterable, Comparable {
  case unspec, unicast, local, broadcast, anycast, multicast, blackhole, unreachable, prohibit
  case `throw`, nat, xresolve
  /// `RTN_*`: the value `fib … type` loads.
  public var number: UInt32 { UInt32(AddressType.allCases.firstIndex(of: self)!) }
  /// The name iptables' addrtype uses: `LOCAL`.
  public var iptablesName: String { rawValue.uppercased() }
  public static func < (lhs: AddressType, rhs: AddressType) -> Bool { lhs.number < rhs.number }

  /// True when ip6tables' addrtype tests `types` as nft's `fib … type` does. Its IPv6 side
  /// (`match_type6`) reads UNICAST as "not a multicast address", requires MULTICAST and UNSPEC
  /// besides the rest, and takes only LOCAL, ANYCAST and UNREACHABLE from the route, as any of
  /// them: so a single MULTICAST, or some of those three.
  public static func ip6tablesAgrees(_ types: Set<AddressType>) -> Bool {
    let routeTypes: Set<AddressType> = [.local, .anycast, .unreachable]
    return types == [.multicast] || (!types.isEmpty && types.isSubset(of: routeTypes))
  }
}

/// A conntrack state, in the kernel's bit order.
public enum CTState: String, Hashable, Sendable, CaseIterable, Comparable {
  case invalid, established, related, new, untracked
  public static func < (lhs: CTState, rhs: CTState) -> Bool {
    allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
  }
}

/// TCP header flags.
public struct TCPFlags: OptionSet, Hashable, Sendable, CustomStringConvertible {
  public let rawValue: UInt8
  public init(rawValue: UInt8) { self.rawValue = rawValue }
  public static let fin = TCPFlags(rawValue: 0x01)
  public static let syn = TCPFlags(rawValue: 0x02)
  public static let rst = TCPFlags(rawValue: 0x04)
  public static let psh = TCPFlags(rawValue: 0x08)
  public static let ack = TCPFlags(rawValue: 0x10)
  public static let urg = TCPFlags(rawValue: 0x20)
  public static let ecn = TCPFlags(rawValue: 0x40)
  public static let cwr = TCPFlags(rawValue: 0x80)

  /// Names in bit order, as nft prints them.
  public static let names: [(String, TCPFlags)] = [
    ("fin", .fin), ("syn", .syn), ("rst", .rst), ("psh", .psh), ("ack", .ack), ("urg", .urg),
    ("ecn", .ecn), ("cwr", .cwr),
  ]
  /// The flag names set, in bit order.
  public var flagNames: [String] { TCPFlags.names.filter { contains($0.1) }.map(\.0) }
  /// `syn,ack` (nft list syntax).
  public var description: String { flagNames.joined(separator: ",") }
}

/// A rate limit: `limit rate [over] 3/minute [burst 5 packets]`.
public struct RateLimit: Hashable, Sendable, CustomStringConvertible {
  /// The time unit of the rate.
  public enum Unit: String, Hashable, Sendable, CaseIterable {
    case second, minute, hour, day, week
    /// Seconds in one unit.
    public var seconds: Int {
      switch self {
      case .second: return 1
      case .minute: return 60
      case .hour: return 3600
      case .day: return 86400
      case .week: return 604800
      }
    }
  }
  /// Packets or bytes per unit.
  public enum Quantity: String, Hashable, Sendable {
    case packets, bytes
  }
  public var rate: UInt64
  public var unit: Unit
  public var quantity: Quantity
  /// Tokens in the bucket; nil means the kernel default (5 packets).
  public var burst: UInt32?
  /// `over`: match packets above the rate instead of within it.
  public var over: Bool
  public init(
    rate: UInt64, unit: Unit, quantity: Quantity = .packets, burst: UInt32? = nil,
    over: Bool = false
  ) {
    self.rate = rate
    self.unit = unit
    self.quantity = quantity
    self.burst = burst
    self.over = over
  }
  /// The default burst of nft and iptables for packet limits.
  public static let defaultBurst: UInt32 = 5
  public var description: String {
    var s = "limit rate " + (over ? "over " : "")
    s += quantity == .packets ? "\(rate)/\(unit.rawValue)" : "\(rate) bytes/\(unit.rawValue)"
    if let burst, !(quantity == .packets && burst == RateLimit.defaultBurst) {
      s += " burst \(burst) \(quantity.rawValue)"
    }
    return s
  }
}
