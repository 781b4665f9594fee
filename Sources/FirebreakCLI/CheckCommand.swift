import NetfilterModel
import PolicyLanguage

/// `firebreak check POLICY...`: validates policies; every error as `file:line:col: error: …`, exit 2.
struct CheckCommand: Command {
  static let name = "check"
  static let spec = Arguments.Spec(positionals: 1...Int.max, positionalName: "POLICY file")
  static let help = """
    Usage: firebreak check POLICY...

    Parses and validates each policy file (and what it includes) and reports every error as
    file:line:col: error: message. Prints a one-line summary per valid file.
    Exit status: 0 when all files are valid, 2 otherwise.
    """

  func run(_ args: Arguments, _ cli: CLI) throws -> Int32 {
    var status: Int32 = 0
    for path in args.positionals {
      guard let policy = cli.load(path) else {
        status = 2
        continue
      }
      let tables = policy.firewalls.flatMap(\.ruleset.tables)
      let chains = tables.flatMap(\.chains)
      let rules = chains.reduce(0) { $0 + $1.rules.count }
      var summary = "\(path): ok (\(plural(policy.firewalls.count, "firewall")), \(plural(tables.count, "table")), "
      summary += "\(plural(chains.count, "chain")), \(plural(rules, "rule"))"
      if let topo = policy.topology { summary += ", \(plural(topo.namespaces.count, "namespace"))" }
      cli.console.print(summary + ")")
    }
    return status
  }
}

func plural(_ n: Int, _ word: String) -> String { "\(n) \(word)\(n == 1 ? "" : "s")" }
