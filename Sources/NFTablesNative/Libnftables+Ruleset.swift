import NFTablesBackend
import NetfilterModel

extension Libnftables {
  /// True when `ruleset` holds nft parts kept as text (`nft "ct status dnat"`, `nft statement
  /// "…"`) or tests `iif`/`oif`: only nft's parser can build the first, and the second's interface
  /// index is resolved where the rules load, so `Connection.apply` refuses the ruleset and
  /// `apply(_:deleting:dryRun:)` here is how it reaches the kernel.
  public static func isNeeded(for ruleset: Ruleset) -> Bool {
    ruleset.tables.contains { table in
      table.chains.contains { chain in
        chain.rules.contains { rule in !rule.opaqueParts(.nft).isEmpty || rule.testsInterfaceIndex }
      }
    }
  }

  /// Replaces exactly the tables `ruleset` declares, and deletes the `deleting` tables, in one
  /// kernel transaction built by nft's own parser: the script deletes and re-creates each declared
  /// table. All or nothing; tables not named are never touched. With `dryRun` the kernel checks
  /// the transaction and discards it.
  ///
  /// Equivalent to `nft -f` of `NFTScript().compile(ruleset)` plus `delete table` for `deleting`
  /// (with `dryRun`: `nft -c -f`). Throws `DiagnosticList` for what the nft backend cannot express
  /// (nothing is run), and `LibnftablesError` with nft's message when nft or the kernel refuses,
  /// with the policy location of the rule (or the nft part in it) nft names, when it names one.
  public static func apply(_ ruleset: Ruleset, deleting: [TableID] = [], dryRun: Bool = false) throws {
    var script = try NFTScript().compile(ruleset)
    let declared = Set(ruleset.tables.map(TableID.init))
    for id in deleting where !declared.contains(id) { script += "table \(id)\ndelete table \(id)\n" }
    do {
      try apply(script: script, dryRun: dryRun)
    } catch var error as LibnftablesError {
      error.location = policyLocation(of: error.message, script: script, ruleset: ruleset)
      throw error
    }
  }

  /// The policy location behind the first place nft's message names (`nft script:LINE:FIRST-LAST:`):
  /// the nft part kept as text that covers the column, else the rule on that line.
  static func policyLocation(of message: String, script: String, ruleset: Ruleset) -> SourceLocation? {
    guard let place = message.split(separator: "\n").first?.split(separator: ":"), place.count >= 4,
      let line = Int(place[1]), let column = Int(place[2].prefix { $0.isNumber })
    else { return nil }
    let lines = script.split(separator: "\n", omittingEmptySubsequences: false)
    guard line >= 1, line <= lines.count else { return nil }
    let text = lines[line - 1]
    for table in ruleset.tables {
      for chain in table.chains {
        for rule in chain.rules
        where text == "\t\t" + NFTSyntax.rule(rule, family: table.family, comment: NFTSyntax.originComment(rule)) {
          // nft counts columns in bytes from 1, a tab as one.
          let bytes = Array(text.utf8)
          for (part, location) in rule.opaqueParts(.nft) {
            let needle = Array(part.utf8)
            guard needle.count <= bytes.count else { continue }
            for start in 0...(bytes.count - needle.count)
            where bytes[start..<(start + needle.count)].elementsEqual(needle)
              && (start + 1...start + needle.count).contains(column)
            {
              return location
            }
          }
          return rule.location
        }
      }
    }
    return nil
  }
}
