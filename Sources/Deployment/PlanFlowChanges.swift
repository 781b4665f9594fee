import NetfilterModel
import VerdictEngine

/// A flow whose verdict apply would change.
public struct FlowChange: Hashable, Sendable {
  /// `tcp/22 from 198.51.100.1 to 10.0.0.1 (input)`: the packet and the path it takes.
  public var flow: String
  /// The path: input, forward or output.
  public var hook: Hook
  public var old: Simulation.Verdict
  public var new: Simulation.Verdict
  /// What decided under the old ruleset: `inet filter input [2] tcp dport 22 drop, lab.policy:9:5`,
  /// or why it cannot tell; nil when no chain decided (no firewall).
  public var oldReason: String?
  /// What decides under the new ruleset, in the same form.
  public var newReason: String?

  /// `tcp/22 from … (input): accept -> drop (new: inet filter input [2] tcp dport 22 drop, lab.policy:9:5)`.
  public var text: String {
    "\(flow): \(old.rawValue) -> \(new.rawValue)" + (newReason.map { " (new: \($0))" } ?? "")
  }
}

/// The flows whose verdict changes between two rulesets, found by evaluating a representative
/// packet set (see `ProbeSet`) with the indexed engine under both.
///
/// Command-line equivalent: `firebreak simulate --ruleset OLD PACKET` and `… NEW PACKET` for each
/// packet, keeping those that differ.
public struct FlowChanges: Hashable, Sendable {
  /// Every change, deduplicated and sorted (path, IP version, protocol, port, text).
  public var changes: [FlowChange]
  /// How many packets were evaluated under each ruleset.
  public var probeCount: Int

  /// Evaluates the packet set of both rulesets under each; an empty `old` means no firewall.
  public init(old: Ruleset, new: Ruleset) {
    let probes = ProbeSet.probes([old, new])
    let before = Simulator(ruleset: old)
    let after = Simulator(ruleset: new)
    var changed: [(probe: PlanProbe, old: Simulation, new: Simulation)] = []
    for probe in probes {
      guard let o = try? before.simulate(probe.request, trace: false),
        let n = try? after.simulate(probe.request, trace: false), o.verdict != n.verdict
      else { continue }
      changed.append((probe, o, n))
    }
    // Only the changed flows are named and sorted: the probe set is large, the changes are few.
    changed.sort { PlanProbe.precedes($0.probe, $1.probe) }
    var seen = Set<FlowChange>()
    var changes: [FlowChange] = []
    for (probe, o, n) in changed {
      let change = FlowChange(
        flow: probe.description, hook: probe.hook, old: o.verdict, new: n.verdict, oldReason: FlowChanges.reason(o),
        newReason: FlowChanges.reason(n))
      // The same packet description with the same change is one line, whatever rule decided.
      var key = change
      key.oldReason = nil
      key.newReason = nil
      if seen.insert(key).inserted { changes.append(change) }
    }
    self.changes = changes
    self.probeCount = probes.count
  }

  /// Number of flows whose verdict changes.
  public var count: Int { changes.count }

  /// One line per change, at most `limit`, then `… and N more`.
  public func text(limit: Int = 50) -> String {
    var lines = changes.prefix(limit).map(\.text)
    if changes.count > limit { lines.append("… and \(changes.count - limit) more") }
    return lines.joined(separator: "\n")
  }

  /// `inet filter input [2] tcp dport 22 drop, lab.policy:9:5`, `inet filter input policy drop`,
  /// or `cannot tell: …` for unknown.
  static func reason(_ s: Simulation) -> String? {
    if s.verdict == .unknown { return "cannot tell: " + (s.reason ?? "the engine gave no reason") }
    guard let d = s.decidedBy else { return s.reason }
    var text = "\(d.family.rawValue) \(d.table) \(d.chain) "
    text += d.index.map { "[\($0)] \(d.rule)" } ?? d.rule
    if let source = d.source?.knownText { text += ", \(source)" }
    return text
  }
}
