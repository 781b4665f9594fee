import IPTablesBackend
import NFTablesBackend
import NetfilterModel
import PolicyLanguage

/// `firebreak compile --backend nft|iptables [--firewall NS] [--family ip|ip6] [-o FILE] POLICY`.
struct CompileCommand: Command {
  static let name = "compile"
  static let spec = Arguments.Spec(
    valued: ["--backend", "--firewall", "--family", "-o", "--output"], positionals: 1...1, positionalName: "POLICY file"
  )
  static let help = """
    Usage: firebreak compile [--backend nft|iptables] [--firewall NS] [--family ip|ip6] [-o FILE] POLICY

    Compiles the policy's firewall to text the standard tools load atomically:
      --backend nft        an nft script (default): nft -f FILE
      --backend iptables   iptables-restore input, and ip6tables-restore input for ip6/inet tables,
                           as headed sections (or separate files with -o)
      --firewall NS        the namespace whose firewall to compile when the policy has several
                           (without it, each firewall is printed under a '# firewall NS' header)
      --family ip|ip6      iptables only: print just the IPv4 or the IPv6 section, ready to pipe
      -o FILE              write to FILE atomically; for iptables the IPv6 part goes to FILE.v6
                           (or to rules.v6 beside rules.v4)
    Constructs a backend cannot express exactly are errors at their policy line.
    Every rule carries its origin as a comment ("lab.policy:17").
    """

  func run(_ args: Arguments, _ cli: CLI) throws -> Int32 {
    let backend = try args.choice("--backend", of: ["nft", "iptables"], default: "nft")
    let family = args.values["--family"]
    if let family {
      guard backend == "iptables" else {
        throw Arguments.UsageError(message: "--family is only for --backend iptables")
      }
      guard family == "ip" || family == "ip6" else {
        throw Arguments.UsageError(message: "--family must be ip or ip6, not '\(family)'")
      }
    }
    let output = args.values["-o"] ?? args.values["--output"]
    let path = args.positionals[0]
    guard let policy = cli.load(path) else { return 2 }
    var firewalls = policy.firewalls
    if let wanted = args.values["--firewall"] {
      guard let fw = policy.firewall(wanted) else {
        let known = policy.firewalls.map(\.namespace).joined(separator: ", ")
        cli.console.error(
          "firebreak: error: \(path) has no firewall for namespace '\(wanted)' (it has: \(known.isEmpty ? "none" : known))"
        )
        return 2
      }
      firewalls = [fw]
    }
    if firewalls.isEmpty {
      cli.console.error("firebreak: error: \(path) declares no table to compile")
      return 2
    }
    if firewalls.count > 1 && output != nil {
      throw Arguments.UsageError(
        message: "\(path) has \(firewalls.count) firewalls; choose one with --firewall to write a file")
    }
    let headed = firewalls.count > 1
    var texts: [(String, String?)] = []  // (main, ipv6 part for iptables -o)
    var failed = false
    for fw in firewalls {
      do {
        switch backend {
        case "nft":
          var text = try NFTScript().compile(fw.ruleset, source: "\(path) (firewall \(fw.namespace))")
          if headed { text = "# firewall \(fw.namespace)\n" + text }
          texts.append((text, nil))
        default:
          let compiled = try IPTablesCompiler().compile(fw.ruleset)
          var text: String
          switch family {
          case "ip": text = compiled.ipv4 ?? ""
          case "ip6": text = compiled.ipv6 ?? ""
          default: text = output != nil ? (compiled.ipv4 ?? "") : compiled.combined
          }
          if headed { text = "# firewall \(fw.namespace)\n" + text }
          texts.append((text, family == nil && output != nil ? compiled.ipv6 : nil))
        }
      } catch let list as DiagnosticList {
        cli.report(list.diagnostics)
        failed = true
      }
    }
    if failed { return 2 }
    if let output {
      let (main, v6) = texts[0]
      try Files.writeAtomically(main, to: output)
      if let v6 {
        let v6Path = output.hasSuffix(".v4") ? String(output.dropLast(3)) + ".v6" : output + ".v6"
        try Files.writeAtomically(v6, to: v6Path)
      }
    } else {
      cli.console.print(texts.map(\.0).joined(separator: "\n"), terminator: "")
    }
    return 0
  }
}
