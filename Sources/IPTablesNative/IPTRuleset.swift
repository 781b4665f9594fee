import IPTablesBackend

/// The IP version of an x_tables table: `iptables` (IPv4, libip4tc) or `ip6tables` (IPv6, libip6tc).
public enum IPTFamily: String, Codable, Sendable, Hashable, CaseIterable {
  case ipv4 = "ip"
  case ipv6 = "ip6"

  /// The address length in bytes.
  var addressLength: Int { self == .ipv4 ? 4 : 16 }
}

/// Compiled iptables rules in structured form: what `apply` turns into x_tables entries.
///
/// Parsed from `IPTablesCompiler` output (`iptables-restore` text), one table per `*table … COMMIT`
/// block and family.
public struct IPTRuleset: Sendable, Equatable {
  /// The tables, in the order they are committed.
  public var tables: [IPTTable]

  /// Creates a ruleset from tables.
  public init(tables: [IPTTable]) { self.tables = tables }

  /// Parses compiled output: `ipv4` as `iptables-restore` input, `ipv6` as `ip6tables-restore` input.
  ///
  /// Read: what `IPTablesCompiler` emits, including the iptables parts `firebreak import` keeps
  /// verbatim (the extensions `IPTMatch` and `IPTTarget` list); anything else is an error naming
  /// its line.
  public init(_ output: IPTablesOutput) throws(IPTablesNativeError) {
    var tables: [IPTTable] = []
    if let text = output.ipv4 { tables += try RestoreParser(family: .ipv4).parse(text) }
    if let text = output.ipv6 { tables += try RestoreParser(family: .ipv6).parse(text) }
    self.tables = tables
  }
}

/// One x_tables table as `iptables-restore` replaces it: every chain, every rule.
public struct IPTTable: Sendable, Equatable {
  /// `ip` or `ip6`.
  public var family: IPTFamily
  /// `filter`, `nat`, `mangle`, `raw` or `security`.
  public var name: String
  /// Builtin chains (with a policy) and user chains (without), as declared by `:CHAIN POLICY` lines.
  public var chains: [IPTChain]
  /// The rules in order; each names its chain.
  public var rules: [IPTRule]
  /// The line of `*table` in the parsed text (0 when built in code).
  public var line: Int

  /// Creates a table.
  public init(family: IPTFamily, name: String, chains: [IPTChain], rules: [IPTRule], line: Int = 0) {
    self.family = family
    self.name = name
    self.chains = chains
    self.rules = rules
    self.line = line
  }

  /// `ip filter`, as errors name the table.
  public var label: String { "\(family.rawValue) \(name)" }
}

/// A chain declaration: `:INPUT DROP [0:0]` (builtin) or `:sub - [0:0]` (user chain).
public struct IPTChain: Sendable, Equatable {
  /// The chain name.
  public var name: String
  /// `ACCEPT` or `DROP` for a builtin chain; nil for a user chain.
  public var policy: String?

  /// Creates a chain declaration.
  public init(name: String, policy: String?) {
    self.name = name
    self.policy = policy
  }
}

/// One rule: `-A CHAIN [-s …] [-d …] [-i …] [-o …] [-p …] [-m …]… [-j|-g …]`.
public struct IPTRule: Sendable, Equatable {
  /// The chain the rule is appended to.
  public var chain: String
  /// The fixed fields of the entry (`struct ipt_ip` / `struct ip6t_ip6`).
  public var header: IPTRuleHeader
  /// Match extensions in order.
  public var matches: [IPTMatch]
  /// The target; `.fallThrough` when the rule has no `-j`.
  public var target: IPTTarget
  /// The line in the parsed text (0 when built in code).
  public var line: Int

  /// Creates a rule.
  public init(
    chain: String, header: IPTRuleHeader = IPTRuleHeader(), matches: [IPTMatch] = [], target: IPTTarget,
    line: Int = 0
  ) {
    self.chain = chain
    self.header = header
    self.matches = matches
    self.target = target
    self.line = line
  }
}

/// A value with the `!` that may precede its option.
public struct IPTNegatable<Value: Sendable & Equatable>: Sendable, Equatable {
  /// The value.
  public var value: Value
  /// True for `! -s …`.
  public var negated: Bool

  /// Creates a value, negated or not.
  public init(_ value: Value, negated: Bool = false) {
    self.value = value
    self.negated = negated
  }
}

/// An address with a prefix length, as `-s`/`-d` take it: `10.0.0.0/8`.
public struct IPTPrefix: Sendable, Equatable {
  /// Network-order bytes (4 or 16), already masked.
  public var address: [UInt8]
  /// The prefix length.
  public var length: Int

  /// Creates a prefix; host bits are cleared as iptables clears them.
  public init(address: [UInt8], length: Int) {
    self.length = length
    self.address = zip(address, IPTPrefix.mask(length: length, bytes: address.count)).map { $0 & $1 }
  }

  /// The netmask bytes of a prefix length.
  static func mask(length: Int, bytes: Int) -> [UInt8] {
    (0..<bytes).map { i in
      let bits = max(0, min(8, length - i * 8))
      return bits == 0 ? 0 : UInt8(truncatingIfNeeded: 0xFF << (8 - bits))
    }
  }

  /// The netmask bytes.
  var mask: [UInt8] { IPTPrefix.mask(length: length, bytes: address.count) }
}

/// The fixed part of a rule: addresses, interfaces, protocol.
public struct IPTRuleHeader: Sendable, Equatable {
  /// `-s`.
  public var source: IPTNegatable<IPTPrefix>?
  /// `-d`.
  public var destination: IPTNegatable<IPTPrefix>?
  /// `-i` (a trailing `+` is a wildcard, as iptables writes it).
  public var inInterface: IPTNegatable<String>?
  /// `-o`.
  public var outInterface: IPTNegatable<String>?
  /// `-p` as a number (0 is `all`).
  public var proto: IPTNegatable<UInt8>?

  /// Creates a header.
  public init(
    source: IPTNegatable<IPTPrefix>? = nil, destination: IPTNegatable<IPTPrefix>? = nil,
    inInterface: IPTNegatable<String>? = nil, outInterface: IPTNegatable<String>? = nil,
    proto: IPTNegatable<UInt8>? = nil
  ) {
    self.source = source
    self.destination = destination
    self.inInterface = inInterface
    self.outInterface = outInterface
    self.proto = proto
  }
}
