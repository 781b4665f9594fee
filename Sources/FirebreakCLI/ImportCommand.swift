import NetfilterModel
import PolicyLanguage

/// `firebreak import FILE [--format iptables-save|ip6tables-save] [-o POLICY]`.
struct ImportCommand: Command {
  static let name = "import"
  static let spec = Arguments.Spec(
    valued: ["--format", "-o", "--output", "--netns"], positionals: 0...1, positionalName: "ruleset FILE")
  static let help = """
    Usage: firebreak import FILE [--format iptables-save|ip6tables-save] [-o POLICY]

    Turns a dumped firewall into a policy file in canonical form: tables, chains, policies and
    rules as the model understands them. What it cannot evaluate exactly (owner, recent,
    connmark, NFLOG, TCPMSS, …) is kept as written, as iptables "…" parts, with a warning at its
    line: such a policy compiles back with --backend iptables only, and the verdict engine answers
    'unknown' for packets that reach those parts.
      --format FORMAT   iptables-save or ip6tables-save (default: detected)
      -o POLICY         write the policy to POLICY atomically (default: standard output)
    Importing nft text, nft JSON and a live namespace (--netns) are not built yet.
    Exit status: 0, or 2 when the dump cannot be read (errors at file:line:col).
    """

  func run(_ args: Arguments, _ cli: CLI) throws -> Int32 {
    if args.values["--netns"] != nil {
      cli.console.error("firebreak: error: import --netns (the live ruleset) is not built yet; import a dump FILE")
      return 2
    }
    guard let path = args.positionals.first else { throw Arguments.UsageError(message: "missing ruleset FILE") }
    guard let ruleset = try SimulateCommand().loadRuleset(path, format: args.values["--format"], cli) else { return 2 }
    let opaque = ruleset.tables.flatMap(\.chains).flatMap(\.rules).filter(ImportCommand.hasOpaquePart).count
    var header = ["Imported by firebreak from \(path)."]
    if opaque > 0 {
      header.append(
        "\(opaque) rule\(opaque == 1 ? " keeps" : "s keep") iptables parts as written (iptables \"…\"): compile with --backend iptables."
      )
    }
    let (text, diagnostics) = PolicyPrinter.print(ruleset, header: header)
    guard let text else {
      cli.report(diagnostics)
      cli.console.error(
        "firebreak: error: \(path) uses names or text the policy language cannot hold (above, as lines of the printed policy); simulate it with 'firebreak simulate --ruleset' instead"
      )
      return 2
    }
    if let output = args.values["-o"] ?? args.values["--output"] {
      try Files.writeAtomically(text, to: output)
    } else {
      cli.console.print(text, terminator: "")
    }
    return 0
  }

  static func hasOpaquePart(_ rule: Rule) -> Bool {
    if case .opaque? = rule.verdict { return true }
    return rule.matches.contains { if case .opaque = $0.kind { return true } else { return false } }
  }
}
