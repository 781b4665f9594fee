import Deployment
import IPTablesNative
import NFTablesNative
import NetfilterModel
import PolicyLanguage
import RulesetImport

/// `firebreak import FILE [--format nft|nft-json|iptables-save|ip6tables-save] [-o POLICY]`.
struct ImportCommand: Command {
  static let name = "import"
  static let spec = Arguments.Spec(
    valued: ["--format", "-o", "--output", "--netns"], positionals: 0...1, positionalName: "ruleset FILE")
  static let help = """
    Usage: firebreak import (FILE [--format nft|nft-json|iptables-save|ip6tables-save] | --netns NS) [-o POLICY]

    Turns a dumped firewall into a policy file in canonical form: tables, chains, policies and
    rules as the model understands them. What it cannot evaluate exactly is kept as written, with
    a warning at its line: iptables modules and targets (owner, recent, connmark, NFLOG, TCPMSS,
    …) as iptables "…" parts, which compile back with --backend iptables only; nft expressions
    and statements (fib, ct status, flow add, ct helper set, …) as nft "…" and nft statement "…"
    parts, which compile back with --backend nft only. The verdict engine answers 'unknown' for
    packets that reach those parts.
      --format FORMAT   nft, nft-json, iptables-save or ip6tables-save (default: detected)
      --netns NS        the live legacy x_tables tables of namespace NS, read natively (libiptc)
      -o POLICY         write the policy to POLICY atomically (default: standard output)
    nft is `nft list ruleset` output or an `nft -f` script (defines, includes relative to FILE,
    transactions). nft-json is `nft -j list ruleset` output; a dump with nft expressions the model
    cannot express (fib, vmap, quota, …) is refused with them named (simulate --ruleset reads it).
    Importing live nftables tables is not built yet (they are named in a warning, not imported).
    Exit status: 0, or 2 when the dump cannot be read (errors at file:line:col).
    """

  func run(_ args: Arguments, _ cli: CLI) throws -> Int32 {
    let ruleset: Ruleset
    let path: String
    if let ns = args.values["--netns"] {
      guard args.positionals.isEmpty else { throw Arguments.UsageError(message: "give a FILE or --netns, not both") }
      path = "namespace \(ns)"
      guard let live = try ImportCommand.live(NamespaceTarget(ns), cli) else { return 2 }
      ruleset = live
    } else {
      guard let file = args.positionals.first else { throw Arguments.UsageError(message: "missing ruleset FILE") }
      path = file
      guard let loaded = try cli.loadRuleset(file, format: args.values["--format"]) else { return 2 }
      ruleset = loaded
    }
    let rules = ruleset.tables.flatMap(\.chains).flatMap(\.rules)
    if let rule = rules.first(where: ImportCommand.hasNFTJSONPart) {
      // The policy language holds opaque parts only as iptables text; printing JSON there would
      // give a policy that does not check.
      let count = rules.filter(ImportCommand.hasNFTJSONPart).count
      cli.console.error(
        "firebreak: error: \(path): \(count) rule\(count == 1 ? "" : "s") (first at \(rule.location)) keep\(count == 1 ? "s" : "") nft expressions the policy language cannot hold yet (named in the warnings above); simulate it with 'firebreak simulate --ruleset' instead"
      )
      return 2
    }
    var header = ["Imported by firebreak from \(path)."]
    let iptables = rules.filter { ImportCommand.hasOpaquePart($0, .iptables) }.count
    if iptables > 0 {
      header.append(
        "\(iptables) rule\(iptables == 1 ? " keeps" : "s keep") iptables parts as written (iptables \"…\"): compile with --backend iptables."
      )
    }
    let nft = rules.filter { ImportCommand.hasOpaquePart($0, .nft) }.count
    if nft > 0 {
      header.append(
        "\(nft) rule\(nft == 1 ? " keeps" : "s keep") nft parts as written (nft \"…\", nft statement \"…\"): compile with --backend nft."
      )
    }
    let indexes = rules.filter(ImportCommand.testsInterfaceIndex).count
    if indexes > 0 {
      header.append(
        "\(indexes) rule\(indexes == 1 ? " tests" : "s test") iif/oif (an interface's index), which only nft matches: compile with --backend nft."
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

  /// The namespace's legacy x_tables tables, read through libiptc and imported as their
  /// iptables-save text; its nftables tables are named in a warning (not imported yet).
  static func live(_ target: NamespaceTarget, _ cli: CLI) throws -> Ruleset? {
    let (snapshot, nftTables) = try target.run {
      (try IPTablesNative().snapshot(), try Connection().snapshot().tableIDs)
    }
    if !nftTables.isEmpty {
      cli.console.error(
        "warning: nftables tables in \(target) are not imported (nft import is not built yet): \(nftTables.map(\.description).joined(separator: ", "))"
      )
    }
    var ruleset = Ruleset()
    for (family, iptFamily) in [(Family.ip, IPTFamily.ipv4), (.ip6, .ipv6)] {
      let text = snapshot.listing(iptFamily)
      if text.isEmpty { continue }
      let imported = IPTablesSaveImporter(family: family).importRuleset(text, file: "\(target) (\(iptFamily.rawValue))")
      cli.report(imported.diagnostics)
      if imported.hasErrors { return nil }
      ruleset.tables += imported.ruleset.tables
    }
    return ruleset
  }

  /// True when an opaque part of the rule is nft JSON (from `NFTJSONImporter`).
  static func hasNFTJSONPart(_ rule: Rule) -> Bool {
    if case .opaque(let target)? = rule.verdict, target.syntax == .nftJSON { return true }
    return rule.matches.contains { m in
      if case .opaque(let opaque) = m.kind { return opaque.syntax == .nftJSON }
      return false
    }
  }

  /// True when a part of the rule is kept as written in `syntax`.
  static func hasOpaquePart(_ rule: Rule, _ syntax: OpaqueSyntax) -> Bool {
    if case .opaque(let target)? = rule.verdict, target.syntax == syntax { return true }
    return rule.matches.contains {
      if case .opaque(let o) = $0.kind { return o.syntax == syntax } else { return false }
    }
  }

  /// True when the rule tests `iif`/`oif`, which iptables cannot say.
  static func testsInterfaceIndex(_ rule: Rule) -> Bool {
    rule.matches.contains { if case .interfaceIndex = $0.kind { return true } else { return false } }
  }
}
