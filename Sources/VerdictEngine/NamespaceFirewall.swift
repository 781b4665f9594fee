import NetfilterModel

/// What running one hook's base chains did to a packet.
enum HookOutcome {
  /// Every base chain let the packet through (NAT may have rewritten it).
  case pass
  case drop(Decision)
  case reject(Decision)
  case unknown(String)
}

/// Everything a run collects along the packet's path.
struct RunState {
  var trace: [TraceEntry] = []
  var path: [String] = []
  var rewrites: [Rewrite] = []
  var assumptions: [String] = []
  /// The last accept made by a rule, and the last made by a policy: an accepted packet is
  /// reported as decided by the last rule that accepted it, else the last policy.
  var lastRuleAccept: Decision?
  var lastPolicyAccept: Decision?
  /// The packet as sent.
  var sent: Packet?
  /// Where and as what the packet was delivered (after any NAT), when it was.
  var delivered: (namespace: String, packet: Packet)?
  /// Record every rule consulted (off for bulk runs that only need verdicts).
  var tracing = true
  /// The opaque target that may have changed the packet mark, once one ran: later mark tests
  /// are then unknown.
  var markChangedBy: String?
  /// Without a topology, the host's own address on this path: the destination of a packet
  /// delivered locally, the source of one sent locally (`fib … type local`).
  var plainHostAddress: IPAddress?
  /// The same for the connection's mark.
  var ctMarkChangedBy: String?

  /// The answer made of what the run collected (the packets move into it: the run is over).
  mutating func result(_ verdict: Simulation.Verdict, _ decision: Decision?, reason: String? = nil) -> Simulation {
    let delivered = self.delivered.take()
    return Simulation(
      verdict: verdict, decidedBy: decision, path: path, trace: trace, assumptions: assumptions, reason: reason,
      rewrites: rewrites, packet: sent.take(), deliveredTo: delivered?.namespace, deliveredPacket: delivered?.packet)
  }

  mutating func assume(_ text: String) {
    if !assumptions.contains(text) { assumptions.append(text) }
  }
}

/// One namespace's ruleset, arranged for the hooks: every base chain of every table, in priority order.
/// A class: built once per simulator, then shared by every run without copying.
final class NamespaceFirewall: @unchecked Sendable {
  /// Namespace name for traces, nil without topology.
  let name: String?
  let ruleset: Ruleset
  /// Per table (by position), its chains by name, compiled (with an index for the indexed engine):
  /// jumps look up here.
  let chainsByName: [[String: CompiledChain]]
  /// The base chains of each hook and packet kind, in run order (computed once), by
  /// `Hook.allCases` position then IPv4, IPv6, ARP.
  let hookedChains: [[[HookedChain]]]

  init(name: String?, ruleset: Ruleset, indexed: Bool = false) {
    self.name = name
    self.ruleset = ruleset
    let compiled = ruleset.tables.map { table in
      Dictionary(
        table.chains.map { chain in
          let index =
            indexed && chain.rules.count >= NamespaceFirewall.indexThreshold
            ? ChainIndex(chain: chain, table: table) : nil
          return (chain.name, CompiledChain(chain, index: index))
        },
        uniquingKeysWith: { a, _ in a })
    }
    chainsByName = compiled
    hookedChains = Hook.allCases.map { hook in
      NamespaceFirewall.kinds.map { kind in NamespaceFirewall.order(ruleset, compiled, hook, kind) }
    }
  }

  /// Chains shorter than this are scanned: an index cannot beat a handful of rules.
  static let indexThreshold = 8

  /// A class: the run loop walks these per packet, and a reference costs less to hand around
  /// than a copy of the table and chain.
  final class HookedChain {
    let table: Table
    /// Position of the table in the ruleset (for `chainsByName`).
    let tableIndex: Int
    /// The chain as the engine runs it.
    let compiled: CompiledChain
    let chain: Chain
    let base: BaseChain
    /// Where the chain runs relative to other hooks' chains: nat chains run inside the NAT core's
    /// hook at the fixed NAT priority (-100 on prerouting/output, 100 on input/postrouting).
    let effectivePriority: Int

    init(table: Table, tableIndex: Int, compiled: CompiledChain, chain: Chain, base: BaseChain, effectivePriority: Int)
    {
      self.table = table
      self.tableIndex = tableIndex
      self.compiled = compiled
      self.chain = chain
      self.base = base
      self.effectivePriority = effectivePriority
    }
  }

  /// Base chains on `hook` that see packets of `kind`, in the order the kernel runs them.
  func chains(on hook: Hook, for kind: Packet.Kind) -> [HookedChain] {
    let k: Int
    switch kind {
    case .ipv4: k = 0
    case .ipv6: k = 1
    case .arp: k = 2
    }
    return hookedChains[hook.ordinal][k]
  }

  static let kinds: [Packet.Kind] = [.ipv4, .ipv6, .arp]

  static func order(
    _ ruleset: Ruleset, _ compiled: [[String: CompiledChain]], _ hook: Hook, _ kind: Packet.Kind
  ) -> [HookedChain] {
    var result: [HookedChain] = []
    for (tableIndex, table) in ruleset.tables.enumerated() {
      let sees: Bool
      switch (table.family, kind) {
      case (.ip, .ipv4), (.ip6, .ipv6), (.inet, .ipv4), (.inet, .ipv6): sees = true
      default: sees = false
      }
      guard sees else { continue }
      for chain in table.chains {
        guard let base = chain.base, base.hook == hook else { continue }
        var priority = base.priority.value
        if base.type == .nat {
          priority = (hook == .prerouting || hook == .output) ? -100 : 100
        }
        result.append(
          HookedChain(
            table: table, tableIndex: tableIndex, compiled: compiled[tableIndex][chain.name]!, chain: chain, base: base,
            effectivePriority: priority))
      }
    }
    // Stable: equal priorities keep declaration order.
    return result.enumerated().sorted { a, b in
      let (pa, pb) = (a.element.effectivePriority, b.element.effectivePriority)
      if pa != pb { return pa < pb }
      let (qa, qb) = (a.element.base.priority.value, b.element.base.priority.value)
      if qa != qb { return qa < qb }
      return a.offset < b.offset
    }.map(\.element)
  }

  /// Runs every base chain on `hook`, in priority order. A drop or reject is final; an accept
  /// ends only its chain.
  func run(
    hook: Hook, packet: inout Packet, state: inout RunState, topology: NetworkContext? = nil, recordPath: Bool = true
  ) -> HookOutcome {
    if recordPath { state.path.append(name.map { "\($0):\(hook.rawValue)" } ?? hook.rawValue) }
    var natDone = false
    for hooked in chains(on: hook, for: packet.kind) {
      if hooked.base.type == .nat {
        // The NAT core consults nat chains only for the first packet of a connection, and stops
        // at the first chain that set up a mapping.
        if packet.ctState != .new || natDone { continue }
      }
      let outcome = ChainRunner(firewall: self, hooked: hooked, hook: hook, network: topology)
        .run(&packet, &state)
      switch outcome {
      case .accept(let decision, let byRule):
        if byRule { state.lastRuleAccept = decision } else { state.lastPolicyAccept = decision }
      case .nat:
        // A NAT rule rewrites and ends its chain; it is not a filtering decision, so it does not
        // become the rule that accepted the packet.
        natDone = true
      case .drop(let d): return .drop(d)
      case .reject(let d): return .reject(d)
      case .unknown(let why): return .unknown(why)
      }
    }
    return .pass
  }
}

/// Addresses the NAT targets and address-type matches need from the topology.
struct NetworkContext {
  /// The primary address of an interface in this namespace, by version.
  var addressOf: (String, IPVersion) -> IPAddress?
  /// What the namespace's routing makes of an address (`fib … type`).
  var addressType: (IPAddress) -> AddressType
}

extension AddressType {
  /// The type an address has whatever the namespace holds: broadcast for 0.0.0.0/8 and
  /// 255.255.255.255, multicast for 224.0.0.0/4 and ff00::/8, local for 127.0.0.0/8 and ::1 (a
  /// loopback that is up); nil for the rest.
  static func special(_ address: IPAddress) -> AddressType? {
    switch address {
    case .v4(let a):
      let first = a >> 24
      if first == 0 || a == .max { return .broadcast }
      if first >= 224 && first <= 239 { return .multicast }
      if first == 127 { return .local }
    case .v6(let hi, let lo):
      if hi >> 56 == 0xff { return .multicast }
      if hi == 0 && lo == 1 { return .local }
    }
    return nil
  }
}
