import NetfilterModel
import VerdictEngine

/// The representative packets of a plan: for every rule of both rulesets, packets aimed at it on
/// every path that reaches its chain, plus common flows (ssh, web, dns, ntp, ping) from outside.
///
/// Linear in the number of rules: each rule gives a bounded number of packets, found without
/// looking at any other rule.
enum ProbeSet {
  /// The paths (hooks without topology) probed, and the common flows on them.
  static let paths: [Hook] = [.input, .forward, .output]
  static let commonFlows: [(proto: UInt8, port: UInt16?)] = [(6, 22), (6, 80), (6, 443), (17, 53), (17, 123), (1, nil)]
  /// At most this many packets per rule for the elements of its port set.
  static let elementsPerRule = 4

  static func probes(_ rulesets: [Ruleset]) -> [PlanProbe] {
    var seen = Set<PlanProbe>()
    var result: [PlanProbe] = []
    func add(_ p: PlanProbe) { if seen.insert(p).inserted { result.append(p) } }
    for v in [IPVersion.v4, .v6] {
      for hook in [Hook.input, .forward] {
        for flow in commonFlows {
          let proto: UInt8 = flow.proto == 1 && v == .v6 ? 58 : flow.proto
          add(
            PlanProbe(
              request: Simulator.Request(
                packet: PlanProbe.Generic.packet(v, hook, proto: proto, port: flow.port, state: .new), hook: hook),
              hook: hook))
        }
      }
    }
    for ruleset in rulesets {
      for table in ruleset.tables where table.family.isIP {
        let aiming = RuleAim.Table(table)
        let reach = reachingPaths(table)
        for chain in table.chains {
          guard let entry = reach[chain.name], !entry.hooks.isEmpty else { continue }
          for rule in chain.rules {
            let aim = RuleAim(rule: rule, table: aiming, entryMatches: entry.matches)
            for probe in aim.probes(hooks: entry.hooks) { add(probe) }
          }
        }
      }
    }
    return result
  }

  /// How packets reach a chain: the paths (input, forward, output) whose base chains lead to it,
  /// and the matches of the first jump or goto found on the way (a packet aimed at a rule of a
  /// regular chain must pass them to get there).
  struct Entry {
    var hooks: [Hook]
    var matches: [Match]
  }

  static func reachingPaths(_ table: Table) -> [String: Entry] {
    var reach: [String: Set<Hook>] = [:]
    var entryMatches: [String: [Match]] = [:]
    var work: [String] = []
    for chain in table.chains {
      guard let base = chain.base else { continue }
      let hooks: Set<Hook>
      switch base.hook {
      case .prerouting: hooks = [.input, .forward]
      case .postrouting: hooks = [.forward, .output]
      case .input, .forward, .output: hooks = [base.hook]
      case .ingress: hooks = []
      }
      reach[chain.name, default: []].formUnion(hooks)
      entryMatches[chain.name] = []
      work.append(chain.name)
    }
    let byName = Dictionary(table.chains.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
    while let name = work.popLast() {
      let hooks = reach[name] ?? []
      for rule in byName[name]?.rules ?? [] {
        guard let target = rule.verdict?.targetChain else { continue }
        if entryMatches[target] == nil { entryMatches[target] = (entryMatches[name] ?? []) + rule.matches }
        let before = reach[target] ?? []
        if !hooks.isSubset(of: before) {
          reach[target] = before.union(hooks)
          work.append(target)
        }
      }
    }
    var result: [String: Entry] = [:]
    for (name, hooks) in reach { result[name] = Entry(hooks: hooks.sorted(), matches: entryMatches[name] ?? []) }
    return result
  }
}
