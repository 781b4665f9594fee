import NetfilterModel
import PolicyLanguage
import RulesetImport
import VerdictEngine

#if canImport(Glibc)
  import Glibc
#endif

/// `firebreak simulate POLICY PACKET [--json] [--batch FILE]`: predicts the kernel's verdict.
struct SimulateCommand: Command {
  static let name = "simulate"
  static let spec = Arguments.Spec(
    valued: PacketOptions.valued.union(["--batch", "--ruleset", "--format", "--engine"]), switches: ["--json"],
    positionals: 0...1, positionalName: "POLICY file")
  static let help = """
    Usage: firebreak simulate POLICY PACKET [--json]
           firebreak simulate POLICY --batch FILE
           firebreak simulate --ruleset FILE [--format nft|nft-json|iptables-save|ip6tables-save] PACKET [--json]

    Predicts what the kernel does with a packet before anything is applied: the hooks it crosses
    (and, with a topology, the namespaces), every base chain in priority order, each rule
    consulted, NAT rewrites, and the final verdict with the rule (and policy line) that decided it.
    The verdict is accept, drop, reject, or unknown with the reason (the engine never guesses).

    \(PacketOptions.help)
      --json                     one JSON object (the contract in DESIGN.md)
      --batch FILE               one packet per line (the same options); one JSON object per line
      --engine indexed|linear    how rules are searched (default indexed; both give the same answers)
      --ruleset FILE             simulate a dumped ruleset (nft list ruleset, an nft -f script,
                                 nft -j list ruleset or iptables-save output) on a plain host
      --format FORMAT            the dump's format (default: detected)
    Exit status: 0 when every packet was simulated, 2 on bad usage or input.
    """

  func run(_ args: Arguments, _ cli: CLI) throws -> Int32 {
    let engine = try args.choice("--engine", of: ["indexed", "linear"], default: "indexed")
    let policy: Policy
    let simulator: Simulator
    if let rulesetPath = args.values["--ruleset"] {
      if !args.positionals.isEmpty {
        throw Arguments.UsageError(message: "give either a POLICY file or --ruleset FILE, not both")
      }
      guard let ruleset = try cli.loadRuleset(rulesetPath, format: args.values["--format"]) else { return 2 }
      policy = Policy(firewalls: [Firewall(namespace: Firewall.defaultNamespace, ruleset: ruleset)])
      simulator = Simulator(
        ruleset: ruleset, assumptions: Self.plainHostAssumptions, engine: engine == "linear" ? .linear : .indexed)
    } else {
      if args.values["--format"] != nil { throw Arguments.UsageError(message: "--format needs --ruleset FILE") }
      guard let path = args.positionals.first else { throw Arguments.UsageError(message: "missing POLICY file") }
      guard let loaded = cli.load(path) else { return 2 }
      policy = loaded
      simulator = Simulator(policy: policy, engine: engine == "linear" ? .linear : .indexed)
    }
    if let batch = args.values["--batch"] {
      if args.values.keys.contains(where: { PacketOptions.valued.contains($0) }) {
        throw Arguments.UsageError(message: "--batch reads packets from the file; give no PACKET options")
      }
      return runBatch(batch, simulator, policy, cli)
    }
    let request = try request(args.values, policy)
    let result = try simulate(simulator, request)
    if args.switches.contains("--json") {
      cli.console.print(SimulationJSON.object(result, topology: policy.topology != nil).text)
    } else {
      cli.console.print(SimulationText(color: useColor(cli)).render(result, request: request))
    }
    return 0
  }

  /// What simulating a dump without a topology takes for granted (DESIGN.md).
  static let plainHostAssumptions = [
    "no topology: a plain host; the destination is local exactly on the input path, no bridge unless --physdev-in/out is given"
  ]

  func request(_ values: [String: String], _ policy: Policy) throws -> Simulator.Request {
    if policy.topology != nil {
      for flag in ["--iif", "--oif", "--physdev-in", "--physdev-out", "--hook"] where values[flag] != nil {
        throw Arguments.UsageError(message: "\(flag) is decided by the policy's topology; use --from NAMESPACE")
      }
    } else if values["--from"] != nil {
      throw Arguments.UsageError(message: "--from needs a policy with a topology")
    }
    do {
      return try PacketOptions.request(values)
    } catch let e as Simulator.RequestError {
      throw Arguments.UsageError(message: e.message)
    }
  }

  func simulate(_ simulator: Simulator, _ request: Simulator.Request) throws -> Simulation {
    do {
      return try simulator.simulate(request)
    } catch let e as Simulator.RequestError {
      throw Arguments.UsageError(message: e.message)
    }
  }

  func runBatch(_ path: String, _ simulator: Simulator, _ policy: Policy, _ cli: CLI) -> Int32 {
    guard let text = cli.source.read(path) else {
      cli.console.error("firebreak: error: cannot read \(path)")
      return 2
    }
    var status: Int32 = 0
    for (n, line) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
      let trimmed = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
      let words = trimmed.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
      if words.isEmpty { continue }
      do {
        let parsed = try Arguments(
          words, spec: Arguments.Spec(valued: PacketOptions.valued, positionals: 0...0, positionalName: ""))
        let result = try simulate(simulator, try request(parsed.values, policy))
        cli.console.print(SimulationJSON.object(result, topology: policy.topology != nil).text)
      } catch {
        cli.console.print(JSON.object([("line", .int(n + 1)), ("error", .string("\(error)"))]).text)
        cli.console.error("\(path):\(n + 1):1: error: \(error)")
        status = 2
      }
    }
    return status
  }

  func useColor(_ cli: CLI) -> Bool {
    if getenv("NO_COLOR") != nil { return false }
    return cli.console.isTerminal
  }
}

/// The JSON contract of `simulate --json`.
enum SimulationJSON {
  static func object(_ s: Simulation, topology: Bool) -> JSON {
    var pairs: [(String, JSON)] = [("verdict", .string(s.verdict.rawValue))]
    pairs.append(("decided_by", s.decidedBy.map { decision($0, topology: topology) } ?? .null))
    pairs.append(("path", .array(s.path.map { .string($0) })))
    pairs.append(("trace", .array(s.trace.map { entry($0, topology: topology) })))
    pairs.append(("assumptions", .array(s.assumptions.map { .string($0) })))
    if let reason = s.reason { pairs.append(("reason", .string(reason))) }
    if topology {
      pairs.append(
        (
          "namespaces",
          .array(namespaceVerdicts(s).map { .object([("namespace", .string($0.0)), ("verdict", .string($0.1))]) })
        ))
    }
    if !s.rewrites.isEmpty {
      pairs.append(
        (
          "rewrites",
          .array(
            s.rewrites.map { r in
              var o: [(String, JSON)] = []
              if topology, let ns = r.namespace { o.append(("namespace", .string(ns))) }
              o.append(("hook", .string(r.hook.rawValue)))
              o.append(("change", .string(r.description)))
              return .object(o)
            })
        ))
    }
    return .object(pairs)
  }

  /// The namespaces the packet crossed, in order, with the outcome in each: it passed every one
  /// but the last, where the final verdict was made.
  static func namespaceVerdicts(_ s: Simulation) -> [(String, String)] {
    var names: [String] = []
    for hop in s.path {
      guard let ns = hop.split(separator: ":").first.map(String.init), hop.contains(":") else { continue }
      if names.last != ns { names.append(ns) }
    }
    return names.enumerated().map { i, ns in (ns, i == names.count - 1 ? s.verdict.rawValue : "accept") }
  }

  static func decision(_ d: Decision, topology: Bool) -> JSON {
    var o: [(String, JSON)] = []
    if topology, let ns = d.namespace { o.append(("namespace", .string(ns))) }
    o += [
      ("family", .string(d.family.rawValue)), ("table", .string(d.table)), ("chain", .string(d.chain)),
      ("index", d.index.map { .int($0) } ?? .null), ("rule", .string(d.rule)), ("hook", .string(d.hook.rawValue)),
    ]
    if let source = d.source { o.append(("source", .string(source.description))) }
    return .object(o)
  }

  static func entry(_ e: TraceEntry, topology: Bool) -> JSON {
    var o: [(String, JSON)] = []
    if topology, let ns = e.namespace { o.append(("namespace", .string(ns))) }
    o += [
      ("hook", .string(e.hook.rawValue)), ("family", .string(e.family.rawValue)), ("table", .string(e.table)),
      ("chain", .string(e.chain)), ("index", e.index.map { .int($0) } ?? .null), ("rule", .string(e.rule)),
      ("matched", .bool(e.matched)), ("action", .string(e.action)),
    ]
    if let source = e.source { o.append(("source", .string(source.description))) }
    return .object(o)
  }
}

/// The human-readable trace.
struct SimulationText {
  var color: Bool

  func paint(_ text: String, _ code: String) -> String { color ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text }

  func render(_ s: Simulation, request: Simulator.Request) -> String {
    var lines: [String] = []
    var head = "packet: \((s.packet ?? request.packet).summary)"
    if let from = request.from { head += " from \(from)" }
    lines.append(head)
    lines.append("path:   " + (s.path.isEmpty ? "(no ip hooks)" : s.path.joined(separator: " → ")))
    let hops = SimulationJSON.namespaceVerdicts(s)
    if hops.count > 1 { lines.append("hops:   " + hops.map { "\($0.0) \($0.1)" }.joined(separator: " → ")) }
    var lastChain = ""
    for e in s.trace {
      let chain = [e.namespace, e.hook.rawValue, e.family.rawValue, e.table, e.chain].compactMap { $0 }.joined(
        separator: " ")
      if chain != lastChain {
        lines.append("  " + paint(chain, "1"))
        lastChain = chain
      }
      let index = e.index.map { "[\($0)]" } ?? "   "
      let location = e.source.map { "  (\($0))" } ?? ""
      let action: String
      switch e.action {
      case "accept": action = paint(e.action, "32")
      case "drop", "reject", "policy drop": action = paint(e.action, "31")
      case "no match": action = paint(e.action, "2")
      default: action = e.action
      }
      lines.append("    \(index) \(e.rule)  → \(action)\(location)")
    }
    for r in s.rewrites {
      lines.append(
        "  nat: " + [r.namespace, r.hook.rawValue].compactMap { $0 }.joined(separator: " ") + ": " + r.description)
    }
    var verdict =
      "verdict: "
      + paint(s.verdict.rawValue.uppercased(), s.verdict == .accept ? "1;32" : s.verdict == .unknown ? "1;33" : "1;31")
    if let d = s.decidedBy {
      let place = [d.namespace, d.family.rawValue, d.table, d.chain].compactMap { $0 }.joined(separator: " ")
      verdict += d.index.map { " by \(place) rule \($0): \(d.rule)" } ?? " by \(place) \(d.rule)"
      if let source = d.source { verdict += " (\(source))" }
    }
    lines.append(verdict)
    if let reason = s.reason { lines.append("reason: \(reason)") }
    for a in s.assumptions { lines.append("assuming: \(a)") }
    return lines.joined(separator: "\n")
  }
}

extension CLI {
  /// Imports a dumped ruleset (`simulate --ruleset`, `import`), printing warnings and errors to stderr; nil when it cannot be used.
  func loadRuleset(_ path: String, format name: String?) throws -> Ruleset? {
    guard let text = source.read(path) else {
      console.error("firebreak: error: cannot read \(path)")
      return nil
    }
    let format: RulesetFormat
    if let name {
      guard let f = RulesetFormat(rawValue: name) else {
        let names = RulesetFormat.allCases.map(\.rawValue).joined(separator: ", ")
        throw Arguments.UsageError(message: "unknown --format '\(name)' (\(names))")
      }
      format = f
    } else {
      guard let f = RulesetFormat.detect(text) else {
        console.error(
          "\(path): error: cannot tell the format of this ruleset; give --format nft, nft-json, iptables-save or ip6tables-save"
        )
        return nil
      }
      format = f
    }
    switch format {
    case .nft:
      // `include` reads where the policy files come from (the disk, or memory in tests).
      let files = (source as? MemorySource).map { NFTIncludeFiles.memory($0.files) } ?? .disk
      let imported = NFTTextImporter(files: files).importRuleset(text, file: path)
      report(imported.diagnostics)
      return imported.hasErrors ? nil : imported.ruleset
    case .nftJSON:
      let imported = NFTJSONImporter().importRuleset(text, file: path)
      report(imported.diagnostics)
      return imported.hasErrors ? nil : imported.ruleset
    case .iptablesSave, .ip6tablesSave:
      let imported = IPTablesSaveImporter(family: format == .ip6tablesSave ? .ip6 : .ip).importRuleset(text, file: path)
      report(imported.diagnostics)
      return imported.hasErrors ? nil : imported.ruleset
    }
  }
}
