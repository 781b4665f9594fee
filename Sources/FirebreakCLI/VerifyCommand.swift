import Dispatch
import NetfilterModel
import PolicyLanguage
import Topology
import Verification

#if canImport(Glibc)
  import Glibc
#endif

/// `firebreak verify [--backend nft|iptables] [--prefix P] [--keep] POLICY`.
struct VerifyCommand: Command {
  static let name = "verify"
  static let spec = Arguments.Spec(
    valued: ["--backend", "--prefix"], switches: ["--keep"], positionals: 1...1, positionalName: "POLICY file")
  static let help = """
    Usage: firebreak verify [--backend nft|iptables] [--prefix NAME] [--keep] POLICY

    Proves the policy on this kernel: brings its topology up in scratch namespaces (named
    PREFIX + the declared name; default prefix fbv-<random>-), applies every firewall, and for
    every ordered pair of namespaces with addresses sends real probes — ARP, ICMP echo (and its
    reply), TCP SYN and UDP to every port the rules mention and to one they do not — and compares
    what arrived with what 'simulate' predicts. Prints flow, predicted, observed and the deciding
    rule. Everything is torn down afterwards, also on failure or Ctrl-C (unless --keep).
    Needs root. Exit status: 0 every probe agrees, 1 some disagree, 2 bad input, 3 a kernel
    operation failed.
    """

  /// What Ctrl-C must remove (set while a run is in progress).
  nonisolated(unsafe) static var cleanup: TopologyManager?

  func run(_ args: Arguments, _ cli: CLI) throws -> Int32 {
    let backend = try args.choice("--backend", of: ["nft", "iptables"], default: "nft")
    let prefix = try TopologyCommand.validPrefix(args.values["--prefix"]) ?? "fbv-\(UInt32.random(in: 0...0xffffff))-"
    guard let policy = cli.load(args.positionals[0]) else { return 2 }
    guard policy.topology != nil else {
      cli.console.error("firebreak: error: \(args.positionals[0]) has no topology block to verify in")
      return 2
    }
    let verifier = try Verifier(policy: policy, prefix: prefix)
    let keep = args.switches.contains("--keep")
    VerifyCommand.cleanup = keep ? nil : verifier.manager
    // Ctrl-C or a kill: remove the scratch namespaces, then exit as the signal would.
    let sources = [SIGINT, SIGTERM, SIGHUP].map { number in
      let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
      signal(number, SIG_IGN)
      source.setEventHandler {
        if let manager = VerifyCommand.cleanup { _ = try? manager.down() }
        exit(128 + number)
      }
      source.resume()
      return (number, source)
    }
    defer {
      for (number, source) in sources {
        source.cancel()
        signal(number, SIG_DFL)
      }
      if !keep { verifier.tearDown() }
      VerifyCommand.cleanup = nil
    }
    let outcomes: [Verifier.Outcome]
    do {
      try verifier.prepare(backend: backend == "nft" ? .nft : .iptables)
      outcomes = try verifier.run()
    } catch let e as NetlinkError {
      cli.console.error("firebreak: error: \(e)")
      return 3
    }
    let width = outcomes.map(\.probe.description.count).max() ?? 10
    cli.console.print(
      "flow".padding(width) + "  predicted  observed   deciding rule")
    for o in outcomes {
      let mark = o.agrees ? "" : "   ← DISAGREES"
      cli.console.print(
        o.probe.description.padding(width) + "  " + (o.predicted ? "pass" : "blocked").padding(9) + "  "
          + (o.observed ? "pass" : "blocked").padding(9) + "  " + o.because + mark)
    }
    let agreeing = outcomes.filter(\.agrees).count
    cli.console.print(
      "\(agreeing)/\(outcomes.count) probes agree (backend \(backend)\(keep ? "; namespaces kept: \(prefix)*" : ""))")
    return agreeing == outcomes.count ? 0 : 1
  }
}

extension String {
  func padding(_ width: Int) -> String { count >= width ? self : self + String(repeating: " ", count: width - count) }
}
