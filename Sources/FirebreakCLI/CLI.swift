import Foundation
import IPTablesBackend
import NFTablesBackend
import NetfilterModel
import PolicyLanguage
import VerdictEngine

#if canImport(Glibc)
  import Glibc
#endif

/// The `firebreak` command line: parses arguments, runs a subcommand, returns the exit status.
/// Exit codes: 0 success, 1 `fmt --check` found a file to reformat, 2 bad usage or invalid input.
public struct CLI {
  let console: Console
  let source: any PolicySource
  /// This program, for the processes it starts (the confirm watchdog).
  let executable: String
  /// The environment (`SSH_CONNECTION` for the lockout guard).
  let environment: [String: String]

  public init(
    console: Console, source: any PolicySource = FileSource(), executable: String? = nil,
    environment: [String: String] = ProcessInfo.processInfo.environment
  ) {
    self.console = console
    self.source = source
    self.executable = executable ?? CLI.ownExecutable()
    self.environment = environment
  }

  /// The running program's path (`/proc/self/exe` resolved).
  static func ownExecutable() -> String {
    var buffer = [CChar](repeating: 0, count: 4096)
    let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
    return n > 0 ? String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self) : "/proc/self/exe"
  }

  static let overview = """
    firebreak: a netfilter rule manager — policy files to nftables and iptables.

    Usage: firebreak COMMAND [OPTIONS] ARGS

    Commands:
      check POLICY...                          validate policy files; errors as file:line:col
      fmt [--check] [--write] POLICY...        print policies in canonical form
      compile [--backend nft|iptables] [--firewall NS] [--family ip|ip6] [-o FILE] POLICY
                                               compile a policy to an nft script or iptables-restore input
      topology up|down|show [--prefix P] [--format text|dot|svg] POLICY
                                               build, remove or inspect the policy's namespaces and links
      verify [--backend nft|iptables] [--keep] POLICY
                                               prove the policy with real packets in scratch namespaces
      simulate POLICY PACKET [--json] [--batch FILE]
                                               predict the kernel's verdict for a packet, with a trace
      import FILE [--format iptables-save|ip6tables-save] [-o POLICY]
                                               turn a dumped firewall into a policy file
      plan [--netns NS] [--backend nft|iptables] [--keep SRC:PORT] [--json] POLICY
                                               what apply would change: rules, flows, lockout check
      apply [--netns NS] [--backend nft|iptables] [--confirm SECONDS] [--force] POLICY
                                               apply to the live kernel atomically, as a new generation
      confirm [--netns NS]                     keep a generation applied with --confirm
      rollback [--netns NS] [--to GENERATION]  restore a generation exactly
      status [--netns NS]                      current generation, confirmation, drift
      history [--netns NS]                     generations and events

    Run 'firebreak COMMAND --help' for a command's options.
    Exit status: 0 success, 1 fmt --check found differences, 2 bad usage or invalid input,
    3 a kernel operation failed (state restored), 4 refused for safety (lockout, lock held).
    """

  /// Runs `args` (without the program name).
  public func run(_ args: [String]) -> Int32 {
    guard let command = args.first else {
      console.error(CLI.overview)
      return 2
    }
    let rest = Array(args.dropFirst())
    switch command {
    case "-h", "--help", "help":
      console.print(CLI.overview)
      return 0
    case "check": return runCommand(CheckCommand.self, rest)
    case "fmt": return runCommand(FormatCommand.self, rest)
    case "compile": return runCommand(CompileCommand.self, rest)
    case "simulate": return runCommand(SimulateCommand.self, rest)
    case "topology": return runCommand(TopologyCommand.self, rest)
    case "verify": return runCommand(VerifyCommand.self, rest)
    case "plan": return runCommand(PlanCommand.self, rest)
    case "import": return runCommand(ImportCommand.self, rest)
    case "apply": return runCommand(ApplyCommand.self, rest)
    case "confirm": return runCommand(ConfirmCommand.self, rest)
    case "rollback": return runCommand(RollbackCommand.self, rest)
    case "status": return runCommand(StatusCommand.self, rest)
    case "history": return runCommand(HistoryCommand.self, rest)
    case "watchdog": return runCommand(WatchdogCommand.self, rest)
    default:
      console.error("firebreak: error: unknown command '\(command)' (try 'firebreak --help')")
      return 2
    }
  }

  func runCommand(_ command: any Command.Type, _ args: [String]) -> Int32 {
    do {
      let parsed = try Arguments(args, spec: command.spec)
      if parsed.wantsHelp {
        console.print(command.help)
        return 0
      }
      return try command.init().run(parsed, self)
    } catch let e as Arguments.UsageError {
      console.error("firebreak: error: \(e.message) (try 'firebreak \(command.name) --help')")
      return 2
    } catch {
      console.error("firebreak: error: \(error)")
      return 2
    }
  }

  /// Loads a policy, printing its diagnostics to stderr; nil when it has errors.
  func load(_ path: String) -> Policy? {
    var resolver = Resolver(source: source)
    let (policy, diagnostics) = resolver.resolve(path: path)
    report(diagnostics)
    return policy
  }

  func report(_ diagnostics: [Diagnostic]) {
    for d in diagnostics { console.error(d.description) }
  }
}

/// One subcommand.
protocol Command {
  static var name: String { get }
  static var spec: Arguments.Spec { get }
  static var help: String { get }
  init()
  func run(_ args: Arguments, _ cli: CLI) throws -> Int32
}
