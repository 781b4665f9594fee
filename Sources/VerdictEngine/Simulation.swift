import NetfilterModel

/// The engine's answer for one packet: the verdict, what decided it, the hooks it crossed and a
/// trace of every rule consulted.
public struct Simulation: Hashable, Sendable {
  /// The final outcome.
  public enum Verdict: String, Hashable, Sendable {
    case accept, drop, reject, unknown
  }

  public var verdict: Verdict
  /// The rule (or chain policy) that made the final verdict; nil when no netfilter chain did
  /// (ARP, a drop outside netfilter, no chains at all).
  public var decidedBy: Decision?
  /// Hooks crossed, in order: `forward`, or `host:forward` when the policy has a topology.
  public var path: [String]
  public var trace: [TraceEntry]
  /// What the prediction takes for granted (fresh limit buckets, no topology, …).
  public var assumptions: [String]
  /// Why the verdict is `unknown`, or why a packet was dropped outside netfilter.
  public var reason: String?
  /// NAT rewrites, in order.
  public var rewrites: [Rewrite]
  /// The packet as it was sent, with what the engine filled in (the sender's source address).
  public var packet: Packet?
  /// With a topology: the namespace that received the packet, and the packet as it arrived
  /// there (after NAT), when it was delivered.
  public var deliveredTo: String?
  public var deliveredPacket: Packet?

  public init(
    verdict: Verdict, decidedBy: Decision? = nil, path: [String] = [], trace: [TraceEntry] = [],
    assumptions: [String] = [], reason: String? = nil, rewrites: [Rewrite] = [], packet: Packet? = nil,
    deliveredTo: String? = nil, deliveredPacket: Packet? = nil
  ) {
    self.packet = packet
    self.deliveredTo = deliveredTo
    self.deliveredPacket = deliveredPacket
    self.verdict = verdict
    self.decidedBy = decidedBy
    self.path = path
    self.trace = trace
    self.assumptions = assumptions
    self.reason = reason
    self.rewrites = rewrites
  }
}

/// Where a verdict was made.
public struct Decision: Hashable, Sendable {
  /// Set when the policy has a topology.
  public var namespace: String?
  public var family: Family
  public var table: String
  public var chain: String
  /// 0-based position of the rule in its chain; nil when the chain's policy decided.
  public var index: Int?
  /// The rule in nft syntax, or `policy drop` (rendered when asked for: bulk runs never pay for it).
  public var rule: String {
    if let decidingRule { return NFTSyntax.rule(decidingRule, family: family) }
    return policyText
  }
  /// The rule that decided, or nil for a policy.
  public var decidingRule: Rule?
  /// `policy accept` / `policy drop` when the policy decided.
  var policyText: String
  /// `file:line:col` of the rule (or of the chain's type line for a policy).
  public var source: SourceLocation?
  /// The hook the chain was running on.
  public var hook: Hook

  public init(
    namespace: String?, family: Family, table: String, chain: String, index: Int?, decidingRule: Rule?,
    policyText: String = "", source: SourceLocation?, hook: Hook
  ) {
    self.namespace = namespace
    self.family = family
    self.table = table
    self.chain = chain
    self.index = index
    self.decidingRule = decidingRule
    self.policyText = policyText
    self.source = source
    self.hook = hook
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
