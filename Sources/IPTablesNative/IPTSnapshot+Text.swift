extension IPTSnapshot {
  /// The tables of one family in `iptables-save` form, counters shown as `[0:0]`, without the
  /// `# Generated`/`# Completed` lines: what `iptables-legacy-save` prints for the same kernel
  /// state, table by table.
  public func listing(_ family: IPTFamily) -> String {
    let printer = EntryPrinter(family: family)
    var lines: [String] = []
    for table in tables where table.id.family == family {
      lines.append("*\(table.id.name)")
      for chain in table.chains { lines.append(":\(chain.name) \(chain.policy ?? "-") [0:0]") }
      for chain in table.chains {
        for rule in chain.rules { lines.append(printer.line(chain: chain.name, entry: rule.entry)) }
      }
      lines.append("COMMIT")
    }
    return lines.isEmpty ? "" : lines.joined(separator: "\n") + "\n"
  }

  /// Both families' listings, each under a `# ip` / `# ip6` heading: stable, readable, counters
  /// stripped; two snapshots that are `equalsIgnoringCounters` have the same text.
  public var text: String {
    IPTFamily.allCases.map { family in
      let listing = listing(family)
      return listing.isEmpty ? "" : "# \(family.rawValue)\n" + listing
    }.joined()
  }
}
