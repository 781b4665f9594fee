/// A table ready to commit: its contents as entries, and where each rule came from.
struct PreparedTable {
  var contents: IPTSnapshot.Table
  /// The source line of each rule, chain by chain (nil for snapshots).
  var lines: [[Int]]?

  init(contents: IPTSnapshot.Table, lines: [[Int]]?) {
    self.contents = contents
    self.lines = lines
  }

  /// Checks a structured table and encodes its rules. Nothing touches the kernel.
  ///
  /// Rejected here, each naming its line: a rule in an undeclared chain, a jump or goto to a
  /// chain the table does not declare as a user chain, a chain name iptables cannot hold.
  init(_ table: IPTTable) throws(IPTablesNativeError) {
    let encoder = EntryEncoder(family: table.family)
    var chains = table.chains.map { IPTSnapshot.Chain(name: $0.name, policy: $0.policy, rules: []) }
    var lines = [[Int]](repeating: [], count: chains.count)
    let userChains = Set(table.chains.filter { $0.policy == nil }.map(\.name))
    for chain in table.chains where chain.name.utf8.count > 28 || chain.name.isEmpty {
      throw .invalidRule(table: table.label, chain: chain.name, line: table.line, reason: "bad chain name")
    }
    for rule in table.rules {
      guard let index = chains.firstIndex(where: { $0.name == rule.chain }) else {
        throw .invalidRule(table: table.label, chain: rule.chain, line: rule.line, reason: "the chain is not declared")
      }
      if let target = rule.target.chain, !userChains.contains(target) {
        throw .invalidRule(
          table: table.label, chain: rule.chain, line: rule.line,
          reason: "jump to '\(target)', which is not a user chain of the table")
      }
      chains[index].rules.append(IPTSnapshot.Rule(entry: encoder.entry(rule)))
      lines[index].append(rule.line)
    }
    contents = IPTSnapshot.Table(id: IPTTableID(table.family, table.name), chains: chains)
    self.lines = lines
  }

  /// Names rule `r` of chain `c` in errors.
  func place(_ c: Int, _ r: Int) -> String {
    guard let lines, lines[c][r] > 0 else { return "rule \(r + 1)" }
    return "line \(lines[c][r])"
  }
}
