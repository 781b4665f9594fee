import NetfilterModel

/// What `apply` would do, computed without touching the kernel: the rule diff, the flows whose
/// verdict changes, and the lockout guard for the management flows.
///
/// Command-line equivalent: `firebreak plan POLICY` (the old ruleset is the live one).
public struct Plan: Hashable, Sendable {
  public var diff: RulesetDiff
  public var flowChanges: FlowChanges
  /// One check per management flow (`SSH_CONNECTION`, each `--keep`), under the new ruleset.
  public var managementChecks: [ManagementCheck]

  /// Plans replacing `old` (empty: no firewall) with `new`.
  public init(old: Ruleset, new: Ruleset, management: [ManagementFlow] = []) {
    diff = RulesetDiff(old: old, new: new)
    flowChanges = FlowChanges(old: old, new: new)
    managementChecks = management.map { ManagementCheck(flow: $0, ruleset: new) }
  }

  /// True when the new ruleset would drop or reject a management flow: apply must refuse (exit 4)
  /// unless forced.
  public var isLockout: Bool { managementChecks.contains(where: \.isLockout) }

  /// True when the engine cannot tell for some management flow (no drop predicted, no accept either).
  public var isLockoutUncertain: Bool { !isLockout && managementChecks.contains { $0.outcome == .cannotTell } }
}
