/// Everything a policy file means: the topology (if any) and one firewall per namespace.
public struct Policy: Hashable, Sendable {
  public var topology: Topology?
  public var firewalls: [Firewall]
  public init(topology: Topology? = nil, firewalls: [Firewall] = []) {
    self.topology = topology
    self.firewalls = firewalls
  }
  /// The firewall of one namespace.
  public func firewall(_ namespace: String) -> Firewall? {
    firewalls.first { $0.namespace == namespace }
  }
}

/// The tables of one network namespace.
public struct Firewall: Hashable, Sendable {
  /// The namespace name; `host` for a policy without topology.
  public var namespace: String
  public var ruleset: Ruleset
  public var location: SourceLocation
  public init(namespace: String, ruleset: Ruleset, location: SourceLocation = .unknown) {
    self.namespace = namespace
    self.ruleset = ruleset
    self.location = location
  }
  /// The namespace a policy without `topology` and `firewall` blocks stands for.
  public static let defaultNamespace = "host"
}

/// A set of tables, as one namespace holds them (what `nft list ruleset` shows).
public struct Ruleset: Hashable, Sendable {
  public var tables: [Table]
  public init(tables: [Table] = []) { self.tables = tables }
  /// The table with this family and name.
  public func table(_ family: Family, _ name: String) -> Table? {
    tables.first { $0.family == family && $0.name == name }
  }
}

/// A netfilter table: `table ip filter { … }`.
public struct Table: Hashable, Sendable {
  public var family: Family
  public var name: String
  public var sets: [NamedSet]
  public var chains: [Chain]
  public var location: SourceLocation
  public init(
    family: Family, name: String, sets: [NamedSet] = [], chains: [Chain] = [],
    location: SourceLocation = .unknown
  ) {
    self.family = family
    self.name = name
    self.sets = sets
    self.chains = chains
    self.location = location
  }
  /// The chain with this name.
  public func chain(_ name: String) -> Chain? { chains.first { $0.name == name } }
  /// The named set with this name.
  public func set(_ name: String) -> NamedSet? { sets.first { $0.name == name } }
}

/// A chain: a base chain attached to a hook, or a regular chain reached by jump/goto.
public struct Chain: Hashable, Sendable {
  /// Base or regular.
  public enum Kind: Hashable, Sendable {
    case base(BaseChain)
    case regular
  }
  public var name: String
  public var kind: Kind
  public var rules: [Rule]
  public var location: SourceLocation
  public init(name: String, kind: Kind, rules: [Rule] = [], location: SourceLocation = .unknown) {
    self.name = name
    self.kind = kind
    self.rules = rules
    self.location = location
  }
  /// The hook settings when this is a base chain.
  public var base: BaseChain? {
    if case .base(let b) = kind { return b }
    return nil
  }
}

/// The hook settings of a base chain: `type filter hook forward priority filter; policy drop;`.
public struct BaseChain: Hashable, Sendable {
  public var type: ChainType
  public var hook: Hook
  public var priority: Priority
  public var policy: ChainPolicy
  /// The device of an ingress chain.
  public var device: String?
  public var location: SourceLocation
  public init(
    type: ChainType, hook: Hook, priority: Priority, policy: ChainPolicy = .accept,
    device: String? = nil, location: SourceLocation = .unknown
  ) {
    self.type = type
    self.hook = hook
    self.priority = priority
    self.policy = policy
    self.device = device
    self.location = location
  }
}

/// A rule: matches (all must hold), then statements in order, then an optional verdict.
public struct Rule: Hashable, Sendable {
  public var matches: [Match]
  public var statements: [Statement]
  public var verdict: Verdict?
  /// Where the verdict was written.
  public var verdictLocation: SourceLocation
  /// The user's comment, without the origin the backends add.
  public var comment: String?
  public var location: SourceLocation
  public init(
    matches: [Match] = [], statements: [Statement] = [], verdict: Verdict? = nil,
    verdictLocation: SourceLocation = .unknown, comment: String? = nil,
    location: SourceLocation = .unknown
  ) {
    self.matches = matches
    self.statements = statements
    self.verdict = verdict
    self.verdictLocation = verdictLocation
    self.comment = comment
    self.location = location
  }
}

extension Rule {
  /// A rule with no match, statement or verdict does nothing, and nft cannot even load it: it
  /// takes a lone `comment` for the chain's comment (and refuses a second one). The error for
  /// such a rule, nil for any other.
  public var emptinessError: Diagnostic? {
    guard matches.isEmpty, statements.isEmpty, verdict == nil else { return nil }
    return .error(
      "this rule has no match, statement or verdict: it does nothing (add a verdict such as 'continue', or remove it)",
      at: location)
  }
}

extension Rule {
  /// The parts kept as written in `syntax` (opaque matches, then an opaque target), each with
  /// where it was written.
  public func opaqueParts(_ syntax: OpaqueSyntax) -> [(text: String, location: SourceLocation)] {
    var parts: [(text: String, location: SourceLocation)] = []
    for m in matches {
      if case .opaque(let opaque) = m.kind, opaque.syntax == syntax { parts.append((opaque.text, m.location)) }
    }
    if case .opaque(let target)? = verdict, target.syntax == syntax { parts.append((target.text, verdictLocation)) }
    return parts
  }

  /// True when the rule tests `iif`/`oif` (an interface's index, resolved where the rule loads).
  public var testsInterfaceIndex: Bool {
    matches.contains { if case .interfaceIndex = $0.kind { true } else { false } }
  }
}
