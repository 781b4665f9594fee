/// A netfilter address family (`nft` table family).
public enum Family: String, Hashable, Sendable, CaseIterable {
  case ip, ip6, inet, arp, bridge, netdev

  /// The IP versions a table of this family sees.
  public var ipVersions: [IPVersion] {
    switch self {
    case .ip: return [.v4]
    case .ip6: return [.v6]
    case .inet, .bridge, .netdev: return [.v4, .v6]
    case .arp: return []
    }
  }

  /// True for the families whose tables hook the IP stack (ip, ip6, inet).
  public var isIP: Bool { self == .ip || self == .ip6 || self == .inet }
}

/// A netfilter hook, where a base chain is attached.
public enum Hook: String, Hashable, Sendable, CaseIterable, Comparable {
  case prerouting, input, forward, output, postrouting, ingress

  /// The builtin iptables chain name for this hook (`PREROUTING`, …).
  public var builtinChainName: String { rawValue.uppercased() }

  /// Position in `allCases`, without building the array (hot paths index tables by hook).
  public var ordinal: Int {
    switch self {
    case .prerouting: return 0
    case .input: return 1
    case .forward: return 2
    case .output: return 3
    case .postrouting: return 4
    case .ingress: return 5
    }
  }

  public static func < (lhs: Hook, rhs: Hook) -> Bool { lhs.ordinal < rhs.ordinal }
}

/// A base chain type: what the kernel lets the chain do.
public enum ChainType: String, Hashable, Sendable, CaseIterable {
  case filter, nat, route

  /// Hooks the kernel accepts for this type in the ip/ip6/inet families.
  public var allowedHooks: Set<Hook> {
    switch self {
    case .filter: return [.prerouting, .input, .forward, .output, .postrouting, .ingress]
    case .nat: return [.prerouting, .input, .output, .postrouting]
    case .route: return [.output]
    }
  }
}

/// What a base chain does with a packet that no rule decided.
public enum ChainPolicy: String, Hashable, Sendable {
  case accept, drop
}

/// A base chain priority: a number, or a standard name plus an offset (`filter + 10`).
public struct Priority: Hashable, Sendable, CustomStringConvertible {
  /// The standard priority names of the ip/ip6/inet families.
  public enum Name: String, Hashable, Sendable, CaseIterable {
    case raw, mangle, dstnat, filter, security, srcnat
    /// The number the name stands for (`NF_IP_PRI_*`).
    public var value: Int {
      switch self {
      case .raw: return -300
      case .mangle: return -150
      case .dstnat: return -100
      case .filter: return 0
      case .security: return 50
      case .srcnat: return 100
      }
    }
    /// Hooks where nft accepts and lists the name (dstnat and srcnat are hook-specific).
    public func isValid(on hook: Hook) -> Bool {
      switch self {
      case .dstnat: return hook == .prerouting
      case .srcnat: return hook == .postrouting
      default: return true
      }
    }
  }

  /// The standard name this priority was written with, if any.
  public var name: Name?
  /// The offset from the name, or the whole value when there is no name.
  public var offset: Int

  public init(name: Name?, offset: Int = 0) {
    self.name = name
    self.offset = offset
  }

  /// A plain numeric priority.
  public static func number(_ value: Int) -> Priority { Priority(name: nil, offset: value) }

  /// The numeric value the kernel sees.
  public var value: Int { (name?.value ?? 0) + offset }

  /// How the policy wrote it: `filter`, `filter + 10`, `-5`.
  public var description: String {
    guard let name else { return String(offset) }
    if offset == 0 { return name.rawValue }
    return offset > 0 ? "\(name.rawValue) + \(offset)" : "\(name.rawValue) - \(-offset)"
  }

  // Two priorities are the same when the kernel sees the same number.
  public static func == (lhs: Priority, rhs: Priority) -> Bool { lhs.value == rhs.value }
  public func hash(into hasher: inout Hasher) { hasher.combine(value) }
}
