import Deployment
import Foundation
import IPTablesBackend
import NFTablesBackend
import NFTablesNative
import NetfilterModel
import PolicyLanguage

/// What every deployment command shares: `--netns`, `--state-dir`, `--wait`.
struct DeploymentOptions {
  static let valued: Set<String> = ["--netns", "--state-dir", "--wait"]
  static let help = """
      --netns NS           act in network namespace NS (default: the current one)
      --state-dir DIR      where generations are kept (default /var/lib/firebreak/NS, or …/default)
      --wait SECONDS       wait this long for another command's lock (default: refuse at once, exit 4)
    """

  let target: NamespaceTarget
  let store: StateStore
  let wait: Double

  init(_ args: Arguments) throws {
    target = NamespaceTarget(args.values["--netns"])
    store = StateStore(directory: args.values["--state-dir"] ?? StateStore.defaultDirectory(netns: target.name))
    if let w = args.values["--wait"] {
      guard let seconds = Double(w), seconds >= 0 else {
        throw Arguments.UsageError(message: "--wait needs a number of seconds, not '\(w)'")
      }
      wait = seconds
    } else {
      wait = 0
    }
  }

  func deployer(_ cli: CLI) -> Deployer {
    Deployer(store: store, target: target, lockWait: wait, executable: cli.executable)
  }
}

extension CLI {
  /// Runs a deployment step, turning its failures into the exit statuses of the contract:
  /// 2 invalid input, 3 kernel operation failed (nothing changed), 4 refused for safety.
  func deploying(_ body: () throws -> Int32) -> Int32 {
    do {
      return try body()
    } catch let refusal as Refusal {
      console.error("firebreak: refused: \(refusal)")
      return 4
    } catch let diagnostics as DiagnosticList {
      report(diagnostics.diagnostics)
      return 2
    } catch let e as Arguments.UsageError {
      console.error("firebreak: error: \(e.message)")
      return 2
    } catch StateError.noGeneration(let n) {
      console.error("firebreak: error: there is no generation \(n) (see 'firebreak history')")
      return 2
    } catch let e as NFTKernelError {
      console.error("firebreak: error: \(e) (the kernel was left as it was)")
      return 3
    } catch let e as LibnftablesError {
      console.error("firebreak: error: \(e)\n(the kernel was left as it was)")
      return 3
    } catch {
      console.error("firebreak: error: \(error)")
      return 3
    }
  }
}

/// `firebreak apply [--netns NS] [--backend nft|iptables] [--confirm SECONDS] [--force] POLICY`.
struct ApplyCommand: Command {
  static let name = "apply"
  static let spec = Arguments.Spec(
    valued: DeploymentOptions.valued.union(["--backend", "--firewall", "--confirm", "--keep", "--iif"]),
    switches: ["--force"], positionals: 1...1, positionalName: "POLICY file")
  static let help = """
    Usage: firebreak apply [--netns NS] [--backend nft|iptables] [--firewall NAME] [--confirm SECONDS]
                           [--force] [--keep SRC:PORT] POLICY

    Applies the policy's firewall to the live kernel as one transaction, after showing the plan:
    the rules that change and the flows whose verdict changes. Records a generation before and
    after, so 'firebreak rollback' can restore any of them exactly. A policy with nft "…" parts
    (kept as text) is applied through libnftables, nft's own library, after nft has checked it (a
    refused part is reported at its line, exit 2).
      --backend nft|iptables  how to apply (default nft; iptables uses legacy x_tables)
      --firewall NAME      which firewall of the policy (default: the one named like --netns, else host)
      --confirm SECONDS    arm a watchdog first: unless 'firebreak confirm' runs within SECONDS, the
                           previous generation is restored (even if this process or the SSH session dies)
      --force              apply even when the plan predicts the management connection is cut
      --keep SRC:PORT      a management flow to protect besides $SSH_CONNECTION
    \(DeploymentOptions.help)
    Exit status: 0 applied, 2 invalid policy (nothing changed), 3 the kernel refused (nothing
    changed), 4 refused for safety (lockout, lock held, a confirmation pending).
    """

  func run(_ args: Arguments, _ cli: CLI) throws -> Int32 {
    let options = try DeploymentOptions(args)
    let backend = Backend(rawValue: try args.choice("--backend", of: ["nft", "iptables"], default: "nft"))!
    var confirm: Double?
    if let c = args.values["--confirm"] {
      guard let seconds = Double(c), seconds > 0 else {
        throw Arguments.UsageError(message: "--confirm needs a positive number of seconds, not '\(c)'")
      }
      confirm = seconds
    }
    let path = args.positionals[0]
    guard let (firewall, files) = cli.loadFirewall(path, args.values["--firewall"], netns: options.target.name) else {
      return 2
    }
    let problems = DeployCheck.unsupported(firewall.ruleset, backend: backend)
    if !problems.isEmpty {
      cli.report(problems)
      return 2
    }
    return cli.deploying {
      let deployer = options.deployer(cli)
      let request = Deployer.ApplyRequest(
        policyPath: path, policyFiles: files, firewall: firewall, backend: backend, confirmSeconds: confirm)
      let flows = try cli.managementFlows(args, options.target)
      let force = args.switches.contains("--force")
      let applied = try deployer.apply(request) { before in
        if let drift = before.drift {
          cli.console.print("warning: the live tables differ from generation \(before.generation) (drift):")
          for line in drift.lines.prefix(40) { cli.console.print("  " + line) }
        }
        let plan = Plan(old: before.applied ?? Ruleset(), new: firewall.ruleset, management: flows)
        cli.console.print(plan.text(flowLimit: 20, diffLimit: 40))
        if plan.isLockout {
          guard force else {
            throw Refusal.lockout(
              "the plan predicts the management connection is cut (see above); nothing was changed (--force applies anyway)"
            )
          }
          cli.console.print("--force: applying despite the predicted lockout")
        }
      }
      cli.console.print("applied generation \(applied.generation) (previous: \(applied.previous)) to \(options.target)")
      if let deadline = applied.deadline {
        cli.console.print(
          "confirm with 'firebreak confirm\(options.target.name.map { " --netns \($0)" } ?? "")' before \(DeploymentState.timestamp(deadline)), or generation \(applied.previous) is restored"
        )
      }
      return 0
    }
  }
}

/// `firebreak plan [--netns NS] [--backend nft|iptables] [--keep SRC:PORT] [--json] POLICY`.
struct PlanCommand: Command {
  static let name = "plan"
  static let spec = Arguments.Spec(
    valued: DeploymentOptions.valued.union(["--backend", "--firewall", "--keep", "--iif"]), switches: ["--json"],
    positionals: 1...1, positionalName: "POLICY file")
  static let help = """
    Usage: firebreak plan [--netns NS] [--backend nft|iptables] [--firewall NAME] [--keep SRC:PORT[,...]]
                          [--iif NAME] [--json] POLICY

    What 'firebreak apply' would do, changing nothing: the tables, chains and rules added, removed
    or changed against the generation applied now; the flows whose verdict changes (packets
    derived from both rulesets, run through the verdict engine); and the lockout check: the
    management connection ($SSH_CONNECTION, and each --keep SRC:PORT) under the new ruleset.
      --iif NAME           the interface management traffic arrives on (default: from the routes)
      --json               the plan as one JSON object
    \(DeploymentOptions.help)
    Exit status: 0, or 4 when the plan predicts a lockout; 2 for an invalid policy.
    """

  func run(_ args: Arguments, _ cli: CLI) throws -> Int32 {
    let options = try DeploymentOptions(args)
    let backend = Backend(rawValue: try args.choice("--backend", of: ["nft", "iptables"], default: "nft"))!
    let path = args.positionals[0]
    guard let (firewall, _) = cli.loadFirewall(path, args.values["--firewall"], netns: options.target.name) else {
      return 2
    }
    let problems = DeployCheck.unsupported(firewall.ruleset, backend: backend)
    if !problems.isEmpty {
      cli.report(problems)
      return 2
    }
    let flows = try cli.managementFlows(args, options.target)
    return cli.deploying {
      let state = try options.store.state()
      let old = try state.flatMap { try options.store.generation($0.current).firewall()?.ruleset }
      let plan = Plan(old: old ?? Ruleset(), new: firewall.ruleset, management: flows)
      if args.switches.contains("--json") {
        cli.console.print(PlanCommand.json(plan.record, generation: state?.current).text)
      } else {
        if old == nil {
          cli.console.print("(nothing applied by Firebreak in \(options.target) yet: compared with no firewall)")
        }
        cli.console.print(plan.text)
      }
      return plan.isLockout ? 4 : 0
    }
  }

  static func json(_ r: PlanRecord, generation: Int?) -> JSON {
    func optional(_ s: String?) -> JSON { s.map(JSON.string) ?? .null }
    return .object([
      ("against_generation", generation.map(JSON.int) ?? .null), ("lockout", .bool(r.isLockout)),
      ("lockout_uncertain", .bool(r.isLockoutUncertain)), ("added", .int(r.added)), ("removed", .int(r.removed)),
      ("changed", .int(r.changed)),
      (
        "diff",
        .array(
          r.diff.map {
            .object([
              ("change", .string($0.change)), ("object", .string($0.object)), ("family", .string($0.family)),
              ("table", .string($0.table)), ("name", optional($0.name)), ("index", $0.index.map(JSON.int) ?? .null),
              ("detail", .string($0.detail)), ("source", optional($0.source)), ("text", .string($0.text)),
            ])
          })
      ),
      (
        "flow_changes",
        .array(
          r.flowChanges.map {
            .object([
              ("flow", .string($0.flow)), ("hook", .string($0.hook)), ("old", .string($0.old)),
              ("new", .string($0.new)),
              ("old_reason", optional($0.oldReason)), ("new_reason", optional($0.newReason)),
              ("text", .string($0.text)),
            ])
          })
      ),
      ("flow_change_count", .int(r.flowChangeCount)), ("probe_count", .int(r.probeCount)),
      (
        "management",
        .array(
          r.management.map { m in
            .object([
              ("flow", .string(m.flow)), ("origin", .string(m.origin)), ("outcome", .string(m.outcome)),
              ("lockout", .bool(m.isLockout)),
              (
                "probes",
                .array(
                  m.probes.map {
                    .object([
                      ("name", .string($0.name)), ("packet", .string($0.packet)), ("hook", .string($0.hook)),
                      ("verdict", .string($0.verdict)), ("outcome", .string($0.outcome)),
                      ("reason", optional($0.reason)),
                    ])
                  })
              ),
              ("assumptions", .array(m.assumptions.map(JSON.string))),
            ])
          })
      ),
    ])
  }
}

/// `firebreak confirm [--netns NS]`.
struct ConfirmCommand: Command {
  static let name = "confirm"
  static let spec = Arguments.Spec(valued: DeploymentOptions.valued, positionals: 0...0, positionalName: "")
  static let help = """
    Usage: firebreak confirm [--netns NS]

    Keeps the generation applied with --confirm: its watchdog stands down.
    \(DeploymentOptions.help)
    """

  func run(_ args: Arguments, _ cli: CLI) throws -> Int32 {
    let options = try DeploymentOptions(args)
    return cli.deploying {
      if try options.deployer(cli).confirm() {
        cli.console.print("confirmed")
      } else {
        cli.console.print("nothing is waiting for confirmation")
      }
      return 0
    }
  }
}

/// `firebreak rollback [--netns NS] [--to GENERATION]`.
struct RollbackCommand: Command {
  static let name = "rollback"
  static let spec = Arguments.Spec(
    valued: DeploymentOptions.valued.union(["--to"]), positionals: 0...0, positionalName: "")
  static let help = """
    Usage: firebreak rollback [--netns NS] [--to GENERATION]

    Restores a generation exactly (default: the one before the current): every table Firebreak
    manages here becomes as it was then; other tables are not touched. 'firebreak history' lists
    the generations; 0 is the state before Firebreak's first apply.
    \(DeploymentOptions.help)
    """

  func run(_ args: Arguments, _ cli: CLI) throws -> Int32 {
    let options = try DeploymentOptions(args)
    var to: Int?
    if let t = args.values["--to"] {
      guard let n = Int(t), n >= 0 else {
        throw Arguments.UsageError(message: "--to needs a generation number, not '\(t)'")
      }
      to = n
    }
    return cli.deploying {
      let (from, restored) = try options.deployer(cli).rollback(to: to)
      cli.console.print("restored generation \(restored) (was \(from)) in \(options.target)")
      return 0
    }
  }
}

/// `firebreak status [--netns NS] [--json]`.
struct StatusCommand: Command {
  static let name = "status"
  static let spec = Arguments.Spec(
    valued: DeploymentOptions.valued, switches: ["--json"], positionals: 0...0, positionalName: "")
  static let help = """
    Usage: firebreak status [--netns NS] [--json]

    The current generation, whether it is confirmed or waiting (with the deadline), and drift:
    whether the live tables Firebreak manages still equal what it applied (with the difference).
    Exit status 0; 1 when there is drift.
    \(DeploymentOptions.help)
    """

  func run(_ args: Arguments, _ cli: CLI) throws -> Int32 {
    let options = try DeploymentOptions(args)
    return cli.deploying {
      guard let status = try options.deployer(cli).status() else {
        cli.console.print("nothing applied in \(options.target) yet")
        return 0
      }
      let g = status.current
      if args.switches.contains("--json") {
        cli.console.print(StatusCommand.json(status).text)
        return status.drift == nil ? 0 : 1
      }
      cli.console.print("generation \(g.number): \(g.origin.rawValue), \(g.policyPath ?? "-"), \(g.summary)")
      if let p = status.pending {
        cli.console.print(
          "state: waiting for confirmation until \(DeploymentState.timestamp(p.deadline)) (watchdog pid \(p.watchdogPID) \(status.watchdogAlive ? "running" : "NOT RUNNING"))"
        )
      } else {
        cli.console.print("state: confirmed")
      }
      if let drift = status.drift {
        cli.console.print("drift: the live tables differ from generation \(g.number):")
        for line in drift.lines { cli.console.print("  " + line) }
        return 1
      }
      cli.console.print("drift: none")
      return 0
    }
  }

  static func json(_ s: Deployer.Status) -> JSON {
    .object([
      ("generation", .int(s.current.number)), ("origin", .string(s.current.origin.rawValue)),
      ("policy", s.current.policyPath.map(JSON.string) ?? .null), ("summary", .string(s.current.summary)),
      ("confirmed", .bool(s.confirmed)),
      (
        "pending",
        s.pending.map {
          .object([
            ("deadline", .string(DeploymentState.timestamp($0.deadline))), ("watchdog_pid", .int(Int($0.watchdogPID))),
            ("watchdog_running", .bool(s.watchdogAlive)),
          ])
        } ?? .null
      ),
      ("drift", s.drift.map { .array($0.lines.map(JSON.string)) } ?? .null),
    ])
  }
}

/// `firebreak history [--netns NS]`.
struct HistoryCommand: Command {
  static let name = "history"
  static let spec = Arguments.Spec(
    valued: DeploymentOptions.valued, switches: ["--json"], positionals: 0...0, positionalName: "")
  static let help = """
    Usage: firebreak history [--netns NS] [--json]

    Every generation with its time, how it came about, the policy file and a summary; the current
    one is marked with '*'. Then the recent events (applies, confirmations, rollbacks).
    \(DeploymentOptions.help)
    """

  func run(_ args: Arguments, _ cli: CLI) throws -> Int32 {
    let options = try DeploymentOptions(args)
    return cli.deploying {
      let (generations, current) = try options.deployer(cli).history()
      let events = (try? options.store.state())??.events ?? []
      if args.switches.contains("--json") {
        let list = generations.map { g -> JSON in
          .object([
            ("generation", .int(g.number)), ("created", .string(DeploymentState.timestamp(g.created))),
            ("origin", .string(g.origin.rawValue)), ("policy", g.policyPath.map(JSON.string) ?? .null),
            ("backend", g.backend.map(JSON.string) ?? .null), ("summary", .string(g.summary)),
            ("current", .bool(g.number == current)),
          ])
        }
        cli.console.print(
          JSON.object([("generations", .array(list)), ("events", .array(events.map(JSON.string)))]).text)
        return 0
      }
      if generations.isEmpty {
        cli.console.print("nothing applied in \(options.target) yet")
        return 0
      }
      for g in generations {
        let mark = g.number == current ? "*" : " "
        cli.console.print(
          "\(mark) \(g.number)  \(DeploymentState.timestamp(g.created))  \(g.origin.rawValue)  \(g.policyPath ?? "-")  \(g.backend ?? "")  \(g.summary)"
        )
      }
      if !events.isEmpty {
        cli.console.print("")
        for e in events.suffix(20) { cli.console.print("  " + e) }
      }
      return 0
    }
  }
}

/// `firebreak watchdog --state-dir DIR --token T [--netns NS]`: started by `apply --confirm`, not
/// meant to be run by hand.
struct WatchdogCommand: Command {
  static let name = "watchdog"
  static let spec = Arguments.Spec(
    valued: DeploymentOptions.valued.union(["--token"]), positionals: 0...0, positionalName: "")
  static let help = """
    Usage: firebreak watchdog --state-dir DIR --token TOKEN [--netns NS]

    Internal: the confirm watchdog 'apply --confirm' starts in a session of its own.
    """

  func run(_ args: Arguments, _ cli: CLI) throws -> Int32 {
    let options = try DeploymentOptions(args)
    guard let token = args.values["--token"], args.values["--state-dir"] != nil else {
      throw Arguments.UsageError(message: "watchdog needs --state-dir and --token (it is started by 'apply --confirm')")
    }
    return Watchdog.run(store: options.store, target: options.target, token: token, executable: cli.executable)
  }
}

/// What a backend cannot express, found before anything is locked or changed.
enum DeployCheck {
  static func unsupported(_ ruleset: Ruleset, backend: Backend) -> [Diagnostic] {
    switch backend {
    case .nft: return NFTScript().unsupported(ruleset)
    case .iptables:
      do {
        _ = try IPTablesCompiler().compile(ruleset)
        return []
      } catch let list as DiagnosticList {
        return list.diagnostics
      } catch {
        return [.error("\(error)", at: SourceLocation(file: "-", line: 1, column: 1))]
      }
    }
  }
}

extension CLI {
  /// The management flows the lockout guard protects: `$SSH_CONNECTION` and each `--keep`
  /// (comma-separated), arriving on `--iif` or the interface the routes give.
  func managementFlows(_ args: Arguments, _ target: NamespaceTarget) throws -> [ManagementFlow] {
    let iif = args.values["--iif"]
    var flows: [ManagementFlow] = []
    if let ssh = environment["SSH_CONNECTION"], !ssh.isEmpty {
      flows.append(
        try CLI.flow(
          Result { () throws(ManagementFlowError) in try ManagementFlow(sshConnection: ssh, inputInterface: iif) }))
    }
    for keep in (args.values["--keep"] ?? "").split(separator: ",") {
      flows.append(
        try CLI.flow(
          Result { () throws(ManagementFlowError) in try ManagementFlow(keep: String(keep), inputInterface: iif) }))
    }
    // Without --iif, the interface the routes say the client's packets arrive on.
    if iif == nil {
      for i in flows.indices {
        flows[i].inputInterface = ManagementFlow.arrivalInterface(
          client: flows[i].client.address, server: flows[i].server, in: target)
      }
    }
    return flows
  }

  /// A parsed flow, or its parse error as a usage error (exit 2).
  static func flow(_ parsed: Result<ManagementFlow, ManagementFlowError>) throws -> ManagementFlow {
    switch parsed {
    case .success(let flow): return flow
    case .failure(let e): throw Arguments.UsageError(message: e.message)
    }
  }

  /// Loads a policy recording every file it reads, and picks the firewall to deploy: `--firewall`,
  /// else the one named like the namespace, else `host`. nil (after printing why) when there is none.
  func loadFirewall(_ path: String, _ wanted: String?, netns: String?) -> (Firewall, [String: String])? {
    let recording = RecordingSource(source)
    var resolver = Resolver(source: recording)
    let (loaded, diagnostics) = resolver.resolve(path: path)
    report(diagnostics)
    guard let policy = loaded else { return nil }
    let name = wanted ?? (netns.flatMap { policy.firewall($0) != nil ? $0 : nil } ?? Firewall.defaultNamespace)
    guard let firewall = policy.firewall(name) else {
      let known = policy.firewalls.map(\.namespace).joined(separator: ", ")
      console.error(
        "firebreak: error: \(path) has no firewall '\(name)' (it has: \(known.isEmpty ? "none" : known)); choose one with --firewall"
      )
      return nil
    }
    return (firewall, recording.files)
  }
}
