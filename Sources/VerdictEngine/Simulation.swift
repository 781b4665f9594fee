import NetfilterModel

/// The engine's answer for one packet: the verdict, what decided it, the hooks it crossed and a
/// trace of every rule consulted. Its fields live in one copy-on-write box: an answer passes
/// through several layers on its way out, and bulk runs make millions of them.
public struct Simulation: Hashable, Sendable {
  /// The final outcome.
  public enum Verdict: String, Hashable, Sendable {
    case accept, drop, reject, unknown
  }

  final class Storage: @unchecked Sendable {
    var verdict: Verdict
    var decidedBy: Decision?
    var path: [String]
    var trace: [TraceEntry]
    var assumptions: [String]
    var reason: String?
    var rewrites: [Rewrite]
    var packet: Packet?
    var deliveredTo: String?
    var deliveredPacket: Packet?
    init(
      verdict: Verdict, decidedBy: Decision?, path: [String], trace: [TraceEntry], assumptions: [String],
      reason: String?, rewrites: [Rewrite], packet: Packet?, deliveredTo: String?, deliveredPacket: Packet?
    ) {
      self.verdict = verdict
      self.decidedBy = decidedBy
      self.path = path
      self.trace = trace
      self.assumptions = assumptions
      self.reason = reason
      self.rewrites = rewrites
      self.packet = packet
      self.deliveredTo = deliveredTo
      self.deliveredPacket = deliveredPacket
    }
    func copy() -> Storage {
      Storage(
        verdict: verdict, decidedBy: decidedBy, path: path, trace: trace, assumptions: assumptions, reason: reason,
        rewrites: rewrites, packet: packet, deliveredTo: deliveredTo, deliveredPacket: deliveredPacket)
    }
  }
  var storage: Storage

  /// The final outcome.
  public var verdict: Verdict {
    get { storage.verdict }
    set {
      if !isKnownUniquelyReferenced(&storage) { storage = storage.copy() }
      storage.verdict = newValue
    }
  }
  /// The rule (or chain policy) that made the final verdict; nil when no netfilter chain did
  /// (ARP, a drop outside netfilter, no chains at all).
  public var decidedBy: Decision? {
    get { storage.decidedBy }
    set {
      if !isKnownUniquelyReferenced(&storage) { storage = storage.copy() }
      storage.decidedBy = newValue
    }
  }
  /// Hooks crossed, in order: `forward`, or `host:forward` when the policy has a topology.
  public var path: [String] {
    get { storage.path }
    set {
      if !isKnownUniquelyReferenced(&storage) { storage = storage.copy() }
      storage.path = newValue
    }
  }
  public var trace: [TraceEntry] {
    get { storage.trace }
    set {
      if !isKnownUniquelyReferenced(&storage) { storage = storage.copy() }
      storage.trace = newValue
    }
  }
  /// What the prediction takes for granted (fresh limit buckets, no topology, …).
  public var assumptions: [String] {
    get { storage.assumptions }
    set {
      if !isKnownUniquelyReferenced(&storage) { storage = storage.copy() }
      storage.assumptions = newValue
    }
  }
  /// Why the verdict is `unknown`, or why a packet was dropped outside netfilter.
  public var reason: String? {
    get { storage.reason }
    set {
      if !isKnownUniquelyReferenced(&storage) { storage = storage.copy() }
      storage.reason = newValue
    }
  }
  /// NAT rewrites, in order.
  public var rewrites: [Rewrite] {
    get { storage.rewrites }
    set {
      if !isKnownUniquelyReferenced(&storage) { storage = storage.copy() }
      storage.rewrites = newValue
    }
  }
  /// The packet as it was sent, with what the engine filled in (the sender's source address).
  public var packet: Packet? {
    get { storage.packet }
    set {
      if !isKnownUniquelyReferenced(&storage) { storage = storage.copy() }
      storage.packet = newValue
    }
  }
  /// With a topology: the namespace that received the packet, and the packet as it arrived
  /// there (after NAT), when it was delivered.
  public var deliveredTo: String? {
    get { storage.deliveredTo }
    set {
      if !isKnownUniquelyReferenced(&storage) { storage = storage.copy() }
      storage.deliveredTo = newValue
    }
  }
  public var deliveredPacket: Packet? {
    get { storage.deliveredPacket }
    set {
      if !isKnownUniquelyReferenced(&storage) { storage = storage.copy() }
      storage.deliveredPacket = newValue
    }
  }

  public init(
    verdict: Verdict, decidedBy: Decision? = nil, path: [String] = [], trace: [TraceEntry] = [],
    assumptions: [String] = [], reason: String? = nil, rewrites: [Rewrite] = [], packet: Packet? = nil,
    deliveredTo: String? = nil, deliveredPacket: Packet? = nil
  ) {
    storage = Storage(
      verdict: verdict, decidedBy: decidedBy, path: path, trace: trace, assumptions: assumptions, reason: reason,
      rewrites: rewrites, packet: packet, deliveredTo: deliveredTo, deliveredPacket: deliveredPacket)
  }

  public static func == (a: Simulation, b: Simulation) -> Bool {
    a.storage === b.storage
      || (a.verdict == b.verdict
        && a.decidedBy == b.decidedBy
        && a.path == b.path
        && a.trace == b.trace
        && a.assumptions == b.assumptions
        && a.reason == b.reason
        && a.rewrites == b.rewrites
        && a.packet == b.packet
        && a.deliveredTo == b.deliveredTo
        && a.deliveredPacket == b.deliveredPacket)
  }

  public func hash(into hasher: inout Hasher) {
    hasher.combine(verdict)
    hasher.combine(decidedBy)
    hasher.combine(path)
  }
}

/// Where a verdict was made. Its fields live in one shared, immutable box: a decision is handed
/// from rule to chain to hook to answer, and a box costs one reference count per copy instead of
/// copying the rule and its strings.
public struct Decision: Hashable, Sendable {
  final class Storage: Sendable {
    let namespace: String?
    let family: Family
    let table: String
    let chain: String
    let index: Int?
    /// The deciding rule is `rules[rulePosition]` (the chain's own array: nothing is copied to
    /// record it); no rule when `rulePosition` is negative.
    let rules: [Rule]
    let rulePosition: Int
    let policyText: String
    let source: SourceLocation?
    let hook: Hook
    init(
      namespace: String?, family: Family, table: String, chain: String, index: Int?, rules: [Rule],
      rulePosition: Int, policyText: String, source: SourceLocation?, hook: Hook
    ) {
      self.namespace = namespace
      self.family = family
      self.table = table
      self.chain = chain
      self.index = index
      self.rules = rules
      self.rulePosition = rulePosition
      self.policyText = policyText
      self.source = source
      self.hook = hook
    }
  }
  let storage: Storage

  /// Set when the policy has a topology.
  public var namespace: String? { storage.namespace }
  public var family: Family { storage.family }
  public var table: String { storage.table }
  public var chain: String { storage.chain }
  /// 0-based position of the rule in its chain; nil when the chain's policy decided.
  public var index: Int? { storage.index }
  /// The rule in nft syntax, or `policy drop` (rendered when asked for: bulk runs never pay for it).
  public var rule: String {
    if let decidingRule { return NFTSyntax.rule(decidingRule, family: family) }
    return policyText
  }
  /// The rule that decided, or nil for a policy.
  public var decidingRule: Rule? { storage.rulePosition >= 0 ? storage.rules[storage.rulePosition] : nil }
  /// `policy accept` / `policy drop` when the policy decided.
  var policyText: String { storage.policyText }
  /// `file:line:col` of the rule (or of the chain's type line for a policy).
  public var source: SourceLocation? { storage.source }
  /// The hook the chain was running on.
  public var hook: Hook { storage.hook }

  public init(
    namespace: String?, family: Family, table: String, chain: String, index: Int?, decidingRule: Rule?,
    policyText: String = "", source: SourceLocation?, hook: Hook
  ) {
    storage = Storage(
      namespace: namespace, family: family, table: table, chain: chain, index: index,
      rules: decidingRule.map { [$0] } ?? [], rulePosition: decidingRule == nil ? -1 : 0, policyText: policyText,
      source: source, hook: hook)
  }

  /// A decision by rule `position` of `rules` (a chain's rules), or by the policy (`position` nil).
  init(
    namespace: String?, family: Family, table: String, chain: String, rules: [Rule], position: Int?,
    policyText: String, source: SourceLocation?, hook: Hook
  ) {
    storage = Storage(
      namespace: namespace, family: family, table: table, chain: chain, index: position, rules: rules,
      rulePosition: position ?? -1, policyText: policyText, source: source, hook: hook)
  }

  public static func == (a: Decision, b: Decision) -> Bool {
    a.storage === b.storage
      || (a.namespace == b.namespace && a.family == b.family && a.table == b.table && a.chain == b.chain
        && a.index == b.index && a.decidingRule == b.decidingRule && a.policyText == b.policyText
        && a.source == b.source && a.hook == b.hook)
  }

  public func hash(into hasher: inout Hasher) {
    hasher.combine(table)
    hasher.combine(chain)
    hasher.combine(index)
    hasher.combine(hook)
  }
}

/// One rule consulted (or a chain policy applied).
public struct TraceEntry: Hashable, Sendable {
  public var namespace: String?
  public var hook: Hook
  public var family: Family
  public var table: String
  public var chain: String
  /// nil for a policy entry.
  public var index: Int?
  public var rule: String
  public var matched: Bool
  /// What happened: `accept`, `drop`, `jump ssh`, `continue`, `snat to 1.2.3.4`, `policy drop`, …
  public var action: String
  public var source: SourceLocation?
}

/// A NAT rewrite of the packet.
public struct Rewrite: Hashable, Sendable {
  public var namespace: String?
  public var hook: Hook
  /// `destination 203.0.113.1:80 -> 192.168.1.10:8080`.
  public var description: String
}
