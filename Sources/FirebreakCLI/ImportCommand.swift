import Deployment
import IPTablesNative
import NFTablesNative
import NetfilterModel
import PolicyLanguage
import RulesetImport

/// `firebreak import (FILE [--format nft|nft-json|iptables-save|ip6tables-save] | --netns NS) [-o POLICY]`.
struct ImportCommand: Command {
  static let name = "import"
  static let spec = Arguments.Spec(
    valued: ["--format", "-o", "--output", "--netns"], positionals: 0...1, positionalName: "ruleset FILE")
  static let help = """
    Usage: firebreak import (FILE [--format nft|nft-json|iptables-save|ip6tables-save] | --netns NS) [-o POLICY]

    Turns a dumped or live firewall into a policy file in canonical form: tables, chains, policies
    and rules as the model understands them. What it cannot evaluate exactly is kept as written,
    with a warning at its line: iptables modules and targets (owner, recent, NFLOG, TCPMSS, …) as
    iptables "…" parts, which compile back with --backend iptables only; nft expressions and
    statements (ct status, flow add, ct helper set, …) as nft "…" and nft statement "…" parts,
    which compile back with --backend nft only. The verdict engine answers 'unknown' for packets
    that reach those parts.
      --format FORMAT   nft, nft-json, iptables-save or ip6tables-save (default: detected)
      --netns NS        the live firewall of namespace NS, read natively inside it: the legacy
                        x_tables tables (libiptc) and the nftables tables (libnftables, as
                        `nft list ruleset` lists them); a table both hold under one family and
                        name (iptables-nft beside iptables-legacy) is an error naming it
      -o POLICY         write the policy to POLICY atomically (default: standard output)
    nft is `nft list ruleset` output or an `nft -f` script (defines, includes relative to FILE,
    transactions). nft-json is `nft -j list ruleset` output; a dump with nft expressions the model
    cannot express (vmap, quota, …) is refused with them named (simulate --ruleset reads it).
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
    if let rule = rules.first(where: { !$0.opaqueParts(.nftJSON).isEmpty }) {
      // The policy language holds opaque parts as iptables or nft text, not as JSON; printing
      // JSON there would give a policy that does not check.
      let count = rules.filter { !$0.opaqueParts(.nftJSON).isEmpty }.count
      cli.console.error(
        "firebreak: error: \(path): \(count) rule\(count == 1 ? "" : "s") (first at \(rule.location)) keep\(count == 1 ? "s" : "") nft expressions the policy language cannot hold yet (named in the warnings above); simulate it with 'firebreak simulate --ruleset' instead"
      )
      return 2
    }
    var header = ["Imported by firebreak from \(path)."]
    let iptables = rules.filter { !$0.opaqueParts(.iptables).isEmpty }.count
    if iptables > 0 {
      header.append(
        "\(iptables) rule\(iptables == 1 ? " keeps" : "s keep") iptables parts as written (iptables \"…\"): compile with --backend iptables."
      )
    }
    let nft = rules.filter { !$0.opaqueParts(.nft).isEmpty }.count
    if nft > 0 {
      header.append(
        "\(nft) rule\(nft == 1 ? " keeps" : "s keep") nft parts as written (nft \"…\", nft statement \"…\"): compile with --backend nft."
      )
    }
    let indexes = rules.filter(\.testsInterfaceIndex).count
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

  /// The namespace's firewall: its legacy x_tables tables, read through libiptc and imported as
  /// their iptables-save text, and its nftables tables, listed through libnftables and imported
  /// as nft text. Both are read inside the namespace. nil (after printing why) when a dump does
  /// not import, or when a table exists in both under one family and name (iptables-nft tables
  /// are nftables tables): a policy holds one table of each name, and merging two kernel tables
  /// into one would describe neither.
  static func live(_ target: NamespaceTarget, _ cli: CLI) throws -> Ruleset? {
    let (snapshot, nftTables, nftText) = try target.run {
      let connection = try Connection()
      return (try IPTablesNative().snapshot(), try connection.tableIDs(), try Libnftables.listRuleset())
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
    let legacy = Set(ruleset.tables.map(TableID.init))
    // Checked before importing (the error does not wait on the nft import), and after it with
    // what the listing held (a table may have come between the two reads).
    func inBoth(_ ids: [TableID]) -> Bool {
      let both = ids.filter(legacy.contains)
      guard !both.isEmpty else { return false }
      let names = both.map { "table \($0)" }.joined(separator: ", ")
      cli.console.error(
        "firebreak: error: \(target) has \(names) both as a legacy x_tables table (iptables-legacy) and as an nftables table (nft or iptables-nft); a policy holds one table of a name, so neither is imported: import a dump of one of them instead (iptables-legacy-save, or nft list ruleset)"
      )
      return true
    }
    if inBoth(nftTables) { return nil }
    if nftText.isEmpty { return ruleset }
    let imported = NFTTextImporter().importRuleset(nftText, file: "\(target) (nftables)")
    cli.report(imported.diagnostics)
    if imported.hasErrors || inBoth(imported.ruleset.tables.map(TableID.init)) { return nil }
    ruleset.tables += imported.ruleset.tables
    return ruleset
  }
}
