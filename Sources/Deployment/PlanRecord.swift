/// A plan as plain data (strings, numbers, booleans, arrays of records) for a JSON printer.
/// Optional fields are absent (`null`) when they do not apply.
public struct PlanRecord: Hashable, Sendable {
  /// One diff entry: `change` is added/removed/changed, `object` is table/set/chain/rule.
  public struct DiffEntry: Hashable, Sendable {
    public var change: String
    public var object: String
    public var family: String
    public var table: String
    public var name: String?
    public var index: Int?
    public var detail: String
    /// `file:line:col` when the object came from a policy file.
    public var source: String?
    public var text: String
  }
  /// One flow whose verdict changes.
  public struct FlowChange: Hashable, Sendable {
    public var flow: String
    public var hook: String
    public var old: String
    public var new: String
    public var oldReason: String?
    public var newReason: String?
    public var text: String
  }
  /// One packet of a management check.
  public struct ManagementProbe: Hashable, Sendable {
    public var name: String
    public var packet: String
    public var hook: String
    public var verdict: String
    public var outcome: String
    public var reason: String?
  }
  /// One management flow and its outcome (`passes`, `blocked`, `cannot tell`).
  public struct Management: Hashable, Sendable {
    public var flow: String
    public var origin: String
    public var outcome: String
    public var isLockout: Bool
    public var probes: [ManagementProbe]
    public var assumptions: [String]
  }

  public var isLockout: Bool
  public var isLockoutUncertain: Bool
  public var added: Int
  public var removed: Int
  public var changed: Int
  public var diff: [DiffEntry]
  /// All flow changes (not capped), and how many packets were checked.
  public var flowChanges: [FlowChange]
  public var flowChangeCount: Int
  public var probeCount: Int
  public var management: [Management]
}

extension Plan {
  /// The plan as plain data.
  public var record: PlanRecord {
    PlanRecord(
      isLockout: isLockout, isLockoutUncertain: isLockoutUncertain, added: diff.added, removed: diff.removed,
      changed: diff.changed,
      diff: diff.entries.map {
        PlanRecord.DiffEntry(
          change: $0.change.rawValue, object: $0.object.rawValue, family: $0.family.rawValue, table: $0.table,
          name: $0.name, index: $0.index, detail: $0.detail, source: $0.location.knownText, text: $0.text)
      },
      flowChanges: flowChanges.changes.map {
        PlanRecord.FlowChange(
          flow: $0.flow, hook: $0.hook.rawValue, old: $0.old.rawValue, new: $0.new.rawValue, oldReason: $0.oldReason,
          newReason: $0.newReason, text: $0.text)
      },
      flowChangeCount: flowChanges.count, probeCount: flowChanges.probeCount,
      management: managementChecks.map { check in
        PlanRecord.Management(
          flow: check.flow.description, origin: check.flow.origin.rawValue, outcome: check.outcome.rawValue,
          isLockout: check.isLockout,
          probes: check.probes.map {
            PlanRecord.ManagementProbe(
              name: $0.name, packet: $0.packet, hook: $0.hook.rawValue, verdict: $0.verdict.rawValue,
              outcome: $0.outcome.rawValue, reason: $0.reason)
          }, assumptions: check.assumptions)
      })
  }
}
