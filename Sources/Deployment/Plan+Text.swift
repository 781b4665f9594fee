extension Plan {
  /// The readable report, at most `flowLimit` flow lines; a lockout is a loud block at the end.
  /// The report; at most `diffLimit` diff entries and `flowLimit` flows are listed (nil: all).
  public func text(flowLimit: Int = 50, diffLimit: Int? = nil) -> String {
    var lines: [String] = []
    if diff.isEmpty {
      lines.append("Rules: no change")
    } else {
      lines.append("Rules: \(diff.summary)")
      let shown = diffLimit.map { Array(diff.entries.prefix($0)) } ?? diff.entries
      lines += shown.map { "  " + $0.text }
      if shown.count < diff.entries.count {
        lines.append("  … and \(diff.entries.count - shown.count) more ('firebreak plan' lists them all)")
      }
    }
    if flowChanges.count == 0 {
      lines.append("Flows: no verdict changes (\(flowChanges.probeCount) packets checked)")
    } else {
      lines.append("Flows: \(flowChanges.count) whose verdict changes (\(flowChanges.probeCount) packets checked)")
      lines += flowChanges.text(limit: flowLimit).split(separator: "\n").map { "  " + $0 }
    }
    if !managementChecks.isEmpty { lines.append("Management flows (under the new ruleset):") }
    for check in managementChecks {
      lines.append("  \(check.flow): \(check.outcome.rawValue)")
      lines += check.probes.map { "    " + $0.text }
      lines += check.assumptions.map { "    assuming " + $0 }
    }
    for check in managementChecks where check.outcome != .passes {
      lines.append("")
      lines += Plan.loudBlock(check)
    }
    return lines.joined(separator: "\n")
  }

  /// The report with the default flow limit.
  public var text: String { text() }

  static func loudBlock(_ check: ManagementCheck) -> [String] {
    let bar = String(repeating: "!", count: 72)
    if check.isLockout {
      var block = [bar, "!!! LOCKOUT: the new ruleset would cut off \(check.flow) !!!"]
      for probe in check.probes where probe.outcome == .blocked { block.append("!!!   " + probe.text) }
      block.append("!!! apply refuses this unless --force is given !!!")
      return block + [bar]
    }
    var block = [bar, "!!! LOCKOUT CHECK CANNOT TELL for \(check.flow) !!!"]
    for probe in check.probes where probe.outcome == .cannotTell { block.append("!!!   " + probe.text) }
    return block + [bar]
  }
}
